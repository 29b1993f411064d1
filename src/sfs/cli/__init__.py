"""The `sfs` command."""
