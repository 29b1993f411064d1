"""The wire protocol, pure and shared with the sync client: names, chunking, chunk ids."""
