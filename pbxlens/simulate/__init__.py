"""Deterministic synthetic KalliopePBX call-center data (CDR files + directory.json).

``simulate()`` returns the truth in memory; ``generate()`` streams it, day by day, to the
requested file formats, and writes the truth tables beside them (truth_tables.py).
A scenario (scenarios.py) sets the PBX and every frequency; the default is the contact center.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from .directory import Directory, build_directory, merge_json
from .engine import NEVER, Engine, status_from_legs
from .layouts import sip_prefix
from .scenarios import DEFAULT, SCENARIOS, Scenario, get_scenario
from .truth import CC_OUTCOMES, CC_QUEUE_CAUSES, Call, Leg, Truth

ALL_FORMATS: tuple[str, ...] = ("csv", "csv-detailed", "json", "xml", "xlsx")
# Call Center CDR layouts; not in ALL_FORMATS, which stays the plain CDR
CC_FORMATS: tuple[str, ...] = ("cc-csv", "cc-csv-detailed", "cc-json", "cc-xml", "cc-xlsx",
                               "cc-xlsx-detailed")
# derived from the truth after the run (simulate/activity.py): the PBX event log and the
# feedback requests
EXTRA_FORMATS: tuple[str, ...] = ("events", "feedback")

__all__ = ["ALL_FORMATS", "CC_FORMATS", "CC_OUTCOMES", "CC_QUEUE_CAUSES", "DEFAULT",
           "EXTRA_FORMATS", "SCENARIOS", "Call", "Directory", "GenerateSummary", "Leg",
           "Scenario", "Truth", "build_directory", "generate", "get_scenario", "simulate",
           "status_from_legs"]


@dataclass
class GenerateSummary:
    calls: int
    legs: int
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0


class Run:
    """One simulation: one Engine, or one per tenant of a provider's PBX (`Scenario.tenants`),
    stepped together in time order so that they share the PBX's call sequence."""

    def __init__(self, sc: Scenario, days: int, calls_per_day: int, seed: int,
                 start: date | None, tz: str):
        if days < 1:
            raise ValueError("days must be >= 1")
        if calls_per_day < 0:
            raise ValueError("calls_per_day must be >= 0")
        if start is None:
            start = date.today() - timedelta(days=days)
        self.sc, self.days, self.start, self.seed = sc, days, start, seed
        kw = dict(start=start, days=days, tz=tz)
        if not sc.tenants:
            d = sc.layout(seed, max(1.0, calls_per_day / sc.calls_per_day), sc)
            self.engines = [Engine(d, seed=seed, calls_per_day=calls_per_day, scenario=sc, **kw)]
            return
        self.engines = []
        box = [0]
        for domain, name, sub, share in sc.tenants:
            ssc = get_scenario(sub)
            cpd = round(calls_per_day * share)
            d = ssc.layout(seed, max(1.0, cpd / ssc.calls_per_day), ssc, tenant=domain,
                           tenant_name=name, prefix=sip_prefix(seed, domain))
            eng = Engine(d, seed=f"{seed}/{domain}", calls_per_day=cpd, scenario=ssc, **kw)
            eng.seq_box = box
            self.engines.append(eng)

    @property
    def multi_tenant(self) -> bool:
        return bool(self.sc.tenants)

    def directory_json(self, tz: str) -> dict:
        return merge_json([e.d.to_json(tz) for e in self.engines])

    def run(self) -> Iterator[list[Call]]:
        if len(self.engines) == 1:
            yield from self.engines[0].run()
            return
        engines = self.engines
        for di in range(self.days):
            for e in engines:
                e.begin_day(di)
            calls: list[Call] = []
            while True:
                best, bt = None, NEVER
                for e in engines:
                    t = e.next_t()
                    if t < bt:
                        best, bt = e, t
                if best is None:
                    break
                best.step(calls)
            yield calls
        for e in engines:
            e.end_run()


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


def _run(days, calls_per_day, seed, start, tz, scenario) -> Run:
    sc = get_scenario(scenario)
    cpd = sc.calls_per_day if calls_per_day is None else calls_per_day
    return Run(sc, days, cpd, seed, start, tz)


