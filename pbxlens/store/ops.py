"""The operations store: a SQLAlchemy Core engine over SQLite (WAL, the default, a file beside
the DuckDB store) or PostgreSQL (`PBXLENS_OPS_URL` / `--ops-url`), migrated by Alembic.

Every operator or supervisor action is one short transaction here; nothing in this module
touches DuckDB. Errors of an unreachable database become `OpsUnavailable` (HTTP 503 in the web
app, a one-line message in the CLI).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

try:
    import fcntl
except ImportError:  # not on Windows: the other processes then meet at the busy handler
    fcntl = None  # type: ignore[assignment]

from pbxlens import PbxlensError
from pbxlens.store import direct, schema

SQLITE_BUSY_MS = 10_000


class OpsUnavailable(PbxlensError):
    """The operations store cannot be reached (PostgreSQL down, SQLite file unwritable)."""

    status = 503
    error_id = "ops-unavailable"


_SHARED: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def mark_shared(engine: sa.Engine) -> None:
    """A server's engine: request threads write this store while the writer's jobs do."""
    _SHARED.add(engine)


def is_shared(engine: sa.Engine) -> bool:
    """Whether other threads of this process write the store (see `mark_shared`)."""
    return engine in _SHARED


def default_url(db_path: Path) -> str:
    """SQLite beside the DuckDB file: data/pbxlens.duckdb -> data/pbxlens-ops.sqlite.

    Example:
        >>> default_url(Path("data/pbxlens.duckdb"))
        'sqlite:///data/pbxlens-ops.sqlite'
    """
    return f"sqlite:///{db_path.with_name(db_path.stem + '-ops.sqlite')}"


def resolve_url(db_path: Path, url: str | None = None) -> str:
    """--ops-url, else PBXLENS_OPS_URL, else SQLite beside the DuckDB file."""
    from pbxlens.config import get_settings

    return url or os.environ.get("PBXLENS_OPS_URL") or get_settings().ops_url or default_url(db_path)


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_con, _record) -> None:
    # Autocommit at the driver level, so that SQLAlchemy's BEGIN (below) is the only one:
    # pysqlite's own deferred BEGIN would let two writers both read, then deadlock on upgrade.
    dbapi_con.isolation_level = None
    cur = dbapi_con.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # durable across a process crash (WAL), fast
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


# One write turn per SQLite file. Writers queue for it and are handed it when it frees,
# instead of polling SQLite's busy handler (its back-off sleeps up to 100 ms however soon the
# lock frees, and lets a newcomer win over a long waiter): this process's threads on a lock,
# then the processes (a server and its intake workers) on an flock of a file beside the
# database, freed by the kernel when its holder dies. The flock is polled at most 1 ms apart
# and given up after the busy timeout (SQLite's own wait then decides), so that a writer
# never waits for ever.
class _Turn:
    def __init__(self, database: str | None) -> None:
        self._lock = threading.RLock()
        self._depth = 0  # the RLock's nesting: the flock is taken once, by the outermost
        self._held = False
        self._fd: int | None = None
        if fcntl is not None and database and database != ":memory:" and not database.startswith("file:"):
            with contextlib.suppress(OSError):  # a read-only folder: the start-up check says so
                self._fd = os.open(f"{database}-turn", os.O_RDWR | os.O_CREAT, 0o600)
                weakref.finalize(self, os.close, self._fd)

    def acquire(self) -> None:
        self._lock.acquire()
        self._depth += 1
        if self._depth == 1 and self._fd is not None:
            try:
                self._held = _flock(self._fd, SQLITE_BUSY_MS / 1000)
            except BaseException:
                self._depth -= 1
                self._lock.release()
                raise

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._held:
            self._held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._lock.release()


def _flock(fd: int, timeout_s: float) -> bool:
    """Take the exclusive flock of `fd` within `timeout_s`; False when it stayed taken."""
    delay, deadline = 0.0001, time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.001)


_TURNS: weakref.WeakKeyDictionary[sa.Engine, _Turn] = weakref.WeakKeyDictionary()


def _sqlite_begin(conn) -> None:
    # BEGIN IMMEDIATE takes the write lock up front: a transaction that reads then writes never
    # fails half-way with "database is locked"; it waits (busy_timeout) at its start instead.
    if not conn.info.get("write", True):
        conn.exec_driver_sql("BEGIN")
        return
    turn = _TURNS.get(conn.engine)
    if turn is not None:
        turn.acquire()
        conn.info["turn"] = turn
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _sqlite_end(conn)
        raise


def _sqlite_end(conn) -> None:
    turn = conn.info.pop("turn", None)
    if turn is not None:
        turn.release()


# A pooled PostgreSQL connection is checked (a round trip: SELECT 1) before it is handed out
# only when it sat unused this long. Checking every checkout (`pool_pre_ping`) cost an operator's
# booking two of its four round trips, and each round trip waits for PostgreSQL's backend to get
# a core: under an ingest, a quarter of an intake process's request time was those checks. A
# connection in steady use is checked by its use: a failure then invalidates the pool
# (SQLAlchemy), the request answers 503 (`OpsUnavailable`), and the next ones reconnect.
PING_IDLE_S = 1.0


def _idle_since(_dbapi_con, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dialect: sa.Dialect):
    def checkout(dbapi_con, record, _proxy) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) <= PING_IDLE_S:
            return
        try:
            dialect.do_ping(dbapi_con)
        except Exception as exc:  # the pool retries with a fresh connection (three times)
            raise sa.exc.DisconnectionError(str(exc)) from exc

    return checkout


def create_engine(url: str) -> sa.Engine:
    """An engine for `url` with the back-end's settings; a SQLite file's folder must exist."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
            folder = Path(u.database).resolve().parent
            folder.mkdir(parents=True, exist_ok=True)
        # Connections kept for every server thread: an overflow connection is opened and
        # closed per checkout (its PRAGMAs included) exactly when the server is busiest.
        engine = sa.create_engine(u, pool_size=64, max_overflow=16, pool_timeout=30,
                                  connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        sa.event.listen(engine, "commit", _sqlite_end)
        sa.event.listen(engine, "rollback", _sqlite_end)
        _TURNS[engine] = _Turn(u.database)
        return engine
    if u.get_backend_name() == "postgresql":
        # PostgreSQL forks a backend per new connection: enough kept for a busy server.
        engine = sa.create_engine(u, pool_size=32, max_overflow=32, pool_timeout=30)
        sa.event.listen(engine, "connect", _idle_since)  # a new connection needs no check
        sa.event.listen(engine, "checkin", _idle_since)
        sa.event.listen(engine, "checkout", _ping_if_idle(engine.dialect))
        return engine
    raise PbxlensError(f"unsupported operations store {describe(url)}: use sqlite or postgresql")


def is_unavailable(exc: BaseException) -> bool:
    """A connection-level failure (as opposed to a constraint violation)."""
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and bool(exc.connection_invalidated)


@contextmanager
def unavailable_as_error(engine: sa.Engine) -> Iterator[None]:
    """Turn a connection failure into `OpsUnavailable` with the URL (password hidden)."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        if not is_unavailable(exc):
            raise
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise OpsUnavailable(
            f"the operations store {describe(str(engine.url))} is unavailable: {first}") from exc


@contextmanager
def deferred(conn: sa.Connection) -> Iterator[sa.Connection]:
    """On SQLite, the transactions `conn` begins meanwhile are deferred (BEGIN): they take no
    write lock, nor the write turn (reads; writes to temporary tables only)."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.info["write"] = False
    try:
        yield conn
    finally:
        if sqlite:
            conn.info["write"] = True


@contextmanager
def autocommit(engine: sa.Engine) -> Iterator[sa.Connection]:
    """PostgreSQL: a connection outside any transaction block, where each statement is its own
    transaction (no BEGIN and COMMIT round trips; `missed_calls.oneshot`)."""
    with unavailable_as_error(engine), engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")  # reset when pooled again
        yield conn


@contextmanager
def reading(engine: sa.Engine) -> Iterator[sa.Connection]:
    """Reads. On SQLite a deferred BEGIN, so that reads (a token's user on every API request,
    lists, copies) never queue behind the write lock nor hold it (WAL readers see the last
    commit); the pooled connection gets its usual BEGIN IMMEDIATE back afterwards. On
    PostgreSQL no transaction at all (autocommit): at READ COMMITTED each statement takes its
    own snapshot inside one anyway, and the BEGIN and ROLLBACK were two of an operator's
    list's six round trips, and two of the four of every API request's token check."""
    with unavailable_as_error(engine), engine.connect() as conn, deferred(conn):
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")  # reset when pooled again
        try:
            yield conn
        finally:
            if conn.dialect.name == "sqlite":
                conn.rollback()  # end the read before the connection goes back to the pool


def insert_ignoring(conn: sa.Connection, table: sa.Table, rows: list[Mapping] | Mapping,
                    keys: Iterable[str] | None = None) -> int:
    """INSERT ... ON CONFLICT DO NOTHING on either back-end; returns the rows inserted
    (counted by RETURNING: psycopg reports no rowcount for it)."""
    stmt = _ignoring(conn.dialect.name, table, tuple(keys) if keys else None)
    return len(conn.execute(stmt, rows).all())


def insert_new(conn: sa.Connection, table: sa.Table, rows: list[Mapping],
               keys: Iterable[str] | None = None) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, not counted (`insert_ignoring` counts)."""
    direct.execute(conn, _ignoring(conn.dialect.name, table, tuple(keys) if keys else None,
                                   returning=False), rows)


def analyze_unanalyzed(engine: sa.Engine, tables: Iterable[sa.Table]) -> list[str]:
    """PostgreSQL: ANALYZE those of `tables` that have never been analyzed; returns them.
    Autovacuum's first pass over a new table comes up to a minute (its naptime) after the
    table starts filling, and until then the planner guesses. It guessed wrong on the live
    state: the intake's `tenant = ? AND unique_id IN (...)` look-up scanned every visit of the
    tenant (a single tenant looks selective without statistics), a cost that grows with each
    commit (5 ms a commit at 8,000 visits). SQLite never gathers statistics by itself: there
    the tables never analyzed, or grown tenfold since (and past 1,000 rows), are analyzed
    (without them an operator's list count drove from every open request instead of the few
    booked numbers: 4.3 against 1.4 ms a list at 2,300 open requests)."""
    if engine.dialect.name == "sqlite":
        return _analyze_sqlite(engine, [t.name for t in tables])
    if engine.dialect.name != "postgresql":
        return []
    from pbxlens.store.sql import identifier

    names = [t.name for t in tables]
    st = sa.table("pg_stat_user_tables", sa.column("relname"), sa.column("last_analyze"),
                  sa.column("last_autoanalyze"))
    with engine.connect() as conn:
        todo = conn.execute(sa.select(st.c.relname).where(
            st.c.relname.in_(names), st.c.last_analyze.is_(None),
            st.c.last_autoanalyze.is_(None))).scalars().all()
        for name in sorted(todo):
            conn.execute(sa.text(f"ANALYZE {identifier(name)}"))
        conn.commit()
    return sorted(todo)


def _analyze_sqlite(engine: sa.Engine, names: list[str]) -> list[str]:
    from pbxlens.store.sql import identifier

    with engine.connect() as conn:
        known: dict[str, int] = {}
        if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first():
            for tbl, stat in conn.exec_driver_sql("SELECT tbl, stat FROM sqlite_stat1").all():
                rows = int(str(stat).split(" ", 1)[0] or 0)
                known[tbl] = max(known.get(tbl, 0), rows)
        sizes = {n: conn.execute(sa.select(sa.func.count()).select_from(sa.table(n))).scalar_one()
                 for n in names}
    todo = sorted(n for n, size in sizes.items()
                  if (n not in known and size) or (size >= 1000 and size >= 10 * known.get(n, 0)))
    if todo:
        with engine.begin() as conn:  # statistics are written: a (short) write transaction
            for name in todo:
                conn.exec_driver_sql(f"ANALYZE {identifier(name)}")
    return todo


PAIRS_CHUNK = 1000  # values per list


def select_pairs(conn: sa.Connection, table: sa.Table, cols: tuple, keys: Iterable[tuple]
                 ) -> list[Any]:
    """The rows of `table` (dicts) whose (cols[0], cols[1]) is one of `keys`: per first value
    an equality and a list of the second, as one bound value (a PostgreSQL array, a JSON array
    on SQLite), so the statement's text never changes (compiled once). SQLite scans the
    whole table for a row-value IN (`(a, b) IN (VALUES ...)`), whatever its indexes;
    `b IN (SELECT value FROM json_each(?))` searches the index.
    PostgreSQL plans it for its values each time (`direct.rows`): the live tables it reads grow
    from nothing on a new store, faster than statistics come."""
    firsts: dict[Any, list] = {}
    for a, b in keys:
        firsts.setdefault(a, []).append(b)
    out: list[Any] = []
    pg = conn.dialect.name == "postgresql"
    stmt = _pairs_stmt(table, cols[0].name, cols[1].name, pg)
    for a, bs in firsts.items():
        for i in range(0, len(bs), PAIRS_CHUNK):
            chunk = bs[i:i + PAIRS_CHUNK]
            out += direct.rows(conn, stmt, {"a": a, "bs": chunk if pg else json.dumps(chunk)},
                               planned_each_time=True)
    return out


@functools.cache
def _pairs_stmt(table: sa.Table, first: str, second: str, pg: bool) -> sa.Select:
    col = table.c[second]
    if pg:
        match = col == sa.any_(sa.bindparam("bs", type_=postgresql.ARRAY(col.type)))
    else:
        match = col.in_(sa.select(sa.column("value")).select_from(
            sa.func.json_each(sa.bindparam("bs", type_=sa.Text))))
    return sa.select(table).where(table.c[first] == sa.bindparam("a"), match)


def upsert(conn: sa.Connection, table: sa.Table, rows: list[Mapping] | Mapping,
           keys: Iterable[str], update: Iterable[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET the `update` columns, on either back-end."""
    direct.execute(conn, _upsert(conn.dialect.name, table, tuple(keys), tuple(update)), rows)


# The statements are built once per table and columns: building one (its `excluded` columns
# above all) cost more than executing it, on the intake's path (live state) too.
@functools.lru_cache(maxsize=256)
def _ignoring(dialect: str, table: sa.Table, keys: tuple[str, ...] | None,
              returning: bool = True):
    ins = (sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table))
    ins = ins.on_conflict_do_nothing(index_elements=list(keys) if keys else None)
    return ins.returning(*table.primary_key.columns) if returning else ins


