"""Configuration from the environment or `.env` (prefix PIXELPRESS_).

Every partner is optional: a missing value means "not configured", never a
crash, so the server always starts (the embedded default).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MB = 1024 * 1024


def _split_list(value: object) -> object:
    # Operators write lists as "a,b,c"; JSON lists still work.
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIXELPRESS_", env_file=".env", extra="ignore")

    # API4.ai background removal
    api4ai_url: str = ""
    api4ai_key: SecretStr | None = None
    api4ai_key_header: Literal["x-api-key", "rapidapi"] = "x-api-key"
    api4ai_rapidapi_host: str = ""  # defaults to the host of api4ai_url

    # Supabase Storage
    supabase_url: str = ""
    supabase_key: SecretStr | None = None
    supabase_bucket: str = ""
    supabase_url_mode: Literal["public", "signed"] = "public"
    supabase_signed_ttl: int = Field(3600, ge=60, le=7 * 24 * 3600)

    # Local uploads when Supabase is not configured
    upload_dir: Path = Path("./uploads")

    # The server's own public origin (and URL prefix of local uploads), e.g. https://studio.example.
    # Empty: same-origin checks use the request's Host, and local upload URLs are root-relative.
    public_url: str = ""

    # Clients and load
    client_keys: Annotated[list[SecretStr], NoDecode] = []
    cors_origins: Annotated[list[str], NoDecode] = []
    # Origins (or "*") whose pages may load the --static site's files (client, worker, Pyodide, wasm,
    # wheels, models) cross-origin: those files get Access-Control-Allow-Origin. The API is unaffected.
    static_cors_origins: Annotated[list[str], NoDecode] = []
    max_body_bytes: int = Field(25 * MB, ge=1024)
    rate_limit_per_minute: int = Field(60, ge=0)  # 0 disables the limiter
    rate_limit_storage: str = ""  # redis://host:port/db shares one limit across instances; empty: memory
    rate_limit_max_clients: int = Field(10_000, ge=10)  # identities tracked per process
    # Slow and huge clients (enforced by `pixelpress-server`'s HTTP protocol and the app)
    # Open connections per process; lowered at start to fit the open-file limit. More are answered 503.
    max_connections: int = Field(1000, ge=1)
    max_header_bytes: int = Field(32 * 1024, ge=1024)  # request line + headers
    max_url_bytes: int = Field(8 * 1024, ge=256)  # the request target alone; longer is 414
    header_timeout: float = Field(10.0, gt=0)  # seconds for a whole request head (also a new idle socket)
    idle_timeout: float = Field(15.0, gt=0)  # seconds of silence while a request body streams in
    body_timeout: float = Field(120.0, gt=0)  # seconds for a whole request body
    # After BODY_RATE_GRACE seconds a body must have arrived at MIN_BODY_RATE bytes/s on average
    # (64 kbit/s: a sixteenth of a 1 Mbit/s phone link); 0 disables.
    min_body_rate: int = Field(8 * 1024, ge=0)
    body_rate_grace: float = Field(5.0, ge=0)
    keep_alive_timeout: float = Field(5.0, gt=0)  # idle seconds between requests on one connection
    # Trust X-Forwarded-For / X-Forwarded-Proto only when set, and only from these proxy addresses.
    proxy_headers: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    upstream_timeout: float = Field(30.0, gt=0)
    upstream_retry_backoff: float = Field(0.5, ge=0)
    upstream_max_answer_bytes: int = Field(64 * MB, ge=1024)  # API4.ai answers are base64 PNGs
    max_concurrent_removals: int = Field(32, ge=1)  # per process; more are 503 busy at once

    # Static site served at / (set by `pixelpress-server --static DIR`)
    static_dir: Path | None = None
    # COOP same-origin + COEP require-corp on every answer: the studio's page is cross-origin isolated,
    # so the network runs on several threads. Off by default: the studio works without it, and a page
    # that embeds cross-origin content without CORP/CORS would break under it (docs/deploy.md).
    cross_origin_isolation: bool = False

    _split = field_validator("client_keys", "cors_origins", "static_cors_origins", mode="before")(_split_list)

    @field_validator("rate_limit_storage")
    @classmethod
    def _storage_url(cls, value: str) -> str:
        value = value.strip()
        if value in ("", "memory", "memory://"):
            return ""
        scheme = value.split("://", 1)[0].removeprefix("async+")
        if scheme not in ("redis", "rediss", "redis+unix"):
            raise ValueError("PIXELPRESS_RATE_LIMIT_STORAGE must be empty (memory) or a redis:// URL")
        return value

    @field_validator("static_cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin == "*":
                continue
            parts = urlsplit(origin)
            if (parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/")
                    or parts.query or parts.fragment):
                raise ValueError(f"PIXELPRESS_STATIC_CORS_ORIGINS: {origin!r} is not an origin like "
                                 "https://shop.example (or *)")
        return [o if o == "*" else o.rstrip("/") for o in value]

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
                raise ValueError("PIXELPRESS_PUBLIC_URL must be an http(s) URL like https://studio.example")
        return value

    @field_validator("static_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        # An empty PIXELPRESS_STATIC_DIR= would otherwise become Path("."), serving the working directory.
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def api4ai_configured(self) -> bool:
        return bool(self.api4ai_url and self.api4ai_key and self.api4ai_key.get_secret_value())

    @property
    def supabase_configured(self) -> bool:
        return bool(
            self.supabase_url and self.supabase_bucket and self.supabase_key and self.supabase_key.get_secret_value()
        )

    @property
    def rapidapi_host(self) -> str:
        return self.api4ai_rapidapi_host or (urlsplit(self.api4ai_url).hostname or "")

    def missing_fields(self) -> list[str]:
        """Names (never values) of half-configured partners' missing settings, for a startup warning."""
        missing = []
        groups = {
            "api4ai": {"api4ai_url": self.api4ai_url, "api4ai_key": self.api4ai_key},
            "supabase": {
                "supabase_url": self.supabase_url,
                "supabase_key": self.supabase_key,
                "supabase_bucket": self.supabase_bucket,
            },
        }
        for fields in groups.values():
            present = [bool(v and (v.get_secret_value() if isinstance(v, SecretStr) else v)) for v in fields.values()]
            if any(present) and not all(present):
                missing += [name for name, ok in zip(fields, present, strict=True) if not ok]
        return [f"PIXELPRESS_{name.upper()}" for name in missing]
