"""Several tenants (Kalliope4SP): one simulated call center per tenant domain.

Each tenant is an independent simulation (its own seed) whose detailed CSV carries a `tenant`
column (the reader's `tenant domain` field) and whose directory names the tenant, so that one
store or lake holds the calls of many tenants with overlapping unique ids and extensions."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

from pbxlens.simulate import generate


def generate_tenants(out_dir: Path, tenants: list[str], *, days: int = 30,
                     calls_per_day: int = 300, seed: int = 1,
                     start: date | None = None) -> list[Path]:
    """Write `out_dir/<tenant>/cdr_detailed.csv` and `directory.json` for each tenant;
    returns the tenant folders (ingest them in any order)."""
    folders = []
    for i, tenant in enumerate(tenants):
        folder = Path(out_dir) / tenant
        generate(folder, days=days, calls_per_day=calls_per_day, seed=seed + 1000 * i,
                 start=start, formats=["csv-detailed"], writer_process=False)
        _retenant_csv(folder / "cdr_detailed.csv", tenant)
        _retenant_directory(folder / "directory.json", tenant)
        folders.append(folder)
    return folders


def _retenant_csv(path: Path, tenant: str) -> None:
    tmp = path.with_suffix(".tmp")
    with open(path, encoding="utf-8", newline="") as src, \
            open(tmp, "w", encoding="utf-8", newline="") as dst:
        r, w = csv.reader(src), csv.writer(dst, lineterminator="\n")
        w.writerow([*next(r), "tenant"])
        for row in r:
            w.writerow([*row, tenant])
    tmp.replace(path)


def _retenant_directory(path: Path, tenant: str) -> None:
    d = json.loads(path.read_text(encoding="utf-8"))
    for key, items in d.items():
        if not isinstance(items, list):
            continue
        for it in items:
            if isinstance(it, dict):
                if key == "tenants":
                    it["domain"], it["name"] = tenant, tenant.capitalize()
                elif "tenant" in it:
                    it["tenant"] = tenant
    path.write_text(json.dumps(d), encoding="utf-8")