def simulate(*, days: int = 30, calls_per_day: int | None = None, seed: int = 1,
             start: date | None = None, tz: str = "Europe/Rome",
             progress: Callable[[int], None] | None = None,
             scenario: str | Scenario | None = None) -> Truth:
    """Run the simulation and keep every call (with its legs) in memory."""
    run = _run(days, calls_per_day, seed, start, tz, scenario)
    calls: list[Call] = []
    with _NoCyclicGC():  # no per-day collection: every call is kept, nothing is freed
        for batch in run.run():
            calls.extend(batch)
            for e in run.engines:
                e.visits.clear()
            if progress:
                progress(len(calls))
    eng = run.engines[0]
    stats: dict = {}
    for e in run.engines:
        for k, v in e.stats.items():
            stats[k] = stats.get(k, 0) + v
    return Truth(eng.d, calls, run.start, days, seed, tz, stats,
                 ledger=[e.ledger for e in run.engines],
                 pauses=[p for e in run.engines for p in e.pauses])


# below this many calls a writer process costs more (start-up) than it saves
WRITER_PROCESS_MIN_CALLS = 20_000


def generate(out_dir: Path, *, days: int = 30, calls_per_day: int | None = None, seed: int = 1,
             start: date | None = None, formats: Sequence[str] = ALL_FORMATS,
             tz: str = "Europe/Rome",
             progress: Callable[[int], None] | None = None,
             writer_process: bool | None = None,
             scenario: str | Scenario | None = None) -> GenerateSummary:
    """Simulate and stream the CDR in ``formats`` plus ``directory.json`` and the truth tables
    into ``out_dir``.

    ``scenario``: a name of ``SCENARIOS`` (default ``contact-center``); ``calls_per_day``
    defaults to the scenario's.

    ``formats`` may also name ``EXTRA_FORMATS``: ``events`` (the PBX event log
    ``events.jsonl``) and ``feedback`` (``feedback_requests.ndjson``), written after the run
    from the truth (simulate/activity.py).

    ``progress`` is called after each simulated day with the number of calls simulated (and
    handed to the writers) so far.

    ``writer_process``: format and write the files in a second process, overlapping the
    simulation (``None`` = when at least 2 CPUs are usable and the run is not tiny). The files
    are byte-identical either way.
    """
    from .activity import ActivityLog, write_events, write_feedback
    from .truth_tables import QueueDays, write_missed
    from .writers import FORMAT_WRITERS, write_directory_json
    from .writers.sink import open_sink, usable_cpus

    t0 = time.perf_counter()
    extra = [f for f in formats if f in EXTRA_FORMATS]
    formats = [f for f in formats if f not in EXTRA_FORMATS]
    unknown = [f for f in formats if f not in FORMAT_WRITERS]
    if unknown:
        raise ValueError(f"unknown format(s) {unknown}; known: {list(FORMAT_WRITERS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    run = _run(days, calls_per_day, seed, start, tz, scenario)
    fmts = list(dict.fromkeys(formats))
    if writer_process is None:
        cpd = sum(e.cpd for e in run.engines)
        writer_process = usable_cpus() >= 2 and days * cpd >= WRITER_PROCESS_MIN_CALLS
    sink = open_sink(out_dir, fmts, tz, writer_process, tenant=run.multi_tenant)
    log = ActivityLog(all(e.sc.call_events for e in run.engines)) if extra else None
    qdays = QueueDays(tz)
    n_calls = n_legs = 0
    ok = False
    try:
        with _NoCyclicGC() as nogc:
            for batch in run.run():
                sink.write(batch)
                for e in run.engines:
                    qdays.add(e.visits)
                    e.visits.clear()
                if log is not None:
                    log.add(batch)
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
        files.append(write_events(out_dir, run.engines, log))
    if "feedback" in extra:
        files.append(write_feedback(out_dir, log, seed))
    files.append(write_directory_json(run.directory_json(tz), out_dir))
    files.append(qdays.write(out_dir))
    files.extend(write_missed(out_dir, [e.ledger for e in run.engines], tz))
    return GenerateSummary(n_calls, n_legs, files, time.perf_counter() - t0)
