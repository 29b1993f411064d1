"""The client side: the REST API client, saved credentials, transfers. Imports only sfs.protocol."""
