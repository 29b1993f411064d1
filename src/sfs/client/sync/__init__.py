"""`sfs sync`: keep a folder and a space identical, both ways.

Split as Syncthing's `lib/` is: `reconcile` (pure decisions) knows nothing of disks or HTTP;
`scanner`, `index` and `folder_fs` deal with the folder; `remote` with the server; only `engine`
orchestrates. What a pass carries out is apart from it, as Syncthing's puller and sender are
from its model: `uploads` (and the chunk-batch thread in `sender`), `downloads` (and resumable
partial downloads in `partials`); `workspace`, `errors` and `report` are what they all share.
"""
