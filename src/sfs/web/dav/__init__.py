"""The WebDAV door: RFC 4918 over the file services (see app.py)."""
