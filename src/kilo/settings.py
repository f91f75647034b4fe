"""All of kilo's settings in one pydantic object.

Every value can come from the environment (``KILO_*``) or be passed in code. ``KILO_HOME``
moves all state: the catalog, the default store (thumbnails, previews, copies, exports) and
the search indexes live below it.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kilo.errors import InvalidInput, KiloError

CATALOG_FILENAME = "catalog.duckdb"


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("kilo", appauthor=False))


class Settings(BaseSettings):
    """kilo's settings. Environment variables use the ``KILO_`` prefix (``KILO_HOME``...)."""

    model_config = SettingsConfigDict(env_prefix="KILO_", extra="ignore", frozen=True)

    home: Path = Field(default_factory=_default_home, description="Library folder.")
    store: str | None = Field(
        default=None,
        description="fsspec URL of the store (default: HOME/store); s3://bucket/prefix works.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="Endpoint of an S3-compatible service (MinIO, moto, R2...)."
    )
    s3_region: str | None = None
    workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1), ge=1, le=64)
    executor: str = Field(
        default="local",
        description="Where pooled work runs: local, dask:local or dask://host:8786.",
    )
    thumbnail_px: int = Field(default=512, ge=64, le=2048)
    preview_px: int = Field(default=2048, ge=256, le=8192)
    job_max_attempts: int = Field(default=3, ge=1, le=20)
    lock_wait_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="How long to wait for another kilo process to hand the catalog over.",
    )
    clip_model: str = Field(default="ViT-B-32", description="open_clip architecture name.")
    clip_pretrained: str | None = Field(
        default="laion2b_s34b_b79k",
        description="open_clip pretrained tag (downloaded once into its cache when online).",
    )
    clip_checkpoint: Path | None = Field(
        default=None, description="Local open_clip checkpoint file; wins over the pretrained tag."
    )
    clip_enabled: bool = Field(default=True, description="Set false to never load CLIP.")
    user_email: str = Field(default="local@kilo.localhost", description="The CLI's local user.")
    photographer: str | None = Field(
        default=None, description="Your name as contact sheets print it (none: left off)."
    )
    secret_key: str | None = Field(
        default=None, description="Signing key for API tokens (default: one kept in HOME)."
    )
    previous_secret_keys: list[str] = Field(
        default_factory=list,
        description="Keys tokens signed earlier may still carry (rotation); never used to sign.",
    )
    # -- the HTTP server (kilo serve) ------------------------------------------------------
    public_url: str = Field(
        default="http://127.0.0.1:8080",
        description="Where clients reach kilo serve (the start of the gallery links printed).",
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for login codes.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = Field(default="kilo <kilo@localhost>", description="From: of login mails.")
    dev_login_codes: bool = Field(
        default=False, description="Development only: also write login codes to the server log."
    )
    open_signup: bool = Field(
        default=True, description="Any e-mail address may log in (false: only existing users)."
    )
    auto_analyze: bool = Field(
        default=True, description="kilo serve analyzes projects once their photos are processed."
    )
    max_body_mb: int = Field(default=16, ge=1, le=1024, description="Largest JSON request body.")
    max_upload_mb: int = Field(default=2048, ge=1, le=1_000_000, description="Largest upload.")
    rate_limit_per_min: int = Field(
        default=30, ge=1, le=100_000, description="Requests per minute per client on /auth, /share."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list, description="Addresses whose X-Forwarded-For is believed."
    )
    cors_origins: list[str] = Field(default_factory=list, description="CORS is off unless set.")
    webapp_dir: Path | None = Field(
        default=None,
        description="The built web app kilo serve serves at / (default: the package's webapp/).",
    )

    @field_validator("home", mode="before")
    @classmethod
    def _expand_home(cls, value: Any) -> Any:
        if isinstance(value, str | Path):
            return Path(value).expanduser()
        return value

    @field_validator("executor")
    @classmethod
    def _check_executor(cls, value: str) -> str:
        from kilo.executors.spec import parse_executor

        try:
            return str(parse_executor(value))
        except KiloError as exc:
            raise ValueError(exc.reason) from None

    @cached_property
    def catalog_path(self) -> Path:
        return self.home / CATALOG_FILENAME

    @cached_property
    def store_url(self) -> str:
        if self.store:
            return self.store.rstrip("/")
        return str((self.home / "store").absolute())

    def signing_key(self) -> str:
        """The key API tokens are signed with: ``secret_key``, else one made once and kept in
        HOME (``secret.key``, readable by its owner only)."""
        return self.secret_key or self.stored_signing_key

    @cached_property
    def stored_signing_key(self) -> str:
        """HOME's ``secret.key``, made on first use; read once per settings object (every
        request and every signed URL asks for it)."""
        path = self.home / "secret.key"
        try:
            return path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            pass
        import secrets

        self.home.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_text(encoding="ascii").strip()
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(key + "\n")
        return key

    def storage_options(self, url: str) -> dict[str, Any]:
        """fsspec options for ``url`` (S3 endpoint and region from the settings or env)."""
        from kilo.store import s3_storage_options

        return s3_storage_options(url, self.s3_endpoint_url, self.s3_region)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with explicit overrides (``None`` values are ignored).
    A bad value is one :class:`~kilo.errors.InvalidInput` naming its variable."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else "?"
        where = field if field in overrides else f"KILO_{field.upper()}"
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise InvalidInput(f"{where}: {message} (got {first.get('input')!r})") from None
