"""The server-rendered web portal."""
