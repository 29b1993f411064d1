"""Mailers: a local outbox folder (the embedded default) and SMTP."""
