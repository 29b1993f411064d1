"""Settings: `SFS_*` environment variables over an optional TOML file over defaults.

Built once in the composition root and passed down; nothing reads the environment elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from sfs.domain.errors import InvalidInput
from sfs.domain.regions import DEFAULT_REGION, clean_region
from sfs.mail.smtp import SmtpTarget

ENV_PREFIX = "SFS_"
CONFIG_FILE_VARIABLE = "SFS_CONFIG"


class ConfigError(Exception):
    """One line per bad value, each naming the variable to fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    data_dir: Path = Field(
        default=Path("sfs-data"), description="where the database, keys and mail live"
    )
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8080, ge=1, le=65535)
    base_url: str = Field(default="", description="public URL; default http://HOST:PORT")
    database_url: str = Field(default="", description="default: SQLite in the data folder")
    mail_url: str = Field(default="", description="smtp://host:port; empty: write to the outbox")
    mail_outbox_dir: Path | None = None
    mail_from: str = "Secure File Sync <no-reply@sfs.localhost>"
    region: str = DEFAULT_REGION
    master_key_file: Path | None = None
    blob_url: str = Field(
        default="", description="file:///path (default: DATA_DIR/blobs) or s3://bucket[/prefix]"
    )
    s3_endpoint_url: str = Field(default="", description="for S3-compatible stores (MinIO, Ceph)")
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = Field(default="", repr=False)
    rate_limit_storage: str = Field(
        default="memory://", description="limits storage URI; redis://… to share across instances"
    )
    trusted_proxies: str = Field(
        default="", description="addresses whose X-Forwarded-For is believed"
    )
    password_hash_time_cost: int = Field(default=3, ge=1, le=20)
    password_hash_memory_kib: int = Field(default=65536, ge=8192, le=4 * 1024 * 1024)
    password_hash_parallelism: int = Field(default=4, ge=1, le=64)
    request_body_idle_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="a body with no bytes this long: 408"
    )
    uploads_per_account: int = Field(
        default=8, ge=1, le=10_000, description="uploads in progress at once per account"
    )
    uploads_per_address: int = Field(
        default=16, ge=1, le=100_000, description="uploads in progress at once per client address"
    )
    commit_body_max_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024 * 1024,
        le=1024 * 1024 * 1024,
        description="a commit or commit-batch body (JSON manifests); larger: 413",
    )
    form_upload_max_bytes: int = Field(
        default=1024 * 1024 * 1024,
        ge=1024 * 1024,
        description="the portal's multipart upload form, all files together; larger: 413",
    )
    change_notification: str = Field(
        default="auto",
        description="how instances wake each other's long polls: auto (postgresql when the "
        "database is, else process), postgresql (LISTEN/NOTIFY), redis://… (pub/sub), process",
    )
    change_recheck_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="a long poll re-reads the journal this often"
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="server processes on the one port (more than 1: throttles and change "
        "notification must be shared, in Redis or PostgreSQL)",
    )
    drain_seconds: float = Field(
        default=30.0, ge=0, le=3600, description="on SIGTERM, running requests get this long"
    )
    background_jobs: bool = Field(
        default=True, description="run gc, retention and expiries (once across all instances)"
    )
    metrics_token: str = Field(
        default="", repr=False, description="bearer token for /metrics; empty: /metrics is off"
    )
    log_format: str = Field(default="text", pattern="^(text|json)$", description="text or json")
    device_token_idle_days: int = Field(
        default=90, ge=1, le=3650, description="a device token unused this long stops working"
    )
    credential_cache_seconds: float = Field(
        default=5,
        ge=0,
        le=60,
        description="a device token or app password checked this recently is not checked again "
        "(0: every request); a revocation elsewhere takes effect within this time",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_VARIABLE)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        try:
            return clean_region(value)
        except InvalidInput as exc:
            raise ValueError(exc.message) from None

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("must be an http:// or https:// URL with a host")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @field_validator("mail_url")
    @classmethod
    def _mail_url(cls, value: str) -> str:
        if value:
            SmtpTarget.from_url(value)  # raises ValueError with the reason
        return value

    @field_validator("blob_url")
    @classmethod
    def _blob_url(cls, value: str) -> str:
        if value and not value.startswith(("file://", "s3://")):
            raise ValueError("must be file:///path or s3://bucket[/prefix]")
        if value.startswith("s3://") and not urlsplit(value).hostname:
            raise ValueError("an s3:// URL needs a bucket name")
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _rate_limit_storage(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://", "redis+cluster://")):
            raise ValueError("must be memory:// or a redis:// URL")
        return value

    @field_validator("change_notification")
    @classmethod
    def _change_notification(cls, value: str) -> str:
        if value not in ("auto", "process", "postgresql") and not value.startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("must be auto, process, postgresql or a redis:// URL")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: str) -> str:
        if value and (len(value) < 16 or not value.isprintable() or " " in value):
            raise ValueError("must be at least 16 printable characters without spaces")
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        # Derived defaults depend on other values, so they are filled after validation.
        data_dir = self.data_dir.expanduser().absolute()
        object.__setattr__(self, "data_dir", data_dir)
        if not self.base_url:
            object.__setattr__(self, "base_url", f"http://{self.host}:{self.port}")
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{data_dir / 'sfs.db'}")
        if self.mail_outbox_dir is None:
            object.__setattr__(self, "mail_outbox_dir", data_dir / "outbox")
        if not self.blob_url:
            object.__setattr__(self, "blob_url", f"file://{data_dir / 'blobs'}")
        if self.master_key_file is None:
            object.__setattr__(self, "master_key_file", data_dir / "master.key")
        if self.change_notification == "auto":
            chosen = "postgresql" if self.database_url.startswith("postgresql") else "process"
            object.__setattr__(self, "change_notification", chosen)
        if self.change_notification == "postgresql" and not self.database_url.startswith(
            "postgresql"
        ):
            raise ValueError(
                "SFS_CHANGE_NOTIFICATION=postgresql needs a PostgreSQL SFS_DATABASE_URL"
            )
        self._check_workers()
        return self

    def _check_workers(self) -> None:
        """Several workers are several instances: what one counts or announces, the others
        must see (else each would allow its own share of login attempts and uploads, and a
        long poll would not hear of a change committed next door)."""
        if self.workers == 1:
            return
        if self.rate_limit_storage.startswith("memory://"):
            raise ValueError(
                "SFS_WORKERS > 1 needs SFS_RATE_LIMIT_STORAGE=redis://… (throttles and upload "
                "slots counted once for all workers)"
            )
        if self.change_notification == "process":
            raise ValueError(
                "SFS_WORKERS > 1 needs SFS_CHANGE_NOTIFICATION=redis://… or postgresql (a "
                "change committed in one worker wakes the long polls of the others)"
            )

    @property
    def served_over_https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def outbox_dir(self) -> Path:
        assert self.mail_outbox_dir is not None  # filled by _fill_defaults
        return self.mail_outbox_dir

    @property
    def master_key_path(self) -> Path:
        assert self.master_key_file is not None  # filled by _fill_defaults
        return self.master_key_file


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the settings, or raise ConfigError naming every bad value."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            # A rule across values names its variables itself.
            lines.append(f"{ENV_PREFIX}{field.upper()}: {message}" if field else message)
        raise ConfigError("\n".join(lines)) from None
    except (OSError, ValueError) as exc:  # unreadable or malformed TOML file
        raise ConfigError(
            f"{CONFIG_FILE_VARIABLE}: cannot read the configuration file: {exc}"
        ) from None
