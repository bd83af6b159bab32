"""PBX billing profiles (nexus_modules.md C.6, pbx_data.md §5.4): the PBX's XLSX template.

Template columns: name, type, selection, connectionfee, connectionduration, nextunitsfee,
nextunitsduration, enabled -- one row per rule, `name` groups rows into profiles, `enabled` is
the profile's flag repeated on every row (t/f), decimals with a comma or a dot.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import duckdb
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from pbxlens import CellError
from pbxlens.billing import files, rating
from pbxlens.billing.files import BillingFileError
from pbxlens.billing.tariffs import transaction

TEMPLATE = ["name", "type", "selection", "connectionfee", "connectionduration", "nextunitsfee",
            "nextunitsduration", "enabled"]


def _name(v: Any) -> str:
    s = files.text(v)
    if not s:
        raise CellError("required", key="row_required")
    return s


def _kind(v: Any) -> str:
    kind = (files.text(v) or "any").lower()
    if kind not in ("exact", "prefix", "any"):
        raise CellError(f"must be exact, prefix or any: {kind!r}", key="row_rule_kind",
                        value=repr(kind))
    return kind


def _fee(v: Any) -> Decimal | None:
    d = files.parse_decimal(v)
    if d is not None and d < 0:
        raise CellError("must be >= 0", key="row_not_negative")
    return d


def _seconds(v: Any) -> int | None:
    n = files.parse_integer(v)
    if n is not None and n < 0:
        raise CellError("must be >= 0", key="row_not_negative")
    return n


Fee = Annotated[Decimal | None, BeforeValidator(_fee)]
Seconds = Annotated[int | None, BeforeValidator(_seconds)]


class ProfileRow(BaseModel):
    """A row of the template: one rule of the profile `name` (the template's column names)."""

    model_config = ConfigDict(extra="ignore")

    name: Annotated[str, BeforeValidator(_name)]
    type: Annotated[str, BeforeValidator(_kind)] = "any"
    selection: Annotated[str | None, BeforeValidator(files.text)] = None
    connectionfee: Fee = None
    connectionduration: Seconds = None
    nextunitsfee: Fee = None
    nextunitsduration: Seconds = None
    enabled: Annotated[bool, BeforeValidator(files.parse_flag)] = True

    @model_validator(mode="after")
    def _selection_given(self) -> ProfileRow:
        if self.type != "any" and not self.selection:
            raise CellError(f"a {self.type} rule needs a selection", key="row_rule_selection",
                            kind=self.type)
        return self

    def rule(self) -> dict[str, Any]:
        return {"kind": self.type, "selection": self.selection if self.type != "any" else None,
                "connection_fee": self.connectionfee, "connection_s": self.connectionduration,
                "next_fee": self.nextunitsfee, "next_s": self.nextunitsduration}


def _parse(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The file's rows grouped into profiles (in file order); a bad row stops the import with
    its row number (the header is row 1) and reason."""
    profiles: dict[str, dict[str, Any]] = {}
    for n, r in enumerate(rows, start=2):
        try:
            row = ProfileRow.model_validate(r)
        except ValidationError as exc:
            why = files.reason(exc)
            raise BillingFileError(f"row {n}: {why}", key="row_n_reason", row=n, reason=why) from None
        p = profiles.setdefault(row.name, {"name": row.name, "enabled": row.enabled, "rules": []})
        p["rules"].append(row.rule())
    return profiles


def save_profile(con: duckdb.DuckDBPyConnection, name: str, rules: list[dict[str, Any]], *,
                 enabled: bool = True, tenant: str = "default") -> int:
    """Create or replace a profile (by tenant and name) with its rules; returns its id.
    No re-rating here: callers re-rate once (import_profiles, set_line)."""
    row = con.execute("SELECT id FROM billing_profiles WHERE tenant = ? AND name = ?",
                      [tenant, name]).fetchone()
    if row:
        pid = row[0]
        con.execute("UPDATE billing_profiles SET enabled = ? WHERE id = ?", [enabled, pid])
        con.execute("DELETE FROM billing_profile_rules WHERE profile_id = ?", [pid])
    else:
        pid = con.execute("INSERT INTO billing_profiles (tenant, name, enabled) VALUES (?, ?, ?) "
                          "RETURNING id",
                          [tenant, name, enabled]).fetchone()[0]
    for pos, r in enumerate(rules, start=1):
        con.execute("INSERT INTO billing_profile_rules (profile_id, pos, kind, selection, connection_fee, "
                    "connection_s, next_fee, next_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [pid, pos, r["kind"], r.get("selection"), r.get("connection_fee"), r.get("connection_s"),
                     r.get("next_fee"), r.get("next_s")])
    return pid


def import_profiles(con: duckdb.DuckDBPyConnection, path: Path, *, tenant: str = "default") -> dict[str, int]:
    profiles = _parse(files.read_rows(path))
    with transaction(con):
        ids = [save_profile(con, p["name"], p["rules"], enabled=p["enabled"], tenant=tenant)
               for p in profiles.values()]
        # only the calls of the lines these profiles value (a new profile has none yet)
        stats = rating.rerate_lines(con, tenant, _lines_of(con, ids))
    return {"profiles": len(profiles), "rules": sum(len(p["rules"]) for p in profiles.values()), **stats}


def _lines_of(con: duckdb.DuckDBPyConnection, profile_ids: list[int]) -> list[str]:
    if not profile_ids:
        return []
    return [r[0] for r in con.execute(
        f"SELECT line FROM billing_profile_lines WHERE profile_id IN ({', '.join('?' * len(profile_ids))})",  # noqa: S608 -- names and SQL fragments from code; values bound
        profile_ids).fetchall()]


def list_profiles(con: duckdb.DuckDBPyConnection, *, tenant: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT id, tenant, name, enabled FROM billing_profiles"
    params: list[Any] = []
    if tenant is not None:
        sql += " WHERE tenant = ?"
        params.append(tenant)
    out = []
    for pid, ten, name, enabled in con.execute(sql + " ORDER BY id", params).fetchall():
        rules = con.execute("SELECT id, kind, selection, connection_fee, connection_s, next_fee, next_s "
                            "FROM billing_profile_rules WHERE profile_id = ? ORDER BY pos", [pid]).fetchall()
        out.append({"id": pid, "tenant": ten, "name": name, "enabled": enabled, "rules": [
            dict(zip(("id", "kind", "selection", "connection_fee", "connection_s", "next_fee", "next_s"),
                     r, strict=True)) for r in rules]})
    return out


def export_rows(con: duckdb.DuckDBPyConnection, *, tenant: str | None = None) -> list[list[str]]:
    """Template rows. A profile without an `any` rule gets an `any` row with empty fees (C.6)."""
    rows = []
    for p in list_profiles(con, tenant=tenant):
        flag = "t" if p["enabled"] else "f"
        rules = list(p["rules"])
        if not any(r["kind"] == "any" for r in rules):
            rules.insert(0, {"kind": "any", "selection": None, "connection_fee": None, "connection_s": None,
                             "next_fee": None, "next_s": None})
        for r in rules:
            rows.append([p["name"], r["kind"], r["selection"] or "", files.comma(r["connection_fee"]),
                         "" if r["connection_s"] is None else str(r["connection_s"]),
                         files.comma(r["next_fee"]), "" if r["next_s"] is None else str(r["next_s"]), flag])
    return rows


def export_profiles(con: duckdb.DuckDBPyConnection, path: Path, *, tenant: str | None = None) -> int:
    """XLSX (text cells, as the PBX template) or a tab-separated CSV like the seed's export."""
    rows = export_rows(con, tenant=tenant)
    files.write_rows(path, TEMPLATE, rows, delimiter="\t")
    return len(rows)


def set_line(con: duckdb.DuckDBPyConnection, line: str, profile: str | None, *,
             tenant: str = "default") -> dict[str, int]:
    """Attach a profile (by name) to an outgoing line, or detach it (profile None); re-rate the
    calls of that line only."""
    with transaction(con):
        con.execute("DELETE FROM billing_profile_lines WHERE tenant = ? AND line = ?", [tenant, line])
        if profile is not None:
            row = con.execute("SELECT id FROM billing_profiles WHERE tenant = ? AND name = ?",
                              [tenant, profile]).fetchone()
            if not row:
                raise BillingFileError(f"no billing profile {profile!r} in tenant {tenant!r}")
            con.execute("INSERT INTO billing_profile_lines VALUES (?, ?, ?)", [tenant, line, row[0]])
        return rating.rerate_lines(con, tenant, [line])


def delete_profile(con: duckdb.DuckDBPyConnection, name: str, *, tenant: str = "default") -> dict[str, int]:
    """Remove a profile, its rules and its line attachments; re-rate."""
    with transaction(con):
        row = con.execute("SELECT id FROM billing_profiles WHERE tenant = ? AND name = ?",
                          [tenant, name]).fetchone()
        if not row:
            raise BillingFileError(f"no billing profile {name!r} in tenant {tenant!r}")
        lines = _lines_of(con, [row[0]])
        for t in ("billing_profile_rules", "billing_profile_lines"):
            con.execute(f"DELETE FROM {t} WHERE profile_id = ?", [row[0]])  # noqa: S608 -- names and SQL fragments from code; values bound
        con.execute("DELETE FROM billing_profiles WHERE id = ?", [row[0]])
        return rating.rerate_lines(con, tenant, lines)


def lines(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    return con.execute("SELECT pl.tenant, pl.line, p.name FROM billing_profile_lines pl "
                       "JOIN billing_profiles p ON p.id = pl.profile_id ORDER BY 1, 2").fetchall()