@functools.lru_cache(maxsize=256)
def _upsert(dialect: str, table: sa.Table, keys: tuple[str, ...], update: tuple[str, ...]):
    ins = (sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table))
    return ins.on_conflict_do_update(index_elements=list(keys),
                                     set_={c: ins.excluded[c] for c in update})


def _alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    return cfg


def head_revision() -> str:
    """The newest revision shipped with the package (one head: revisions form a line)."""
    from alembic.script import ScriptDirectory

    (head,) = ScriptDirectory.from_config(_alembic_config()).get_heads()
    return head


@functools.cache
def shipped_head() -> str:
    """`head_revision()` without Alembic: the revision of the highest-numbered file (revision
    files are numbered in order; tests/store/test_ops.py checks that this is Alembic's head)."""
    newest = max((Path(__file__).with_name("migrations") / "versions").glob("[0-9]*.py"))
    return re.search(r"^revision = ['\"]([^'\"]+)['\"]", newest.read_text(encoding="utf-8"),
                     re.M).group(1)


def at_head(engine: sa.Engine) -> bool:
    """Whether the store is at the newest revision, read from Alembic's own table."""
    with unavailable_as_error(engine), engine.connect() as conn:
        try:
            have = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        except sa.exc.DBAPIError:  # no table yet (a new store), or a fault `upgrade` reports
            return False
    return have == shipped_head()


def upgrade(engine: sa.Engine) -> None:
    """Bring the schema to the newest Alembic revision (creating it in an empty database).
    A store already there is left without loading Alembic and its scripts (a quarter of a
    second on every CLI command)."""
    if at_head(engine):
        return
    from alembic import command

    cfg = _alembic_config()
    with unavailable_as_error(engine), engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def current_revision(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_writable(engine: sa.Engine) -> None:
    """Fail at start-up, in one line, when the store cannot be written (read-only disk)."""
    try:
        with engine.begin() as conn:
            upsert(conn, schema.ops_meta, {"key": "last_start", "value": "now"}, ["key"], ["value"])
    except sa.exc.DBAPIError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise OpsUnavailable(
            f"cannot write the operations store {describe(str(engine.url))}: {first}") from None


def meta_get(conn: sa.Connection, key: str) -> str | None:
    t = schema.ops_meta
    return conn.execute(sa.select(t.c.value).where(t.c.key == key)).scalar_one_or_none()


def meta_set(conn: sa.Connection, key: str, value: str) -> None:
    upsert(conn, schema.ops_meta, {"key": key, "value": value}, ["key"], ["value"])
