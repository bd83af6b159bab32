"""Settings: defaults, then a TOML file, then PBXLENS_* environment variables.

The TOML file is `pbxlens.toml` in the working directory or the path in PBXLENS_CONFIG.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_DB = Path("data/pbxlens.duckdb")


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the settings TOML file; a missing file is an empty source."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = Path(os.environ.get("PBXLENS_CONFIG", "pbxlens.toml"))
        self._data: dict[str, Any] = {}
        if path.is_file():
            with path.open("rb") as fh:
                self._data = tomllib.load(fh)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PBXLENS_", extra="ignore")

    db: Path = DEFAULT_DB
    # The operations store (users, bookings, tickets, the webhook inbox): a SQLAlchemy URL,
    # e.g. postgresql+psycopg://pbxlens@/pbxlens; empty = SQLite beside the DuckDB file.
    ops_url: str = ""
    # Webhook inbox rows already moved into DuckDB are deleted after this many days.
    inbox_retention_days: int = 7
    timezone: str = "Europe/Rome"
    default_region: str = "IT"
    # "Voip codice impegno chiamata": the outbound line-seizure prefix stripped from numbers.
    line_prefix: str = ""
    default_range_months: int = 1
    service_level_s: int = 20
    short_abandon_s: int = 5
    coincidence_bucket_min: int = 15
    grade_of_service: float = 0.01
    # Largest accepted upload / webhook body, bytes.
    max_upload_bytes: int = Field(default=512 * 1024 * 1024)
    secret_key: str = ""
    # DuckDB's memory budget while ingesting; staging spills to <store>.tmp beyond it.
    ingest_memory_limit: str = "1200MB"
    # Behind an https proxy: session cookies get the Secure flag.
    https: bool = False
    # PBX REST pull (issue: live feeds); the server pulls only when url, user and password are set.
    pbx_url: str = ""
    pbx_user: str = ""
    pbx_password: str = ""
    pbx_domain: str = "default"
    pbx_verify_tls: bool = True
    pull_interval_s: int = 900
    # Webhook tokens, one per source; a source without a token refuses every request.
    webhook_token_events: str = ""
    webhook_token_dynamic_routing: str = ""
    webhook_token_feedback: str = ""
    webhook_max_bytes: int = 1024 * 1024
    # Deepest accepted nesting of a webhook's JSON body (checked before parsing).
    webhook_max_depth: int = 64
    # A live call (pbx.call.start without its end) older than this is assumed over: pruned.
    live_call_max_hours: int = 4
    # Tickets (issue 10): attachments on disk (default: <store>.attachments/ beside the store),
    # their size limit and content-type allow-list; the SMTP sender of the notification outbox
    # (off by default: the outbox only records who would be notified).
    ticket_attachments_dir: str = ""
    ticket_attachment_max_bytes: int = 10 * 1024 * 1024
    ticket_attachment_types: str = (
        "application/pdf,image/png,image/jpeg,image/gif,text/plain,text/csv,application/zip,"
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
        "application/vnd.oasis.opendocument.text,application/vnd.oasis.opendocument.spreadsheet,"
        "message/rfc822")
    smtp_enabled: bool = False
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = "pbxlens@localhost"
    # scale (issue 11): hourly rollups answer the reports they can; retention in months
    # (current month + 24, as the PBX keeps); the lake that retention exports to first
    rollups: bool = True
    retention_months: int = 25
    lake: str = ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls), file_secret_settings)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
