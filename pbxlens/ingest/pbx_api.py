"""KalliopePBX REST client: the X-authenticate header and the incremental CDR pull.

Header (pbx_data.md §4.2, seed L18547-18620): `digestPassword = sha256_hex(password{salt})`,
`Digest = base64(sha256_binary(Nonce + digestPassword + Username + Domain + Created))`, a fresh
random hex Nonce per request and `Created` in UTC (`YYYY-MM-DDThh:mm:ssZ`). The salt comes from
the anonymous `GET rest/salt/<domain>` (L18578-18584).

The pull asks `GET rest/cdr?year=&month=&day=` (L742) one day at a time, keeps the days it has
loaded in `pull_watermarks`, and always pulls the watermark day and the day before again (rows
of late-ending calls); the loader's natural key + content hash make re-pulls free of duplicates.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import duckdb
import httpx
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from pbxlens import PbxlensError

if TYPE_CHECKING:
    import sqlalchemy as sa

SCHEME = "RestApiUsernameToken"
CREATED_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
CDR_PATH = "rest/cdr"
CC_PATH = "rest/callCenterCdr"
DEFAULT_LOOKBACK_DAYS = 7


class PbxApiError(PbxlensError):
    """The PBX refused a request or answered something that is not a CDR."""


# ------------------------------------------------------------------------- X-authenticate
def digest_password(password: str, salt: str) -> str:
    """sha256 of `password{salt}` (the braces are literal), lowercase hex (L18588)."""
    return hashlib.sha256(f"{password}{{{salt}}}".encode()).hexdigest()


def digest(nonce: str, digest_pw: str, username: str, domain: str, created: str) -> str:
    """base64 of the *binary* sha256 of the concatenation, no delimiters (L18574, L18606-18616)."""
    raw = hashlib.sha256((nonce + digest_pw + username + domain + created).encode()).digest()
    return base64.b64encode(raw).decode("ascii")


def new_nonce() -> str:
    return secrets.token_hex(16)


def utc_created(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime(CREATED_FORMAT)


def x_authenticate(username: str, password: str, domain: str, salt: str, *,
                   nonce: str | None = None, created: str | None = None) -> str:
    """The header value, spaced exactly as the seed's example (L18620)."""
    nonce = nonce or new_nonce()
    created = created or utc_created()
    d = digest(nonce, digest_password(password, salt), username, domain, created)
    return (f'{SCHEME} Username="{username}", Domain="{domain}", '
            f'Digest="{d}",Nonce="{nonce}", Created="{created}"')


def header_line(*args, **kwargs) -> str:
    return "X-authenticate: " + x_authenticate(*args, **kwargs)


_FIELD = re.compile(r'(\w+)="([^"]*)"')


def parse_x_authenticate(value: str) -> dict[str, str]:
    """The fields of a header value (used by the fake PBX); raises ValueError when malformed."""
    value = value.strip()
    if not value.startswith(SCHEME + " "):
        raise ValueError(f"not a {SCHEME} header")
    fields = dict(_FIELD.findall(value[len(SCHEME):]))
    missing = [k for k in ("Username", "Domain", "Digest", "Nonce", "Created") if k not in fields]
    if missing:
        raise ValueError("missing " + ", ".join(missing))
    return fields


# ------------------------------------------------------------------------------- client
def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and (
        exc.response.status_code >= 500 or exc.response.status_code == 429)


