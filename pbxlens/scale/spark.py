"""The Spark adapter: runs the catalog's DuckDB SQL on Spark SQL over the Parquet lake.

`SparkEngine` stands where a DuckDB connection stands for the report engine (`execute(sql,
args)` -> a cursor with `description`, `fetchall`, `fetchone`), so every family engine, this
branch's or a later one, runs unchanged. Each query is parsed by sqlglot as DuckDB SQL, the
few DuckDB-isms Spark reads differently are rewritten here (and only here), and it is generated
as Spark SQL with the values bound as Spark parameters (never written into the text). No Python
UDF runs: everything executes in the JVM.

Dialect differences handled (the only per-engine knowledge in the project):
- `dayofweek(x)`: DuckDB counts Sunday = 0, Spark Sunday = 1; `isodow(x)` (Monday = 1) is
  Spark's `weekday(x) + 1` (sqlglot's own rendering of it is off by one day);
- `GROUPING(a, b, ...)` with several columns is DuckDB's bit mask; Spark accepts one column
  (its `grouping_id` must list every grouping column), so the mask is spelled out bit by bit;
- `WITH x AS MATERIALIZED (...)`: a DuckDB planner hint Spark does not parse, dropped;
- `regexp_full_match(x, p)`: Spark's RLIKE searches, so the pattern is anchored `^(?:p)$`.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlglot import exp

from pbxlens import PbxlensError
from pbxlens.scale import lake as lk
from pbxlens.scale import sqltext

DIALECT = "spark"


def adapt(tree: exp.Expression, params: dict[str, object] | None = None,
          tz: str | None = None) -> exp.Expression:
    """DuckDB semantics -> Spark SQL semantics, on the syntax tree. `params` and `tz` (the
    session's time zone) let `timezone(tz, x)` be adapted."""
    tree = tree.copy()
    for node in list(tree.find_all(exp.Anonymous)):
        if node.name.lower() == "to_minutes" and len(node.expressions) == 1:
            node.replace(exp.Anonymous(this="MAKE_DT_INTERVAL", expressions=[
                exp.Literal.number(0), exp.Literal.number(0), node.expressions[0].copy()]))
    for node in list(tree.find_all(exp.Anonymous)):
        if node.name.lower() == "timezone" and len(node.expressions) == 2:
            # DuckDB's timezone(tz, x) turns a wall clock of tz into an instant and back. The
            # session runs in the PBX's zone (session()), where a Spark TIMESTAMP reads and
            # shows wall clocks of that zone: with the same zone it is x itself.
            zone, arg = node.expressions
            given = (params or {}).get(zone.name) if isinstance(zone, exp.Placeholder) else (
                zone.name if isinstance(zone, exp.Literal) else None)
            if tz is None or given != tz:
                raise PbxlensError(f"timezone({given!r}, ...) on Spark needs the session's "
                                   f"time zone ({tz!r})")
            node.replace(arg.copy())
    for node in list(tree.find_all(exp.DayOfWeek)):
        node.replace(exp.paren(exp.Sub(this=exp.Anonymous(this="DAYOFWEEK",
                                                            expressions=[node.this]),
                                       expression=exp.Literal.number(1))))
    for node in list(tree.find_all(exp.DayOfWeekIso)):  # Monday = 1 ... Sunday = 7
        node.replace(exp.paren(exp.Add(this=exp.Anonymous(this="WEEKDAY",
                                                          expressions=[node.this]),
                                       expression=exp.Literal.number(1))))
    for node in list(tree.find_all(exp.Grouping)):
        cols = list(node.expressions)
        if len(cols) > 1:  # Spark's grouping_id() must name every grouping column: spell out
            n = len(cols)  # DuckDB's mask as a sum of single-column GROUPING() bits
            terms = [exp.Mul(this=exp.cast(exp.Grouping(expressions=[c.copy()]), "INT"),
                             expression=exp.Literal.number(1 << (n - 1 - i)))
                     for i, c in enumerate(cols)]
            total = terms[0]
            for t in terms[1:]:
                total = exp.Add(this=total, expression=t)
            node.replace(exp.paren(total))
    for node in tree.find_all(exp.CTE):  # `AS MATERIALIZED` is a DuckDB planner hint
        node.set("materialized", None)
    for node in list(tree.find_all(exp.RegexpFullMatch)):  # Spark has RLIKE (a search)
        pat = node.expression
        anchored = (exp.Literal.string(f"^(?:{pat.this})$") if isinstance(pat, exp.Literal)
                    else exp.func("CONCAT", exp.Literal.string("^(?:"), pat.copy(),
                                  exp.Literal.string(")$")))
        node.replace(exp.RegexpLike(this=node.this.copy(), expression=anchored))
    return tree


def to_spark(sql: str, args=None) -> tuple[str, list]:
    from pbxlens.store import analytics

    tree, params = sqltext.parse(sql, args)
    return sqltext.render(adapt(tree, params, analytics.timezone()), params, DIALECT)


_SESSION_LOCK = threading.Lock()


def session(master: str | None = None, tz: str | None = None, app: str = "pbxlens",
            conf: dict[str, str] | None = None):
    """A Spark session (local[2] by default; any cluster by master URL). `conf` adds or
    overrides Spark settings (tests turn off what only pays on big data)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        from pbxlens import PbxlensError

        raise PbxlensError("--engine spark needs pyspark: pip install 'pbxlens[spark]'") from None

    from pbxlens.store import analytics

    with _SESSION_LOCK:
        b = (SparkSession.builder.appName(app).master(master or "local[2]")
             .config("spark.sql.session.timeZone", tz or analytics.timezone())
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.default.parallelism", "2")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
             .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true")
             .config("spark.driver.memory", "1g")
             .config("spark.sql.adaptive.enabled", "true"))
        for k, v in (conf or {}).items():
            b = b.config(k, v)
        spark = b.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        return spark


class SparkCursor:
    def __init__(self, df, tz: str) -> None:
        from pyspark.sql.types import TimestampType

        self.description = [(f.name, str(f.dataType), None, None, None, None, None)
                            for f in df.schema.fields]
        zone = ZoneInfo(tz)
        aware = [isinstance(f.dataType, TimestampType) for f in df.schema.fields]
        rows = df.collect()
        if any(aware):  # pyspark hands back naive local-time datetimes: make them instants
            rows = [tuple(v.astimezone(zone) if a and isinstance(v, datetime) else v
                          for v, a in zip(r, aware, strict=True)) for r in rows]
        self._rows = [tuple(r) for r in rows]
        self._pos = 0

    def fetchall(self) -> list[tuple]:
        out, self._pos = self._rows[self._pos:], len(self._rows)
        return out

    def fetchone(self) -> tuple | None:
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def fetchmany(self, size: int = 1) -> list[tuple]:
        out = self._rows[self._pos:self._pos + size]
        self._pos += len(out)
        return out

    def fetchdf(self):
        import pandas as pd

        return pd.DataFrame(self._rows, columns=[d[0] for d in self.description])

    df = fetchdf

    def close(self) -> None:
        self._rows = []


class SparkEngine:
    """The report engine's connection, on Spark over a lake."""

    dialect = DIALECT

    def __init__(self, lake: str | Path, master: str | None = None, spark=None,
                 tz: str | None = None) -> None:
        from pbxlens.store import analytics

        self.lake = Path(lake)
        self.tables = lk.tables(self.lake)
        self.tz = tz or analytics.timezone()
        self.spark = spark or session(master, self.tz)
        self._views: set[str] = set()
        self.last_sql = ""

    def _view(self, name: str) -> None:
        if name in self._views:
            return
        entry = self.tables.get(name)
        if entry is None:
            raise PbxlensError(f"table {name!r} is not in the lake {self.lake}")
        from pyspark.sql import functions as F

        if lk.files_glob(self.lake, name, entry) is None:
            df = self.spark.read.parquet((self.lake / lk.SCHEMA_DIR / f"{name}.parquet").as_posix())
        elif entry.get("partitioned_by"):
            root = (self.lake / name).as_posix()
            df = self.spark.read.option("basePath", root).parquet(root)
        else:
            df = self.spark.read.parquet((self.lake / name / "all").as_posix())
        df = df.select(*[F.col(c) for c, _ty in entry["columns"]])
        df.createOrReplaceTempView(name)
        self._views.add(name)

    def execute(self, sql: str, args=None) -> SparkCursor:
        tree, params = sqltext.parse(sql, args)
        for name in sqltext.table_names(tree):
            self._view(name)
        text, values = sqltext.render(adapt(tree, params, self.tz), params, DIALECT)
        self.last_sql = text
        df = self.spark.sql(text, args=values) if values else self.spark.sql(text)
        return SparkCursor(df, self.tz)

    def cursor(self) -> SparkEngine:
        return self

    def has_table(self, name: str) -> bool:
        return name in self.tables

    def close(self) -> None:
        """Views go; the session stays for the process (starting one costs seconds)."""
        for v in self._views:
            with contextlib.suppress(Exception):  # a stopped session has no views left
                self.spark.catalog.dropTempView(v)
        self._views.clear()
