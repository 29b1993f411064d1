"""HTTP adapters: the portal (HTML), the REST API; later WebDAV."""