@dataclass
class PbxClient:
    """One PBX (one tenant). TLS certificates are verified unless `verify=False`."""

    base_url: str
    username: str
    password: str
    domain: str = "default"
    verify: bool = True
    timeout: float = 30.0
    attempts: int = 5
    backoff_max_s: float = 30.0
    _salt: str | None = field(default=None, repr=False)
    _http: httpx.Client | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        base = self.base_url.rstrip("/")
        if base.endswith("/rest"):
            base = base[: -len("/rest")]
        self.base_url = base + "/"
        self._http = httpx.Client(base_url=self.base_url, verify=self.verify, timeout=self.timeout,
                                  follow_redirects=False)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def __enter__(self) -> PbxClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _retrying(self, fn: Callable[[], httpx.Response]) -> httpx.Response:
        wrapped = retry(
            retry=retry_if_exception(_retryable),
            wait=wait_exponential(multiplier=0.2, max=self.backoff_max_s),
            stop=stop_after_attempt(self.attempts), reraise=True,
        )(fn)
        return wrapped()

    def salt(self) -> str:
        if self._salt is None:
            def once() -> httpx.Response:
                r = self._http.get(f"rest/salt/{self.domain}")
                r.raise_for_status()
                return r
            self._salt = parse_salt(self._send(once).text)
        return self._salt

    def _send(self, fn: Callable[[], httpx.Response]) -> httpx.Response:
        try:
            return self._retrying(fn)
        except httpx.HTTPStatusError as exc:
            r = exc.response
            raise PbxApiError(f"{r.request.method} {r.request.url}: HTTP {r.status_code} "
                              f"{r.text[:200].strip()}") from None
        except httpx.TransportError as exc:
            raise PbxApiError(f"{self.base_url}: {type(exc).__name__}: {exc}") from None

    def get(self, path: str, params: dict | None = None, *, allow_404: bool = False) -> httpx.Response | None:
        """GET with a fresh X-authenticate header on every attempt (a nonce is single-use)."""
        salt = self.salt()

        def once() -> httpx.Response:
            hdr = x_authenticate(self.username, self.password, self.domain, salt)
            r = self._http.get(path, params=params, headers={"X-authenticate": hdr})
            if allow_404 and r.status_code == 404:
                return r
            r.raise_for_status()
            return r

        r = self._send(once)
        return None if r.status_code == 404 else r

    def cdr_day(self, day: date) -> list[dict]:
        r = self.get(CDR_PATH, {"year": day.year, "month": day.month, "day": day.day})
        return _calls_of(r, day)

    def cc_day(self, day: date) -> bytes | None:
        """The Call Center CDR of a day as the PBX sent it, or None when not served."""
        r = self.get(CC_PATH, {"year": day.year, "month": day.month, "day": day.day}, allow_404=True)
        return None if r is None else r.content


def parse_salt(text: str) -> str:
    """The salt from `rest/salt/<domain>`: a JSON object with `salt`, a JSON string or text."""
    text = text.strip()
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    if isinstance(doc, dict):
        for k in ("salt", "Salt", "data"):
            if isinstance(doc.get(k), str):
                return doc[k]
        raise PbxApiError(f"salt answer without a salt: {text[:200]}")
    return str(doc)


def _calls_of(r: httpx.Response, day: date) -> list[dict]:
    try:
        doc = r.json()
    except ValueError:
        raise PbxApiError(f"CDR of {day}: the answer is not JSON") from None
    if isinstance(doc, dict):
        doc = doc.get("calls") or doc.get("cdr") or doc.get("data") or []
    if not isinstance(doc, list):
        raise PbxApiError(f"CDR of {day}: the answer is not a list of calls")
    return doc


# --------------------------------------------------------------------------------- pull
@dataclass
class DayResult:
    day: date
    calls: int
    loaded: int = 0
    duplicate: int = 0
    cc: str = ""
    error: str | None = None


@dataclass
class PullResult:
    source: str
    days: list[DayResult] = field(default_factory=list)
    watermark: date | None = None

    @property
    def calls(self) -> int:
        return sum(d.calls for d in self.days)


def source_key(client: PbxClient) -> str:
    return f"{client.base_url}|{client.domain}|cdr"


def watermark(con: duckdb.DuckDBPyConnection, source: str) -> date | None:
    row = con.execute("SELECT last_day FROM pull_watermarks WHERE source = ?", [source]).fetchone()
    return row[0] if row else None


def _set_watermark(con: duckdb.DuckDBPyConnection, source: str, day: date, calls: int) -> None:
    con.execute(
        "INSERT INTO pull_watermarks (source, last_day, pulled_at, calls) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (source) DO UPDATE SET last_day = greatest(pull_watermarks.last_day,"
        " excluded.last_day), pulled_at = excluded.pulled_at,"
        " calls = pull_watermarks.calls + excluded.calls",
        [source, day, datetime.now(UTC), calls])


def days_to_pull(mark: date | None, since: date | None, today: date) -> list[date]:
    """From the day before the watermark (late rows) through today; without a watermark from
    `since` (default: a week back). `since` earlier than the watermark backfills."""
    if mark is not None:
        start = min(mark - timedelta(days=1), today - timedelta(days=1))
        if since is not None:
            start = min(start, since)
    else:
        start = since or today - timedelta(days=DEFAULT_LOOKBACK_DAYS)
    n = (today - start).days
    return [start + timedelta(days=i) for i in range(n + 1)]


