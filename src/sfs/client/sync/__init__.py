"""`sfs sync`: keep a folder and a space identical, both ways.

Split as Syncthing's `lib/` is: `reconcile` (pure decisions) knows nothing of disks or HTTP;
`scanner`, `index` and `local` deal with the folder; `remote` with the server; only `engine`
orchestrates.
"""
