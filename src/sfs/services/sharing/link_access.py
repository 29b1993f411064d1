"""Share links, the visitor's side: open a link, give its password, list, download, ZIP, drop.

Every call starts from the token and checks the whole link again: it exists (unknown tokens
are counted per address, like wrong passwords), is not revoked, expired or used up, its
organisation's current policy still allows it, its creator is still active and may still read
the space, and its file or folder is still there. A visitor then acts as the creator would,
but only below the linked node: sub-paths are parsed by the same name rules as every door, so
`..` and absolute paths are refused before any lookup.

A password, once given, is proven by an access key: an HMAC of the link and its password hash,
kept by the browser in a cookie scoped to the link. A new password (or none) voids old keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sfs.auth.password_policy import MAX_LENGTH
from sfs.auth.secrets import digest
from sfs.auth.throttle import RateLimiter, RateLimiters
from sfs.crypto.passwords import PasswordHasher
from sfs.crypto.secret_box import KeyedDigest
from sfs.domain.actor import Actor, ClientInfo
from sfs.domain.audit import AuditEventType
from sfs.domain.errors import (
    AuthenticationFailed,
    InvalidInput,
    LinkGone,
    LinkPasswordRequired,
    NotFound,
    PermissionDenied,
    RangeNotSatisfiable,
    TooManyAttempts,
)
from sfs.i18n import N_
from sfs.metadata.db import Database
from sfs.metadata.file_models import Node
from sfs.metadata.link_models import ShareLink
from sfs.metadata.models import User
from sfs.ports import Clock
from sfs.protocol.paths import join_path
from sfs.services.audit import AuditLog
from sfs.services.files.content import ByteRange, Download, FileContentService
from sfs.services.files.nodes import (
    FILE,
    FOLDER,
    NodeView,
    checked_name,
    parse_path,
    path_of,
    resolve,
)
from sfs.services.files.spaces import visible_space
from sfs.services.files.tree import FileTreeService
from sfs.services.identity.actors import actor_of
from sfs.services.sharing.link_mail import LinkMail
from sfs.services.sharing.link_policy import load_policy
from sfs.services.sharing.links import link_state
from sfs.services.sharing.zip_stream import ZipEntry, stream_zip
from sfs.services.sharing.zip_walk import walk_folder

# A folder's ZIP holds at most this much: enough for a real hand-over, not a way to pull a
# whole account through one anonymous request. Over it: 413 and a clear page.
ZIP_MAX_BYTES = 4 * 1024**3
ZIP_MAX_ENTRIES = 10_000
GONE = N_("This link has expired, was revoked, or has been used up.")
UNKNOWN = N_("This link does not exist.")
WRONG_PASSWORD = N_("The password is not right.")
# Which bytes of a file a visitor asks for, given the file (the door reads its Range header).
RangeChoice = Callable[[NodeView], ByteRange | None]
# Names for a dropped file whose name is taken: "report (2).pdf", ... never an overwrite.
MAX_SUFFIX = 1000


@dataclass(frozen=True)
class LinkInfo:
    """What a visitor may know about a link (never the owner's path above the linked node)."""

    id: uuid.UUID
    kind: str
    name: str
    size: int
    modified_at: datetime
    upload_only: bool
    can_edit: bool
    has_password: bool
    expires_at: datetime | None
    downloads_left: int | None
    owner_name: str


@dataclass(frozen=True)
class _Live:
    link: ShareLink
    owner: Actor
    owner_language: str | None
    base: list[str]  # the linked node's path in its space
    info: LinkInfo


class LinkAccessService:
    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        clock: Clock,
        hasher: PasswordHasher,
        limiters: RateLimiters,
        keys: KeyedDigest,
        tree: FileTreeService,
        content: FileContentService,
        mail: LinkMail,
        *,
        zip_max_bytes: int = ZIP_MAX_BYTES,
        zip_max_entries: int = ZIP_MAX_ENTRIES,
    ) -> None:
        self._database = database
        self._audit = audit
        self._clock = clock
        self._hasher = hasher
        self._limiters = limiters
        self._keys = keys
        self._tree = tree
        self._content = content
        self._mail = mail
        self.zip_max_bytes = zip_max_bytes
        self.zip_max_entries = zip_max_entries

    # -- the link itself -------------------------------------------------------------------

    def info(self, token: str, *, client: ClientInfo) -> LinkInfo:
        """What the link page shows before any password (NotFound, LinkGone otherwise)."""
        return self._live(token, client).info

    def unlock(self, token: str, password: str, *, client: ClientInfo) -> str:
        """The access key for a link's password; guesses are throttled per link and address."""
        live = self._live(token, client)
        stored = live.link.password_hash
        if stored is None:
            return self._access_key(live.link)
        link_key, address_key = str(live.link.id), client.address or "unknown"
        self._refuse_when_throttled(
            [(self._limiters.link_password, link_key), (self._limiters.link_address, address_key)],
            live.link.organization_id,
            client,
        )
        if len(password) > MAX_LENGTH:
            self._hasher.burn_time(password)
        elif self._hasher.verify(stored, password):
            self._limiters.link_password.clear(link_key)
            return self._access_key(live.link)
        self._limiters.link_password.hit(link_key)
        self._limiters.link_address.hit(address_key)
        with self._database.transaction() as session:
            self._audit.record(
                session,
                AuditEventType.SHARE_LINK_PASSWORD_FAILED,
                organization_id=live.link.organization_id,
                client=client,
                link_id=str(live.link.id),
            )
        raise AuthenticationFailed(WRONG_PASSWORD)

    def needs_password(self, token: str, access_key: str | None, *, client: ClientInfo) -> bool:
        live = self._live(token, client)
        return not self._unlocked(live.link, access_key)

    # -- reading ---------------------------------------------------------------------------

    def listing(
        self, token: str, access_key: str | None, sub_path: str, *, client: ClientInfo
    ) -> list[NodeView]:
        """A folder below a folder link; paths in the answer are relative to the link."""
        live = self._readable(token, access_key, client)
        parts = _sub_parts(sub_path)
        if live.info.kind != FOLDER:
            raise NotFound(N_("No such folder."))
        children = self._tree.list_folder(
            live.owner, space_id=live.link.space_id, path=join_path(live.base + parts)
        )
        return [_relative(child, len(live.base)) for child in children]

    def download(
        self,
        token: str,
        access_key: str | None,
        sub_path: str,
        *,
        client: ClientInfo,
        choose_range: RangeChoice | None = None,
    ) -> Download:
        """One file: the linked file, or one below a folder link, whole or one byte range.

        Only a request that starts at byte 0 (the whole file, or its first part) counts as a
        download: a client resuming or fetching the rest in pieces is one download, not one
        per piece. Every request still needs a live link, so once the limit is reached even a
        resume of the last download is refused (410)."""
        live = self._readable(token, access_key, client)
        path = self._file_path(live, sub_path)
        node = self._tree.stat(live.owner, space_id=live.link.space_id, path=path)
        if node.kind != FILE:
            raise NotFound(N_("No such file."))
        byte_range = choose_range(_relative(node, len(live.base))) if choose_range else None
        if byte_range is not None:
            if byte_range.start >= node.size or byte_range.end < byte_range.start:
                raise RangeNotSatisfiable(size=node.size)
            byte_range = ByteRange(byte_range.start, min(byte_range.end, node.size - 1))
        if byte_range is None or byte_range.start == 0:
            self._count_download(live, client, path=path, what="file")
        download = self._content.download(
            live.owner, space_id=live.link.space_id, path=path, byte_range=byte_range
        )
        return Download(_relative(download.node, len(live.base)), download.body, byte_range)

    def preview(
        self, token: str, access_key: str | None, sub_path: str, *, client: ClientInfo
    ) -> Download:
        """A file shown in the page; refused on a link with a download limit, since a preview
        hands out the whole file without counting."""
        live = self._readable(token, access_key, client)
        if live.link.max_downloads is not None:
            raise PermissionDenied(N_("This link shows no previews: its downloads are counted."))
        path = self._file_path(live, sub_path)
        download = self._content.download(live.owner, space_id=live.link.space_id, path=path)
        return Download(_relative(download.node, len(live.base)), download.body, None)

    def zip_folder(
        self, token: str, access_key: str | None, sub_path: str, *, client: ClientInfo
    ) -> tuple[str, Iterator[bytes]]:
        """(archive name, its bytes as they are made) for a folder below a folder link.

        The folder is walked first, so a folder over the limits is refused (TooLarge) before
        a byte is sent, and counts as one download."""
        live = self._readable(token, access_key, client)
        if live.info.kind != FOLDER:
            raise NotFound(N_("No such folder."))
        parts = _sub_parts(sub_path)
        entries = self._walk(live, parts)
        self._count_download(live, client, path=join_path(live.base + parts), what="zip")
        top = parts[-1] if parts else (live.info.name or "files")
        space_id, owner, root = live.link.space_id, live.owner, live.base + parts

        def open_entry(entry: ZipEntry) -> Iterable[bytes]:
            path = join_path(root + list(entry.parts))
            try:
                return self._content.download(owner, space_id=space_id, path=path).body
            except NotFound:
                return []  # deleted since the walk: an empty entry, not a broken archive

        return f"{top}.zip", stream_zip(entries, open_entry)

    def _walk(self, live: _Live, parts: list[str]) -> list[ZipEntry]:
        with self._database.transaction() as session:
            space = visible_space(session, live.owner, live.link.space_id)
            folder = resolve(session, space, live.base + parts)
            if folder.kind != FOLDER:
                raise NotFound(N_("No such folder."))
            return walk_folder(
                session, folder, max_entries=self.zip_max_entries, max_bytes=self.zip_max_bytes
            )

    # -- adding ----------------------------------------------------------------------------

    def upload(
        self,
        token: str,
        access_key: str | None,
        *,
        name: str,
        source: Iterable[bytes],
        client: ClientInfo,
        declared_size: int | None = None,
    ) -> str:
        """A new file in the linked folder, under a free name (never an overwrite); returns the
        name it got. Counts against the link creator's quota, as their own upload would."""
        live = self._live(token, client)
        if not self._unlocked(live.link, access_key):
            raise LinkPasswordRequired(N_("This link needs its password."))
        if live.info.kind != FOLDER or not (live.link.upload_only or live.link.can_edit):
            raise PermissionDenied(N_("This link does not take uploads."))
        wanted = checked_name(name)
        blocks = iter(source)
        free = self._free_name(live, wanted)
        stored = self._content.upload(
            live.owner,
            space_id=live.link.space_id,
            path=join_path([*live.base, free]),
            source=blocks,
            modified_at=self._clock.now(),
            base_version=None,
            client=client,
            declared_size=declared_size,
            device_name="share link",
        )
        with self._database.transaction() as session:
            self._audit.record(
                session,
                AuditEventType.SHARE_LINK_UPLOADED,
                organization_id=live.link.organization_id,
                client=client,
                target_user_id=live.owner.user_id,
                target_email=live.owner.email,
                link_id=str(live.link.id),
                path=stored.path,
                size=stored.size,
            )
        if live.link.notify_owner:
            self._mail.activity(
                live.owner.user_id, uploaded=True, name=stored.name, address=client.address
            )
        return stored.name

    def _free_name(self, live: _Live, wanted: str) -> str:
        with self._database.transaction() as session:
            space = visible_space(session, live.owner, live.link.space_id)
            folder = resolve(session, space, live.base)
            taken = {
                name.casefold()
                for name in session.scalars(
                    select(Node.name).where(Node.parent_id == folder.id, Node.deleted_at.is_(None))
                )
            }
        if wanted.casefold() not in taken:
            return wanted
        stem, dot, extension = wanted.rpartition(".")
        if not stem:
            stem, dot, extension = wanted, "", ""
        for number in range(2, MAX_SUFFIX):
            candidate = checked_name(f"{stem} ({number}){dot}{extension}")
            if candidate.casefold() not in taken:
                return candidate
        raise InvalidInput(N_("Too many files of this name here already."), field="name")

    # -- the checks every call makes -------------------------------------------------------

    def _readable(self, token: str, access_key: str | None, client: ClientInfo) -> _Live:
        live = self._live(token, client)
        if not self._unlocked(live.link, access_key):
            raise LinkPasswordRequired(N_("This link needs its password."))
        if live.link.upload_only:
            raise PermissionDenied(N_("This link only takes uploads: its files are not shown."))
        return live

    def _file_path(self, live: _Live, sub_path: str) -> str:
        parts = _sub_parts(sub_path)
        if live.info.kind == FILE and parts:
            raise NotFound(N_("No such file."))
        return join_path(live.base + parts)

    def _live(self, token: str, client: ClientInfo) -> _Live:
        address_key = client.address or "unknown"
        self._refuse_when_throttled(
            [(self._limiters.link_guess_address, address_key)], None, client
        )
        now = self._clock.now()
        with self._database.transaction() as session:
            row = (
                session.scalars(
                    select(ShareLink).where(ShareLink.token_digest == digest(token))
                ).one_or_none()
                if 20 <= len(token) <= 100
                else None
            )
            if row is None:
                self._limiters.link_guess_address.hit(address_key)
                raise NotFound(UNKNOWN)
            node = session.get(Node, row.node_id)
            owner = session.get(User, row.created_by)
            policy = load_policy(session, row.organization_id)
            if (
                link_state(row, node, now) != "live"
                or node is None
                or owner is None
                or owner.status != "active"
                or owner.organization_id != row.organization_id
                or not policy.links_allowed
                or (policy.password_required and row.password_hash is None)
                or (row.upload_only and not policy.upload_only_allowed)
                or (
                    policy.max_expiry_days is not None
                    and now >= row.created_at + timedelta(days=policy.max_expiry_days + 1)
                )
            ):
                raise LinkGone(GONE)
            actor = actor_of(owner)
            try:
                space = visible_space(session, actor, row.space_id)
            except NotFound:
                raise LinkGone(GONE) from None
            if not _is_live(session, node, space.root_node_id):
                raise LinkGone(GONE)
            base = path_of(session, node)
            session.expunge(row)
            info = LinkInfo(
                id=row.id,
                kind=node.kind,
                name=node.name,
                size=node.size,
                modified_at=node.modified_at,
                upload_only=row.upload_only,
                can_edit=row.can_edit,
                has_password=row.password_hash is not None,
                expires_at=row.expires_at,
                downloads_left=(
                    None if row.max_downloads is None else row.max_downloads - row.download_count
                ),
                owner_name=owner.display_name,
            )
            return _Live(row, actor, owner.language, parse_path(base), info)

    def _unlocked(self, link: ShareLink, access_key: str | None) -> bool:
        if link.password_hash is None:
            return True
        return access_key is not None and self._keys.matches(
            f"{link.id}:{link.password_hash}", access_key
        )

    def _access_key(self, link: ShareLink) -> str:
        return self._keys.digest(f"{link.id}:{link.password_hash}")

    def _count_download(self, live: _Live, client: ClientInfo, *, path: str, what: str) -> None:
        link = live.link
        with self._database.transaction() as session:
            counted = session.execute(
                update(ShareLink)
                .where(
                    ShareLink.id == link.id,
                    (ShareLink.max_downloads.is_(None))
                    | (ShareLink.download_count < ShareLink.max_downloads),
                )
                .values(download_count=ShareLink.download_count + 1)
            ).rowcount  # type: ignore[attr-defined]
            if not counted:
                raise LinkGone(GONE)  # the last download went to someone else meanwhile
            self._audit.record(
                session,
                AuditEventType.SHARE_LINK_DOWNLOADED,
                organization_id=link.organization_id,
                client=client,
                target_user_id=live.owner.user_id,
                target_email=live.owner.email,
                link_id=str(link.id),
                path=path,
                what=what,
            )
        if link.notify_owner:
            name = path.rsplit("/", 1)[-1] or live.info.name
            self._mail.activity(
                live.owner.user_id, uploaded=False, name=name, address=client.address
            )

    def _refuse_when_throttled(
        self,
        checks: list[tuple[RateLimiter, str]],
        organization_id: uuid.UUID | None,
        client: ClientInfo,
    ) -> None:
        blocked = [(limiter, key) for limiter, key in checks if not limiter.test(key)]
        if not blocked:
            return
        retry_after = max(limiter.resets_in(key) for limiter, key in blocked)
        with self._database.transaction() as session:
            self._audit.record(
                session,
                AuditEventType.SHARE_LINK_THROTTLED,
                organization_id=organization_id,
                client=client,
                limiters=[limiter.name for limiter, _ in blocked],
            )
        raise TooManyAttempts(retry_after_seconds=retry_after)


def _sub_parts(sub_path: str) -> list[str]:
    """A path below the link: the same name rules as everywhere, so no `..`, no `/x`."""
    if sub_path.startswith("/") or "\\" in sub_path:
        raise InvalidInput(N_("A path below a link must be relative."), field="path")
    return parse_path(sub_path) if sub_path else []


def _relative(node: NodeView, depth: int) -> NodeView:
    """The node as seen from the link's own folder: its path below it, all else as it is."""
    return replace(node, path=join_path(parse_path(node.path)[depth:]))


def _is_live(session: Session, node: Node, root_id: uuid.UUID) -> bool:
    """The node and every folder above it are out of the trash."""
    current: Node | None = node
    while current is not None:
        if current.deleted_at is not None:
            return False
        if current.id == root_id or current.parent_id is None:
            return True
        current = session.get(Node, current.parent_id)
    return False
