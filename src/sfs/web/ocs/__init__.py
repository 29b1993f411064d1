"""The Nextcloud client protocol around WebDAV: status.php, OCS (capabilities, user, app
passwords) and Login Flow v2."""
