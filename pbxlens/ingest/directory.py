"""The directory file (`directory.json`): the PBX's extensions, accounts, queues, groups, lines
and organization, as a snapshot. Loading it replaces the directory rows of the tenants it names.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pbxlens.ingest.sniff import UnreadableFileError

MARKER = "pbxlens_directory"


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)
    tenant: str = "default"


class Named(_M):
    id: str
    name: str | None = None


class OrgUnit(Named):
    organization: str | None = None


class Account(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)
    account: str
    kind: str | None = None


class Operator(_M):
    extension: str
    name: str | None = None
    organization: str | None = None
    org_unit: str | None = None
    cost_center: str | None = None
    division: str | None = None
    mobile: str | None = None
    accounts: list[Account] = Field(default_factory=list)


class Member(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)
    account: str
    penalty: int | None = 0


class Queue(Named):
    strategy: str | None = None
    max_wait_s: int | None = None
    checktime: str | None = None
    members: list[Member] = Field(default_factory=list)


class RingGroup(Named):
    members: list[str] = Field(default_factory=list)


class Checktime(Named):
    rules: list[dict] = Field(default_factory=list)
    holidays: str | None = None


class Gateway(_M):
    name: str
    kind: str | None = None
    channel_limit: int | None = None
    country_code: str | None = None
    numbers: list[str] = Field(default_factory=list)


class OutboundConfiguration(_M):
    name: str
    gateway: str | None = None
    channel_limit: int | None = None


class BillingCode(_M):
    code: str
    description: str | None = None


class Tenant(BaseModel):
    model_config = ConfigDict(extra="ignore")
    domain: str
    name: str | None = None


class Directory(BaseModel):
    model_config = ConfigDict(extra="ignore")
    tenants: list[Tenant] = Field(default_factory=lambda: [Tenant(domain="default")])
    organizations: list[Named] = Field(default_factory=list)
    org_units: list[OrgUnit] = Field(default_factory=list)
    cost_centers: list[Named] = Field(default_factory=list)
    divisions: list[Named] = Field(default_factory=list)
    operators: list[Operator] = Field(default_factory=list)
    queues: list[Queue] = Field(default_factory=list)
    ring_groups: list[RingGroup] = Field(default_factory=list)
    ivrs: list[Named] = Field(default_factory=list)
    checktimes: list[Checktime] = Field(default_factory=list)
    gateways: list[Gateway] = Field(default_factory=list)
    outbound_configurations: list[OutboundConfiguration] = Field(default_factory=list)
    billing_codes: list[BillingCode] = Field(default_factory=list)


def is_directory(path: Path) -> bool:
    with path.open("rb") as fh:
        return MARKER.encode() in fh.read(4096)


def parse(path: Path) -> Directory:
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UnreadableFileError(f"{path}: invalid directory JSON ({exc})") from None
    try:
        return Directory.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UnreadableFileError(f"{path}: invalid directory at {where}: {first['msg']}") from None


def count(d: Directory) -> int:
    return sum(len(getattr(d, f)) for f in Directory.model_fields)


# table -> (rows builder)
def _rows(d: Directory) -> dict[str, list[tuple]]:
    return {
        "tenants": [(t.domain, t.name) for t in d.tenants],
        "organizations": [(o.tenant, o.id, o.name) for o in d.organizations],
        "org_units": [(o.tenant, o.id, o.name, o.organization) for o in d.org_units],
        "cost_centers": [(o.tenant, o.id, o.name) for o in d.cost_centers],
        "divisions": [(o.tenant, o.id, o.name) for o in d.divisions],
        "operators": [(o.tenant, o.extension, o.name, o.organization, o.org_unit, o.cost_center,
                       o.division, o.mobile) for o in d.operators],
        "accounts": [(o.tenant, a.account, o.extension, a.kind)
                     for o in d.operators for a in o.accounts],
        "queues": [(q.tenant, q.id, q.name, q.strategy, q.max_wait_s, q.checktime)
                   for q in d.queues],
        "queue_members": [(q.tenant, q.id, m.account, m.penalty) for q in d.queues
                          for m in q.members],
        "ring_groups": [(g.tenant, g.id, g.name) for g in d.ring_groups],
        "ring_group_members": [(g.tenant, g.id, m) for g in d.ring_groups for m in g.members],
        "ivrs": [(i.tenant, i.id, i.name) for i in d.ivrs],
        "checktimes": [(c.tenant, c.id, c.name, json.dumps(c.rules), c.holidays)
                       for c in d.checktimes],
        "gateways": [(g.tenant, g.name, g.kind, g.channel_limit, g.country_code,
                      json.dumps(g.numbers)) for g in d.gateways],
        "outbound_configurations": [(o.tenant, o.name, o.gateway, o.channel_limit)
                                    for o in d.outbound_configurations],
        "billing_codes": [(b.tenant, b.code, b.description) for b in d.billing_codes],
    }


def load(con: duckdb.DuckDBPyConnection, d: Directory) -> int:
    """Replace the directory of the tenants in `d` (inside the caller's transaction)."""
    tenants = sorted({t.domain for t in d.tenants})
    rows = _rows(d)
    for table, values in rows.items():
        key = "domain" if table == "tenants" else "tenant"
        con.execute(f"DELETE FROM {table} WHERE list_contains(?, {key})", [tenants])  # noqa: S608 -- names and SQL fragments from code; values bound
        if values:
            marks = ", ".join("?" * len(values[0]))
            # Later duplicates of a key win: dedupe before inserting into the keyed table.
            con.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", values)  # noqa: S608 -- names and SQL fragments from code; values bound
    return sum(len(v) for v in rows.values())
