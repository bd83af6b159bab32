"""The guard on a report run (datasette's `sql_time_limit_ms`): a maximum date range, checked
before anything runs, and a time limit that really stops the query (DuckDB's `interrupt()` from
a timer). The web app and the HTTP API run every report under the settings' guard; the CLI and
the Python API may pass their own.

Past a limit the run raises an error with a stable id and no partial result: a request for
0001-01-01..9999-12-31 is refused at once instead of holding a worker for minutes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from pbxlens import PbxlensError
from pbxlens.config import get_settings
from pbxlens.reports.filters import minus_months


def checkpoint() -> None:
    """Stop the running report here when its time is over (long Python loops call it; a
    report run without a time limit passes straight through)."""
    watched = _RUNNING.get()
    if watched is not None:
        watched.check()


class ReportGuardError(PbxlensError):
    """A report refused or stopped by its guard: a stable `error_id` and an HTTP `status`."""

    error_id = "report-guard"
    status = 400


class RangeTooLong(ReportGuardError):
    error_id = "report-range-too-long"
    status = 400


class TimeLimitExceeded(ReportGuardError):
    error_id = "report-time-limit"
    status = 503


@dataclass(frozen=True)
class Guard:
    """`time_limit_s`: seconds a run may take (None or 0: no limit); `max_months`: the longest
    range in months (None or 0: any)."""

    time_limit_s: float | None = None
    max_months: int | None = None

    @classmethod
    def from_settings(cls) -> Guard:
        s = get_settings()
        return cls(time_limit_s=s.report_time_limit_s, max_months=s.report_max_months)

    def check_range(self, report_id: str, d_from: date, d_to: date) -> None:
        """Refuse a range longer than `max_months` months (both days inclusive).

        Example:
            >>> Guard(max_months=25).check_range("r", date(2024, 1, 1), date(2026, 1, 31))
            >>> try:
            ...     Guard(max_months=25).check_range("r", date(1, 1, 1), date(9999, 12, 31))
            ... except RangeTooLong as exc:
            ...     print(exc.error_id)
            report-range-too-long
        """
        if not self.max_months:
            return
        earliest = minus_months(d_to, self.max_months) + timedelta(days=1)
        if d_from < earliest:
            raise RangeTooLong(f"{report_id}: the range {d_from} .. {d_to} is longer than "
                               f"{self.max_months} months; choose a shorter one")

    @contextmanager
    def limit(self, con, report_id: str) -> Iterator[_Watched]:
        """`con`, watched: at the time limit the running query is interrupted, no further
        query starts and `check()` (called between the steps of a run) stops the run; it
        then raises `TimeLimitExceeded`."""
        watched = _Watched(con, time.monotonic() + self.time_limit_s
                           if self.time_limit_s else None)
        timer = None
        if self.time_limit_s:
            timer = threading.Timer(self.time_limit_s, watched.expire)
            timer.daemon = True
            timer.start()
        token = _RUNNING.set(watched)
        try:
            yield watched
        except duckdb.InterruptException:
            if not watched.expired:
                raise
            raise self._exceeded(report_id) from None
        finally:
            _RUNNING.reset(token)
            if timer is not None:
                timer.cancel()
                # its thread holds `con` (through watched.expire) until it ends: joined, the
                # connection is not closed later in that thread, nor while the interpreter
                # exits (a DuckDB destructor in a thread ended at exit aborts the process)
                timer.join()

    def _exceeded(self, report_id: str) -> TimeLimitExceeded:
        return TimeLimitExceeded(f"{report_id}: stopped after the time limit of "
                                 f"{self.time_limit_s:g} s; choose a shorter range or fewer rows")


class _Watched:
    """A connection whose queries stop at a deadline (every other attribute passes through)."""

    def __init__(self, con, deadline: float | None) -> None:
        self._con = con
        self._deadline = deadline
        self.expired = False

    def expire(self) -> None:
        self.expired = True
        if hasattr(self._con, "interrupt"):  # DuckDB; the Spark adapter has no interrupt
            self._con.interrupt()

    def check(self) -> None:
        """Stop here when the time is over."""
        if self.expired or (self._deadline is not None and time.monotonic() >= self._deadline):
            self.expired = True
            raise duckdb.InterruptException("the report's time limit is over")

    def execute(self, *args, **kwargs):
        self.check()
        return self._con.execute(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._con, name)


_RUNNING: ContextVar[_Watched | None] = ContextVar("pbxlens_report_deadline", default=None)
