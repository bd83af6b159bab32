"""Deterministic synthetic KalliopePBX call-center data (CDR files + directory.json).

``simulate()`` returns the truth in memory; ``generate()`` streams it, day by day, to the
requested file formats.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from .directory import Directory, build_directory
from .engine import Engine, status_from_legs
from .truth import CC_OUTCOMES, Call, Leg, Truth

ALL_FORMATS: tuple[str, ...] = ("csv", "csv-detailed", "json", "xml", "xlsx")
# Call Center CDR layouts (issue 6); not in ALL_FORMATS, which stays the plain CDR
CC_FORMATS: tuple[str, ...] = ("cc-csv", "cc-csv-detailed", "cc-json", "cc-xml", "cc-xlsx",
                               "cc-xlsx-detailed")
# derived from the truth after the run (simulate/activity.py): the queue-member event log and
# the feedback requests
EXTRA_FORMATS: tuple[str, ...] = ("events", "feedback")

__all__ = ["ALL_FORMATS", "CC_FORMATS", "CC_OUTCOMES", "EXTRA_FORMATS", "Call", "Directory",
           "GenerateSummary", "Leg", "Truth", "build_directory", "generate", "simulate",
           "status_from_legs"]


@dataclass
class GenerateSummary:
    calls: int
    legs: int
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0


def _scale(calls_per_day: int) -> float:
    # the default PBX (~40 operators, 30/10/4 channels) is sized for ~2000 calls/day
    return max(1.0, calls_per_day / 2000.0)


def _engine(days: int, calls_per_day: int, seed: int, start: date | None, tz: str) -> Engine:
    if days < 1:
        raise ValueError("days must be >= 1")
    if calls_per_day < 0:
        raise ValueError("calls_per_day must be >= 0")
    if start is None:
        start = date.today() - timedelta(days=days)
    d = build_directory(seed, _scale(calls_per_day))
    return Engine(d, seed=seed, start=start, days=days, calls_per_day=calls_per_day, tz=tz)


class _NoCyclicGC:
    """Pause the cyclic garbage collector for a run (restored afterwards).

    The simulation allocates millions of small container objects (calls, legs, value tuples)
    and frees them by reference counting: they form no reference cycles, yet the collector's
    generational passes over them cost ~20-30 % of the run time. ``step()`` (called once per
    simulated day) collects the young generation, so cycles, should any appear, are still freed.
    """

    def __enter__(self):
        self.was_enabled = gc.isenabled()
        gc.disable()
        return self

    def step(self) -> None:
        gc.collect(0)

    def __exit__(self, *exc):
        if self.was_enabled:
            gc.enable()
        return False


def simulate(*, days: int = 30, calls_per_day: int = 2000, seed: int = 1,
             start: date | None = None, tz: str = "Europe/Rome",
             progress: Callable[[int], None] | None = None) -> Truth:
    """Run the simulation and keep every call (with its legs) in memory."""
    eng = _engine(days, calls_per_day, seed, start, tz)
    calls: list[Call] = []
    with _NoCyclicGC():  # no per-day collection: every call is kept, nothing is freed
        for batch in eng.run():
            calls.extend(batch)
            if progress:
                progress(len(calls))
    return Truth(eng.d, calls, eng.start, days, seed, tz, dict(eng.stats))


# below this many calls a writer process costs more (start-up) than it saves
WRITER_PROCESS_MIN_CALLS = 20_000


def generate(out_dir: Path, *, days: int = 30, calls_per_day: int = 2000, seed: int = 1,
             start: date | None = None, formats: Sequence[str] = ALL_FORMATS,
             tz: str = "Europe/Rome",
             progress: Callable[[int], None] | None = None,
             writer_process: bool | None = None) -> GenerateSummary:
    """Simulate and stream the CDR in ``formats`` plus ``directory.json`` into ``out_dir``.

    ``formats`` may also name ``EXTRA_FORMATS``: ``events`` (the queue-member event log
    ``events.jsonl``) and ``feedback`` (``feedback_requests.ndjson``), written after the run
    from the truth (simulate/activity.py).

    ``progress`` is called after each simulated day with the number of calls simulated (and
    handed to the writers) so far.

    ``writer_process``: format and write the files in a second process, overlapping the
    simulation (``None`` = when at least 2 CPUs are usable and the run is not tiny). The files
    are byte-identical either way.
    """
    from .activity import BusyLog, write_events, write_feedback
    from .writers import FORMAT_WRITERS, write_directory
    from .writers.sink import open_sink, usable_cpus

    t0 = time.perf_counter()
    extra = [f for f in formats if f in EXTRA_FORMATS]
    formats = [f for f in formats if f not in EXTRA_FORMATS]
    unknown = [f for f in formats if f not in FORMAT_WRITERS]
    if unknown:
        raise ValueError(f"unknown format(s) {unknown}; known: {list(FORMAT_WRITERS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    eng = _engine(days, calls_per_day, seed, start, tz)
    fmts = list(dict.fromkeys(formats))
    if writer_process is None:
        writer_process = (usable_cpus() >= 2
                          and days * calls_per_day >= WRITER_PROCESS_MIN_CALLS)
    sink = open_sink(out_dir, fmts, tz, writer_process)
    busy = BusyLog() if extra else None
    n_calls = n_legs = 0
    ok = False
    try:
        with _NoCyclicGC() as nogc:
            for batch in eng.run():
                sink.write(batch)
                if busy is not None:
                    busy.add(batch)
                n_calls += len(batch)
                n_legs += sum(len(c.legs) for c in batch)
                del batch
                nogc.step()
                if progress:
                    progress(n_calls)
        ok = True
    finally:
        sink.close(ok=ok)
    files = [out_dir / FORMAT_WRITERS[f].filename for f in fmts]
    if "events" in extra:
        files.append(write_events(out_dir, eng, busy, seed))
    if "feedback" in extra:
        files.append(write_feedback(out_dir, busy, seed))
    files.append(write_directory(eng.d, out_dir, tz))
    return GenerateSummary(n_calls, n_legs, files, time.perf_counter() - t0)
