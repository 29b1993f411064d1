"""The exit codes of every `sfs` command, in one table so that the same trouble gives the same
code whichever command meets it (a revoked login is 5 in `sfs ls` and in `sfs sync` alike).
README.md ("Exit codes") prints the same table."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # anything else: the server unreachable, a path that failed to sync, …
EXIT_INVALID = 2  # bad input: a wrong argument, a folder that does not exist, a wrong space
EXIT_NOT_FOUND = 3  # no such file, account, organisation; no data folder for `sfs admin`
EXIT_EXISTS = 4  # already exists
EXIT_DENIED = 5  # not allowed: not logged in, the login revoked or expired, no permission
EXIT_CONFLICT = 6  # the file changed on the server while you uploaded it
EXIT_WIPED = 7  # this device was wiped remotely
EXIT_CONFIG = 78  # the server's configuration is not valid
