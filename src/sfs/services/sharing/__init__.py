"""Who may reach what beyond their own files: groups, team folders and (next) shares and links."""
