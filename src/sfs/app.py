"""The composition root: builds stores and services from settings, once."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from sfs.auth.concurrency import RedisGauge
from sfs.auth.throttle import RateLimiters
from sfs.blobs.backend import BlobBackend
from sfs.blobs.chunk_store import ChunkStore
from sfs.blobs.from_url import backend_from_settings
from sfs.blobs.metered import MeteredBackend
from sfs.broadcast import broadcast_from_settings
from sfs.config import Settings
from sfs.crypto.master_key import load_or_create_master_key
from sfs.crypto.passwords import HashParameters, PasswordHasher
from sfs.crypto.secret_box import KeyedDigest, SecretBox
from sfs.mail.outbox import OutboxMailer
from sfs.mail.smtp import SmtpMailer, SmtpTarget
from sfs.metadata import migrate
from sfs.metadata.db import Database
from sfs.observability.metrics import Metrics
from sfs.ports import (
    ChangeBroadcast,
    Clock,
    ConcurrencyGauge,
    Mailer,
    Randomness,
    SystemClock,
    SystemRandomness,
)
from sfs.private_files import make_private_folder
from sfs.services.audit import AuditLog
from sfs.services.files.browsing import FileBrowsingService
from sfs.services.files.changes import ChangeFeed, ChangeSignal
from sfs.services.files.content import FileContentService
from sfs.services.files.dav_listing import DavListingService
from sfs.services.files.listing import FolderListingService
from sfs.services.files.locks import LockService
from sfs.services.files.manifest_deltas import ManifestDeltaService
from sfs.services.files.properties import PropertyService
from sfs.services.files.retention import RetentionService
from sfs.services.files.selection_zip import SelectionZipService
from sfs.services.files.spaces import TOUCHED_SPACES, SpaceService
from sfs.services.files.thumbnails import ThumbnailService
from sfs.services.files.tree import FileTreeService
from sfs.services.files.upload_sessions import UploadSessionService
from sfs.services.files.upload_slots import InProcessGauge, UploadSlots
from sfs.services.files.versions import FileVersionService
from sfs.services.files.write_checks import WriteCheckService
from sfs.services.identity.account_admin import AccountAdministration
from sfs.services.identity.accounts import AccountService
from sfs.services.identity.app_passwords import AppPasswordService
from sfs.services.identity.client_passwords import ClientPasswordService
from sfs.services.identity.device_mail import DeviceMail
from sfs.services.identity.device_tokens import DeviceTokenService
from sfs.services.identity.device_wipe import DeviceWipeService
from sfs.services.identity.devices import DeviceService
from sfs.services.identity.email_codes import EmailCodeService
from sfs.services.identity.invitations import InvitationService
from sfs.services.identity.languages import LanguagePreferences
from sfs.services.identity.login import LoginService
from sfs.services.identity.login_flow import LoginFlowService
from sfs.services.identity.my_account import MyAccountService
from sfs.services.identity.password_reset import PasswordResetService
from sfs.services.identity.second_factor import SecondFactorService
from sfs.services.identity.verified_credentials import VerifiedCredentials
from sfs.services.identity.web_sessions import WebSessionService
from sfs.services.jobs.leases import JobLeases
from sfs.services.notifications import Notifier
from sfs.services.organisations.bootstrap import (
    InitialCredentials,
    create_initial_accounts,
)
from sfs.services.organisations.organisations import OrganisationService
from sfs.services.organisations.provider import ProviderConsole
from sfs.services.overview import OverviewService
from sfs.services.sharing.files_root import FilesRootService
from sfs.services.sharing.groups import GroupService
from sfs.services.sharing.link_access import LinkAccessService
from sfs.services.sharing.link_mail import LinkMail
from sfs.services.sharing.link_policy import LinkPolicyService
from sfs.services.sharing.links import ShareLinkService
from sfs.services.sharing.share_numbers import ShareNumbers
from sfs.services.sharing.sharees import ShareeSearch
from sfs.services.sharing.shares import ShareService
from sfs.services.sharing.team_folders import TeamFolderService
from sfs.services.storage.keyring import Keyring


@dataclass(frozen=True)
class Services:
    settings: Settings
    master_key: bytes
    database: Database
    clock: Clock
    randomness: Randomness
    mailer: Mailer
    notifier: Notifier
    broadcast: ChangeBroadcast
    change_signal: ChangeSignal
    metrics: Metrics
    job_leases: JobLeases
    audit: AuditLog
    organisations: OrganisationService
    accounts: AccountService
    login: LoginService
    web_sessions: WebSessionService
    device_tokens: DeviceTokenService
    account_admin: AccountAdministration
    invitations: InvitationService
    my_account: MyAccountService
    email_codes: EmailCodeService
    second_factor: SecondFactorService
    password_reset: PasswordResetService
    spaces: SpaceService
    groups: GroupService
    overview: OverviewService
    team_folders: TeamFolderService
    files_root: FilesRootService
    sharees: ShareeSearch
    share_numbers: ShareNumbers
    shares: ShareService
    file_tree: FileTreeService
    file_versions: FileVersionService
    manifest_deltas: ManifestDeltaService
    chunk_store: ChunkStore
    keyring: Keyring
    file_content: FileContentService
    changes: ChangeFeed
    retention: RetentionService
    provider: ProviderConsole
    languages: LanguagePreferences
    app_passwords: AppPasswordService
    client_passwords: ClientPasswordService
    login_flows: LoginFlowService
    listing: FolderListingService
    dav_listings: DavListingService
    write_checks: WriteCheckService
    properties: PropertyService
    locks: LockService
    upload_slots: UploadSlots
    devices: DeviceService
    device_wipe: DeviceWipeService
    upload_sessions: UploadSessionService
    share_links: ShareLinkService
    link_access: LinkAccessService
    link_policy: LinkPolicyService
    browsing: FileBrowsingService
    selection_zip: SelectionZipService
    thumbnails: ThumbnailService


def build_services(
    settings: Settings,
    *,
    database: Database | None = None,
    clock: Clock | None = None,
    randomness: Randomness | None = None,
    mailer: Mailer | None = None,
    hasher: PasswordHasher | None = None,
    limiters: RateLimiters | None = None,
    master_key: bytes | None = None,
    blob_backend: BlobBackend | None = None,
    broadcast: ChangeBroadcast | None = None,
    metrics: Metrics | None = None,
) -> Services:
    randomness = randomness or SystemRandomness()
    make_private_folder(settings.data_dir)  # 0700, and tightened if an older start made it
    if master_key is None:
        master_key = load_or_create_master_key(settings.master_key_path, randomness)
    database = database or Database.from_url(settings.database_url)
    clock = clock or SystemClock()
    mailer = mailer or default_mailer(settings)
    hasher = hasher or PasswordHasher(
        HashParameters(
            time_cost=settings.password_hash_time_cost,
            memory_kib=settings.password_hash_memory_kib,
            parallelism=settings.password_hash_parallelism,
        )
    )
    limiters = limiters or RateLimiters.from_storage_uri(settings.rate_limit_storage)
    metrics = metrics or Metrics()
    audit = AuditLog(database, clock, metrics)
    notifier = Notifier(mailer, sender=settings.mail_from, base_url=settings.base_url)
    organisations = OrganisationService(database, audit, clock, default_region=settings.region)
    invitations = InvitationService(database, audit, clock, randomness, hasher, notifier)
    file_versions = FileVersionService(database, clock)
    change_signal = ChangeSignal()
    broadcast = broadcast or broadcast_from_settings(settings)
    _announce_commits(database, change_signal, broadcast)
    chunk_store = ChunkStore(
        MeteredBackend(
            blob_backend or backend_from_settings(settings),
            lambda operation: metrics.blob_errors.labels(operation=operation).inc(),
        )
    )
    _watch(metrics, database, change_signal)
    keyring = Keyring(database, clock, randomness, master_key)
    email_codes = EmailCodeService(
        database,
        audit,
        clock,
        randomness,
        notifier,
        KeyedDigest.for_purpose(master_key, "email-codes"),
    )
    second_factor = SecondFactorService(
        database,
        audit,
        clock,
        randomness,
        hasher,
        limiters,
        email_codes,
        notifier,
        SecretBox.for_purpose(master_key, "totp-secrets"),
        deployment_region=settings.region,
    )
    device_mail = DeviceMail(database, notifier)
    credential_ttl = timedelta(seconds=settings.credential_cache_seconds)
    device_tokens = DeviceTokenService(
        database,
        audit,
        clock,
        randomness,
        idle_days=settings.device_token_idle_days,
        mail=device_mail,
        verified=VerifiedCredentials(database, clock, ttl=credential_ttl),
    )
    login = LoginService(database, audit, clock, hasher, limiters)
    app_passwords = AppPasswordService(database, audit, clock, randomness, device_tokens)
    file_tree = FileTreeService(database, clock)
    file_content = FileContentService(chunk_store, keyring, file_versions)
    spaces = SpaceService(database, clock)
    return Services(
        settings=settings,
        master_key=master_key,
        database=database,
        clock=clock,
        randomness=randomness,
        mailer=mailer,
        notifier=notifier,
        broadcast=broadcast,
        change_signal=change_signal,
        metrics=metrics,
        job_leases=JobLeases(database, clock),
        audit=audit,
        organisations=organisations,
        accounts=AccountService(database, audit, clock, hasher),
        login=login,
        web_sessions=WebSessionService(database, audit, clock, randomness),
        device_tokens=device_tokens,
        account_admin=AccountAdministration(
            database,
            audit,
            clock,
            hasher,
            notifier,
            device_idle_days=settings.device_token_idle_days,
        ),
        invitations=invitations,
        my_account=MyAccountService(
            database,
            audit,
            clock,
            hasher,
            limiters,
            notifier,
            device_idle_days=settings.device_token_idle_days,
        ),
        email_codes=email_codes,
        spaces=spaces,
        groups=GroupService(database, audit, clock),
        overview=OverviewService(database),
        team_folders=TeamFolderService(database, audit, clock),
        files_root=FilesRootService(database, spaces, clock, ttl=credential_ttl),
        sharees=ShareeSearch(database),
        share_numbers=ShareNumbers(database),
        shares=ShareService(database, audit, clock),
        file_tree=file_tree,
        file_versions=file_versions,
        manifest_deltas=ManifestDeltaService(database),
        chunk_store=chunk_store,
        keyring=keyring,
        retention=RetentionService(database, audit, clock),
        changes=ChangeFeed(
            database,
            change_signal,
            monotonic=time.monotonic,
            recheck_seconds=settings.change_recheck_seconds,
        ),
        file_content=file_content,
        upload_sessions=UploadSessionService(database, clock, chunk_store, keyring, file_versions),
        upload_slots=UploadSlots(
            upload_gauge(settings),
            per_account=settings.uploads_per_account,
            per_address=settings.uploads_per_address,
        ),
        second_factor=second_factor,
        password_reset=PasswordResetService(
            database, audit, clock, randomness, hasher, limiters, notifier, second_factor
        ),
        provider=ProviderConsole(database, audit, organisations, invitations),
        languages=LanguagePreferences(database),
        app_passwords=app_passwords,
        client_passwords=ClientPasswordService(
            database,
            audit,
            hasher,
            limiters,
            login,
            app_passwords,
            VerifiedCredentials(database, clock, ttl=credential_ttl),
        ),
        login_flows=LoginFlowService(database, clock, randomness, app_passwords, limiters),
        listing=FolderListingService(database),
        dav_listings=DavListingService(database, clock),
        properties=PropertyService(database, clock),
        locks=LockService(database, clock, randomness),
        write_checks=WriteCheckService(database, clock),
        devices=DeviceService(database, audit, clock, idle_days=settings.device_token_idle_days),
        device_wipe=DeviceWipeService(database, audit, clock, device_mail, limiters),
        share_links=ShareLinkService(database, audit, clock, randomness, hasher),
        link_access=LinkAccessService(
            database,
            audit,
            clock,
            hasher,
            limiters,
            KeyedDigest.for_purpose(master_key, "share-link-access"),
            file_tree,
            file_content,
            LinkMail(database, notifier),
        ),
        link_policy=LinkPolicyService(database, audit),
        browsing=FileBrowsingService(database),
        selection_zip=SelectionZipService(database, file_content),
        thumbnails=ThumbnailService(database, clock, keyring, file_content),
    )


def _announce_commits(database: Database, signal: ChangeSignal, broadcast: ChangeBroadcast) -> None:
    """A commit that grew journals wakes the long polls on them: here at once, elsewhere
    through the broadcast (PostgreSQL's NOTIFY rides in the transaction itself)."""

    def before(session: Session) -> None:
        if TOUCHED_SPACES in session.info:
            broadcast.publish_in(session, session.info[TOUCHED_SPACES])

    def after(info: dict[str, Any]) -> None:
        if TOUCHED_SPACES in info:
            signal.notify(info[TOUCHED_SPACES])
            broadcast.publish_after(info[TOUCHED_SPACES])

    database.before_commit(before)
    database.on_commit(after)


def _watch(metrics: Metrics, database: Database, signal: ChangeSignal) -> None:
    metrics.watch(
        "sfs_long_poll_waiters", "Long polls waiting for a change now", lambda: signal.waiting
    )
    pool = database.engine.pool
    metrics.watch(
        "sfs_database_connections_in_use",
        "Database connections checked out of the pool now",
        lambda: float(getattr(pool, "checkedout", lambda: 0)()),
    )


def upload_gauge(settings: Settings) -> ConcurrencyGauge:
    """Upload slots are counted where the throttles are: in Redis when instances share it."""
    if settings.rate_limit_storage.startswith(("redis://", "rediss://")):
        return RedisGauge(settings.rate_limit_storage)
    return InProcessGauge()


def default_mailer(settings: Settings) -> Mailer:
    if settings.mail_url:
        return SmtpMailer(SmtpTarget.from_url(settings.mail_url))
    return OutboxMailer(settings.outbox_dir)


def prepare_first_start(services: Services) -> list[InitialCredentials]:
    """Everything a start needs beyond the services: the schema, and the first accounts."""
    make_private_folder(services.settings.data_dir)
    with migrate.one_instance_at_a_time(services.database.engine):
        migrate.upgrade_unless_newer(services.database.engine)
        return create_initial_accounts(
            services.database, services.organisations, services.accounts, services.randomness
        )
