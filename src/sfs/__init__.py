"""Secure File Sync: a self-hosted, multi-tenant file sync and share service."""

__version__ = "0.1.0"
