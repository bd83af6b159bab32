"""The PBX's real-time events of a simulated run, as the PBX posts them: what the live tests
replay and a live feed would post. They are the event log that `generate` writes
(`events.jsonl`, simulate/activity.py: queue-member events and the call and queue events
derived from the truth), read back in time order; unique ids are the CDR's, so the CDR of the
same run reconciles with them.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

from .activity import EVENTS_FILE


def live_run(*, days: int = 1, calls_per_day: int | None = None, seed: int = 1,
             start: date, tz: str = "Europe/Rome", scenario: str | None = None
             ) -> list[dict]:
    """The event objects of the run `generate` makes with these arguments (same calls, same
    unique ids), ids increasing in time order."""
    from . import generate

    with tempfile.TemporaryDirectory(prefix="pbxlens-live-") as tmp:
        generate(Path(tmp), days=days, calls_per_day=calls_per_day, seed=seed, start=start,
                 tz=tz, scenario=scenario, formats=["events"], writer_process=False)
        with (Path(tmp) / EVENTS_FILE).open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh]