def pull(con: duckdb.DuckDBPyConnection, client: PbxClient, *, since: date | None = None,
         today: date | None = None, raw_dir: Path | None = None,
         progress: Callable[[str], None] | None = None,
         write: Callable[[Callable[[duckdb.DuckDBPyConnection], object]], object] | None = None,
         ops: sa.Engine | None = None,
         ) -> PullResult:
    """Pull day by day; each day is one ingest transaction, then the watermark advances.

    The payloads are kept as files under `raw_dir` (provenance: the batch's source is the file);
    Call Center CDR payloads are kept there too and ingested the same way.
    `write(fn)` runs `fn(con)` where writes belong (the server: a job of the analytics writer),
    so nothing waits on the PBX's answers; by default, on `con` itself. With `ops`, the
    post-batch reconcile step pushes the callback requests to the operations store.
    """
    from pbxlens.ingest import ingest_paths

    note = progress or (lambda _m: None)
    today = today or datetime.now(_pbx_tz()).date()
    source = source_key(client)
    result = PullResult(source)
    raw_dir = Path(raw_dir or _default_raw_dir(con)) / _slug(client)
    raw_dir.mkdir(parents=True, exist_ok=True)
    write = write or (lambda fn: fn(con))
    for day in days_to_pull(watermark(con, source), since, today):
        calls = client.cdr_day(day)
        dr = DayResult(day, len(calls))
        if calls:
            body = json.dumps(calls, ensure_ascii=False).encode()
            sha = hashlib.sha256(body).hexdigest()[:12]
            path = raw_dir / f"cdr-{day.isoformat()}-{sha}.json"
            path.write_bytes(body)
            fr = write(lambda c, p=path: ingest_paths(c, [p], ops=ops))[0]
            if fr.error:
                dr.error = fr.error
                result.days.append(dr)
                raise PbxApiError(f"CDR of {day}: {fr.error}")
            dr.loaded, dr.duplicate = fr.calls_loaded, fr.rows_duplicate
            if fr.skipped:  # the very same payload as an earlier pull
                dr.duplicate = fr.rows_read
        cc = client.cc_day(day)
        if cc is None:
            dr.cc = "not served"
        elif not cc.strip() or cc.strip() == b"[]":
            dr.cc = "0 queue calls"
        else:
            sha = hashlib.sha256(cc).hexdigest()[:12]
            path = raw_dir / f"callcenter-{day.isoformat()}-{sha}.json"
            path.write_bytes(cc)
            fr = write(lambda c, p=path: ingest_paths(c, [p], ops=ops))[0]
            if fr.error:
                dr.cc = f"error: {fr.error}"
                result.days.append(dr)
                raise PbxApiError(f"Call Center CDR of {day}: {fr.error}")
            dr.cc = (f"{fr.rows_read} rows, {fr.rows_loaded} loaded, {fr.rows_duplicate} duplicate"
                     + (f", {fr.rows_quarantined} quarantined" if fr.rows_quarantined else ""))
        write(lambda c, d=day, n=dr.loaded: _set_watermark(c, source, d, n))
        result.days.append(dr)
        note(f"{day}: {dr.calls} calls, {dr.loaded} new/changed, {dr.duplicate} duplicate; CC {dr.cc}")
    result.watermark = watermark(con, source)
    return result


def _pbx_tz():
    from zoneinfo import ZoneInfo

    from pbxlens.config import get_settings

    return ZoneInfo(get_settings().timezone)


def _default_raw_dir(con: duckdb.DuckDBPyConnection) -> Path:
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
                      ).fetchone()
    base = Path(row[0]).parent if row and row[0] else Path("data")
    return base / "pulls"


def _slug(client: PbxClient) -> str:
    host = urlsplit(client.base_url).netloc or "pbx"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", f"{host}_{client.domain}")


# ----------------------------------------------------------------------- settings / jobs
@dataclass
class PullSettings:
    url: str
    user: str
    password: str
    domain: str = "default"
    interval_s: float = 900.0
    verify: bool = True


def pull_settings() -> PullSettings | None:
    """The pull configuration (settings `pbx_url`, `pbx_user`, `pbx_password`, `pbx_domain`,
    `pull_interval_s`, `pbx_verify_tls`), read fresh; None when the PBX is not configured."""
    from pbxlens.config import Settings

    s = Settings()
    if not (s.pbx_url and s.pbx_user and s.pbx_password):
        return None
    return PullSettings(s.pbx_url, s.pbx_user, s.pbx_password, s.pbx_domain or "default",
                        float(s.pull_interval_s), s.pbx_verify_tls)
