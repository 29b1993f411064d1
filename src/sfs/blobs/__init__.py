"""Encrypted chunk storage over pluggable blob backends (local folder, S3, memory)."""
