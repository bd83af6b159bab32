"""Admin services behind the admin pages: the effective settings and the web app's own stored
settings, directory import, and the quarantine browser (server-side pages, bound SQL)."""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from pbxlens import PbxlensError
from pbxlens.config import Settings, get_settings
from pbxlens.store import Stores
from pbxlens.store import schema as T


@dataclass(frozen=True)
class UiSetting:
    key: str
    default: object
    choices: tuple = ()
    low: int = 0
    high: int = 0

    def parse(self, raw) -> object:
        if self.choices:
            if raw not in self.choices:
                raise PbxlensError(f"{self.key}: choose one of {', '.join(self.choices)}")
            return raw
        try:
            v = int(str(raw).strip())
        except ValueError:
            raise PbxlensError(f"{self.key}: not a whole number: {raw!r}") from None
        if not self.low <= v <= self.high:
            raise PbxlensError(f"{self.key}: between {self.low} and {self.high}")
        return v


# The web app's own settings: stored in web_settings as "ui.<key>", read where they act.
UI_SETTINGS = {s.key: s for s in (
    UiSetting("default_lang", "it", choices=("it", "en")),
    UiSetting("widget_refresh_min", 5, low=1, high=1440),
    UiSetting("quarantine_page_size", 50, low=10, high=500),
)}


def get_ui(store: Stores, key: str):
    spec = UI_SETTINGS[key]
    with store.ops_read() as c:
        raw = c.execute(sa.select(T.settings.c.value)
                        .where(T.settings.c.key == f"ui.{key}")).scalar_one_or_none()
    if raw is None:
        return spec.default
    try:
        return spec.parse(raw)
    except PbxlensError:
        return spec.default


def set_ui(store: Stores, key: str, raw) -> object:
    if key not in UI_SETTINGS:
        raise PbxlensError(f"unknown setting {key!r}")
    value = UI_SETTINGS[key].parse(raw)
    with store.ops_write() as c:
        c.execute(T.settings.delete().where(T.settings.c.key == f"ui.{key}"))
        c.execute(T.settings.insert().values(key=f"ui.{key}", value=str(value)))
    return value


def _toml_keys() -> set[str]:
    path = Path(os.environ.get("PBXLENS_CONFIG", "pbxlens.toml"))
    if not path.is_file():
        return set()
    try:
        with path.open("rb") as fh:
            return set(tomllib.load(fh))
    except (OSError, tomllib.TOMLDecodeError):
        return set()


SECRET_GENERATED = "(generated, stored in the database)"  # noqa: S105 - a marker, no secret


def effective_settings() -> list[dict]:
    """Every `pbxlens.config` setting: its value in this process and where it came from
    (environment, TOML file or default). Secrets are never shown (the page words a generated
    secret key as the catalog's `secret_generated`)."""
    s = get_settings()
    env = {k.upper() for k in os.environ}
    toml = _toml_keys()
    rows = []
    for name in Settings.model_fields:
        value = getattr(s, name)
        if name == "secret_key":
            value = "••••••" if value else SECRET_GENERATED
        origin = ("env" if f"PBXLENS_{name.upper()}" in env else
                  "toml" if name in toml else "default")
        rows.append({"key": name, "value": str(value), "origin": origin,
                     "env": f"PBXLENS_{name.upper()}"})
    return rows


# ----------------------------------------------------------------------------- directory


def import_directory(store: Stores, filename: str, data: bytes):
    """Load an uploaded directory.json with `ingest_paths`, a job of the analytics writer.
    Anything that is not a directory file is refused before it reaches the store."""
    from pbxlens.ingest import directory, ingest_paths

    with tempfile.TemporaryDirectory(prefix="pbxlens-dir-") as tmp:
        path = Path(tmp) / "directory.json"
        path.write_bytes(data)
        if not directory.is_directory(path):
            raise PbxlensError(f"{Path(filename or 'upload').name}: not a pbxlens directory.json")
        (result,) = store.writer.run("directory", "directory.json",
                                     lambda ctx: ingest_paths(ctx.con, [path], ops=ctx.ops))
    if result.error:
        raise PbxlensError(result.error)
    return result


DIRECTORY_COUNTS = """
SELECT t.tenant,
       (SELECT count(*) FROM operators o WHERE o.tenant = t.tenant) AS operators,
       (SELECT count(*) FROM accounts a WHERE a.tenant = t.tenant) AS accounts,
       (SELECT count(*) FROM queues q WHERE q.tenant = t.tenant) AS queues
FROM (SELECT tenant FROM operators UNION SELECT tenant FROM queues) t ORDER BY t.tenant"""


def directory_counts(store: Stores) -> list[dict]:
    with store.cursor() as cur:
        rel = cur.execute(DIRECTORY_COUNTS)
        cols = [d[0] for d in rel.description]
        return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


# ----------------------------------------------------------------------------- quarantine

_Q_WHERE = "WHERE ($batch IS NULL OR batch_id = $batch) AND ($source IS NULL OR source = $source)"


def quarantine_page(store: Stores, batch: int | None, source: str | None, page: int,
                    size: int) -> tuple[list[dict], int]:
    """One page (0-based) of quarantined rows, filtered by batch and/or file, and the count
    of all matching rows. LIMIT/OFFSET in the database; every value is bound."""
    args = {"batch": batch, "source": source or None}
    with store.cursor() as cur:
        total = cur.execute(f"SELECT count(*) FROM quarantine {_Q_WHERE}", args).fetchone()[0]  # noqa: S608 -- a fixed filter clause; values are bound
        rel = cur.execute(
            f"SELECT batch_id, source, line, record, reason, raw FROM quarantine {_Q_WHERE} "  # noqa: S608 -- a fixed filter clause; values are bound
            "ORDER BY batch_id, record NULLS LAST, line NULLS LAST LIMIT $lim OFFSET $off",
            {**args, "lim": int(size), "off": int(max(page, 0)) * int(size)})
        cols = [d[0] for d in rel.description]
        rows = [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]
    return rows, int(total)


def quarantine_choices(store: Stores) -> tuple[list[int], list[str]]:
    """Batches and files that have quarantined rows (for the filter dropdowns)."""
    with store.cursor() as cur:
        batches = [r[0] for r in cur.execute(
            "SELECT DISTINCT batch_id FROM quarantine ORDER BY 1 DESC LIMIT 500").fetchall()]
        files = [r[0] for r in cur.execute(
            "SELECT DISTINCT source FROM quarantine ORDER BY 1 LIMIT 500").fetchall()]
    return batches, files
