"""Cryptographic building blocks; all primitives come from argon2-cffi and cryptography."""
