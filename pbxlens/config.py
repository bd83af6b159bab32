"""Settings: defaults, then a TOML file, then PBXLENS_* environment variables.

The TOML file is `pbxlens.toml` in the working directory or the path in PBXLENS_CONFIG.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DB = Path("data/pbxlens.duckdb")
PATH_SETTINGS = ("ticket_attachments_dir", "lake", "backup_dir")


def config_file() -> Path:
    """The settings file: PBXLENS_CONFIG, else pbxlens.toml in the working directory."""
    return Path(os.environ.get("PBXLENS_CONFIG", "pbxlens.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PBXLENS_", extra="ignore")

    db: Path = DEFAULT_DB
    # The operations store (users, bookings, tickets, the webhook inbox): a SQLAlchemy URL,
    # e.g. postgresql+psycopg://pbxlens@/pbxlens; empty = SQLite beside the DuckDB file.
    ops_url: str = ""
    # Webhook inbox rows already moved into DuckDB are deleted this many days after receipt.
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
    # Workbooks: the largest sheet extent (rows x columns, what a reader allocates) and the
    # largest inflated size of the whole zip; a workbook over either is refused before reading.
    ingest_max_sheet_cells: int = 50_000_000
    ingest_max_unzipped_bytes: int = 2 * 1024 * 1024 * 1024
    # Uploads to the server are read first in a child process limited to this address space.
    upload_parse_memory_bytes: int = 4 * 1024 * 1024 * 1024
    # The server's GIL switch interval (ms). A request thread that waits on I/O (the socket,
    # SQLite) must win the GIL back from the writer's busy job at each wake-up; Python's 5 ms
    # default makes an operator's click cost tens of those waits while an ingest runs.
    server_switch_interval_ms: float = Field(default=1.0, gt=0, le=50)
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
    # Tickets: attachments on disk (default: <store>.attachments/ beside the store),
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
    # scale: hourly rollups answer the reports they can; retention in months
    # (current month + 24, as the PBX keeps); the lake that retention exports to first
    rollups: bool = True
    retention_months: int = 25
    lake: str = ""
    # Backups asked through the server (`POST /api/admin/backup`) are written only inside this
    # folder (default: `backups/` beside the store).
    backup_dir: str = ""
    # The guard on reports run by the web app and the HTTP API: seconds a run may take and
    # the longest range in months (the PBX's own retention); 0 = no limit. The CLI may override.
    report_time_limit_s: float = 30.0
    report_max_months: int = 25
    # Definitions (reports/definitions.py): the service level of a queue without its own
    # definition (target %, variant), and the repeat-caller / first-contact window of journeys.
    service_level_target_pct: int = 80
    service_level_variant: str = "abandon_aware"
    repeat_caller_hours: int = 24
    # Delivery of scheduled reports and alerts (pbxlens.delivery): attempts per message, the
    # first retry's delay in seconds (doubling, up to the cap), the webhook timeout, the
    # largest attachment; links in mails start with `public_url`; background-export links
    # expire after `export_link_hours`; the PDF of a report is Chromium's print of its page.
    delivery_attempts: int = 5
    delivery_backoff_s: float = 30.0
    delivery_backoff_max_s: float = 3600.0
    delivery_timeout_s: float = 20.0
    delivery_max_bytes: int = 25 * 1024 * 1024
    public_url: str = "http://localhost:8050"
    export_link_hours: int = 24
    export_time_limit_s: float = 600.0
    chromium: str = "/usr/bin/chromium"
    # Billing: what the finance export does with a period holding unrated calls (ratable calls
    # no tariff values, report billing.unrated): "refuse" (an error naming the count) or "mark"
    # (the workbook says so on its first sheet, the calls count at cost 0).
    billing_unrated: str = "refuse"
    # Carrier reconciliation (pbxlens.billing.carrier): the invoice CSV's column for each field
    # ("field=Column,..."; number, start, duration, cost), its start format (strptime), how far
    # apart a line's start and a call's start may be, how many seconds their durations may
    # differ, and the cost difference (EUR) above which a matched call is mispriced.
    carrier_columns: str = "number=number,start=start,duration=duration,cost=cost"
    carrier_start_format: str = "%Y-%m-%d %H:%M:%S"
    carrier_match_window_s: int = 120
    carrier_duration_tolerance_s: int = 2
    carrier_cost_tolerance: str = "0.01"
    # Callback effectiveness (report missed.effectiveness): the target for the first callback
    # attempt after the first missed call (minutes), and the window (minutes) within which a
    # number called back by two different operators is flagged as a duplicate.
    callback_target_min: int = 15
    callback_duplicate_window_min: int = 10
    # Live wallboard and alerts. A queue's service-level threshold and target come from its
    # definition (reports/definitions.py, else service_level_s / service_level_target_pct);
    # opening hours (for the "no agent logged in" alert) as "mon-fri 08:00-18:00; sat
    # 09:00-13:00" in the PBX timezone; the wrap-up shown after a queue call (the PBX's rest
    # interval); pause limits per reason in minutes (`*` = any other reason); the snapshot
    # tick.
    opening_hours: str = "mon-fri 08:00-18:00"
    live_wrapup_s: int = 10
    pause_limits_min: str = "break=15,lunch=60,training=120,backoffice=60,*=30"
    live_tick_s: float = 0.5
    # Folders the path settings (ticket_attachments_dir, lake, backup_dir) may point into,
    # comma-separated; empty = the working directory, the store's folder, the home folder,
    # /srv, /mnt and /var/lib/pbxlens. A path setting outside them is refused at load.
    path_roots: str = ""
    # Cores a server with intake processes (`serve --intake-port`) leaves to them while its
    # analytics writer's main lane runs jobs (ingests, rebuilds, re-rating): DuckDB then runs
    # on the others (at least one), and gets every core back when the lane is idle. 0: every
    # core always (store.priority.CoreReserve).
    writer_reserved_cores: int = Field(default=1, ge=0, le=64)
    # long-polls of the snapshot (GET /api/live/stream) waiting at once: each holds a server
    # thread while it waits, so keep it well below `serve --threads`; beyond it: 503
    live_stream_max: int = 4

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        """An IANA zone zoneinfo knows (it also reaches SQL as a bound value, never as text)."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            if not v or v != v.strip() or "\x00" in v:
                raise ValueError
            ZoneInfo(v)
        except (ValueError, ZoneInfoNotFoundError, OSError):
            raise ValueError(f"not a known time zone: {v!r}") from None
        return v

    @model_validator(mode="after")
    def _paths_inside_roots(self) -> Settings:
        """Each path setting resolved (symlinks too) inside one of `path_roots`: a settings
        file cannot make the server write attachments, lakes or backups into /etc."""
        roots = [Path(r.strip()) for r in self.path_roots.split(",") if r.strip()] or [
            Path.cwd(), self.db.parent, Path.home(), Path("/srv"), Path("/mnt"),
            Path("/var/lib/pbxlens")]
        resolved = [r.expanduser().resolve() for r in roots]
        for name in PATH_SETTINGS:
            value = getattr(self, name)
            if not value:
                continue
            if any(ord(ch) < 32 for ch in value) or value != value.strip():
                raise ValueError(f"{name}: a folder path without control characters or"
                                 " surrounding spaces")
            try:
                path = Path(value).expanduser().resolve()
            except (OSError, RuntimeError) as exc:  # a symlink loop
                raise ValueError(f"{name}: {value!r} cannot be resolved ({exc})") from None
            if not any(path == r or path.is_relative_to(r) for r in resolved):
                raise ValueError(f"{name}: {path} is outside the allowed folders"
                                 f" ({', '.join(map(str, resolved))}; setting path_roots)")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # a missing file is an empty source
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return (init_settings, env_settings, toml, file_secret_settings)


class _Cached:
    """The settings loaded once, until `cache_clear()`. Unlike `lru_cache`, a load that was
    under way when the cache was cleared is not kept: a background thread (a server's writer
    or inbox mover) would otherwise cache settings read before the PBXLENS_* variables changed
    and outlive the clear (a test then ran with the previous test's settings)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings: Settings | None = None
        self._generation = 0  # cache_clear() calls so far

    def __call__(self) -> Settings:
        s = self._settings
        if s is not None:
            return s
        generation = self._generation
        s = _load()
        with self._lock:
            if self._generation == generation and self._settings is None:
                self._settings = s
        return s

    def cache_clear(self) -> None:
        with self._lock:
            self._settings = None
            self._generation += 1


def _load() -> Settings:
    """The settings, validated; a bad value is one line naming the setting and where settings
    come from."""
    from pydantic import ValidationError

    from pbxlens import PbxlensError

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "settings"
        raise PbxlensError(f"invalid setting {name} (from {config_file()} or PBXLENS_"
                           f"{name.upper()}): {first['msg'].removeprefix('Value error, ')}"
                           ) from None


get_settings = _Cached()  # get_settings(): the settings, validated once
