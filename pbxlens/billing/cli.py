"""`pbxlens billing ...`: tariffs, profiles, rating, consumption, finance export."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pbxlens import PbxlensError
from pbxlens.console import out
from pbxlens.store.server_link import forwardable, open_analytics

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Billing: Nexus tariffs, PBX billing profiles, call costs, finance export.")
tariffs_app = typer.Typer(no_args_is_help=True, help="Nexus tariffs (XLSX or CSV files).")
profiles_app = typer.Typer(no_args_is_help=True, help="PBX billing profiles (the PBX's XLSX template).")
app.add_typer(tariffs_app, name="tariffs")
app.add_typer(profiles_app, name="profiles")

DbOption = Annotated[Path | None, typer.Option("--db", help="DuckDB store")]


def _con(db: Path | None, read_only: bool = False):
    return open_analytics(db, read_only=read_only)


def _date(v: str | None, name: str) -> date | None:
    if v is None:
        return None
    try:
        return datetime.strptime(v, "%Y-%m-%d").date()
    except ValueError:
        raise PbxlensError(f"{name}: not a date in the form YYYY-MM-DD: {v!r}") from None


def _stats(what: str, s: dict) -> None:
    out.print(f"{what}: " + ", ".join(f"{k} {v:,}" for k, v in s.items() if k != "run_id"), highlight=False)


@tariffs_app.command("import")
@forwardable("exclusive")
def tariffs_import(file: Path, db: DbOption = None) -> None:
    """Add or update (by id) the tariffs of FILE, then re-rate the changed calls."""
    from pbxlens.billing import tariffs

    _stats("tariffs", tariffs.import_tariffs(_con(db), file))


@tariffs_app.command("export")
@forwardable("read")
def tariffs_export(file: Path, db: DbOption = None) -> None:
    from pbxlens.billing import tariffs

    out.print(f"{tariffs.export_tariffs(_con(db, True), file)} tariffs written to {file}")


@profiles_app.command("import")
@forwardable("exclusive")
def profiles_import(file: Path, db: DbOption = None,
                    tenant: Annotated[str, typer.Option(help="tenant domain")] = "default") -> None:
    """Create or replace (by name) the profiles of FILE, then re-rate."""
    from pbxlens.billing import profiles

    _stats("profiles", profiles.import_profiles(_con(db), file, tenant=tenant))


@profiles_app.command("export")
@forwardable("read")
def profiles_export(file: Path, db: DbOption = None) -> None:
    from pbxlens.billing import profiles

    out.print(f"{profiles.export_profiles(_con(db, True), file)} rules written to {file}")


@profiles_app.command("attach")
@forwardable("exclusive")
def profiles_attach(line: Annotated[str, typer.Argument(help="outgoing line (gateway/trunk name)")],
                    profile: Annotated[str | None, typer.Argument(help="profile; omit to detach")] = None,
                    db: DbOption = None,
                    tenant: Annotated[str, typer.Option(help="tenant domain")] = "default") -> None:
    """Attach a billing profile to an outgoing line (or detach it), then re-rate."""
    from pbxlens.billing import profiles

    _stats("line", profiles.set_line(_con(db), line, profile, tenant=tenant))


@app.command()
@forwardable("exclusive")
def rate(all_calls: Annotated[bool, typer.Option("--all", help="every call of the store")] = False,
         db: DbOption = None) -> None:
    """Rate the calls (with --all: every call; else the calls not rated yet)."""
    from pbxlens.billing import rating

    con = _con(db)
    con.execute("BEGIN TRANSACTION")
    try:
        if all_calls:
            s = rating.rate_all(con)
        else:
            s = rating.rate_unrated(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    _stats("rated", s)


@app.command()
@forwardable("read")
def consumption(year: Annotated[int | None, typer.Option(help="calendar year (default: current)")] = None,
                db: DbOption = None) -> None:
    """Consumption per tariff and company: time, cost, hypothetical cost, free minutes used."""
    from pbxlens.billing.consumption import consumption as rows_of

    year = year or date.today().year
    rows = rows_of(_con(db, True), year=year)
    t = Table(title=f"consumption {year}")
    for c in ("tariff", "company", "direction", "calls", "time", "cost €", "hypothetical €",
              "free used / limit"):
        t.add_column(c, justify="right" if c not in ("tariff", "company", "direction") else "left")
    for r in rows:
        free = ""
        if r["direction"] == "total" and r["free_limit_s"]:
            free = f"{_hms(r['free_used_s'])} / {_hms(r['free_limit_s'])} ({r['free_pct']}%)"
        t.add_row(f"{r['tariff_id']} {r['description'] or ''}", r["company"] or "-", r["direction"],
                  f"{r['calls']:,}", _hms(r["seconds"]), f"{r['cost']:.2f}", f"{r['cost_nofree']:.2f}", free)
    out.print(t)


def _hms(s: int) -> str:
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@app.command("export")
@forwardable("read")
def export(out_file: Annotated[Path, typer.Option("--out", help="FILE.xlsx")],
           date_from: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
           date_to: Annotated[str | None, typer.Option("--to", help="last day (inclusive)")] = None,
           method: Annotated[str, typer.Option(help="tariff | profile")] = "tariff",
           db: DbOption = None,
           lang: Annotated[str, typer.Option(help="en | it: sheet names and headers")] = "en",
           unrated: Annotated[str | None, typer.Option(
               help="a period with unrated calls: refuse | mark (default: the setting "
                    "billing_unrated)")] = None,
           ) -> None:
    """Finance workbook: one sheet per breakdown (month, date, organization, gateway, operator,
    cost center, division) with totals, after an information sheet."""
    from pbxlens.billing.export import export_xlsx

    if method not in ("tariff", "profile"):
        raise PbxlensError("--method: tariff or profile")
    if lang not in ("en", "it"):
        raise PbxlensError("--lang: en or it")
    counts = export_xlsx(_con(db, True), out_file, date_from=_date(date_from, "--from"),
                         date_to=_date(date_to, "--to"), method=method, lang=lang,
                         unrated_calls=unrated)
    out.print(f"{out_file}: " + ", ".join(f"{k} {v}" for k, v in counts.items()), highlight=False)


# ----------------------------------------------------------------------------- multiservice

TenantOption = Annotated[str, typer.Option(help="tenant domain")]


@app.command("service")
@forwardable("exclusive")
def service_add(name: str,
                rate: Annotated[str, typer.Option(help="EUR per minute (calls) or per unit")],
                kind: Annotated[str, typer.Option(help="calls_in | calls_out | units")] = "units",
                free: Annotated[int, typer.Option(help="free minutes (calls) or units")] = 0,
                answer: Annotated[str | None, typer.Option(help="answer charge (calls)")] = None,
                db: DbOption = None, tenant: TenantOption = "default") -> None:
    """Add a multiservice service (e.g. "chiamate in", "visura camerale")."""
    from pbxlens.billing import multiservice

    sid = multiservice.add_service(_con(db), tenant=tenant, name=name, kind=kind, rate=rate,
                                   free_limit=free, answer_charge=answer)
    out.print(f"service {sid}: {name}")


@app.command("contract")
@forwardable("exclusive")
def contract(company: str,
             date_from: Annotated[str, typer.Option("--from", help="first day (competenza)")],
             date_to: Annotated[str | None, typer.Option("--to", help="last day; omit = open")] = None,
             db: DbOption = None, tenant: TenantOption = "default") -> None:
    """Set a company's multiservice contract period (competenza)."""
    from pbxlens.billing import multiservice

    multiservice.set_contract(_con(db), company, date_from, date_to, tenant=tenant)
    out.print(f"contract {company}: {date_from} - {date_to or '...'}")


@app.command("quantity")
@forwardable("exclusive")
def quantity(company: str, service_id: int, qty: int,
             date_from: Annotated[str, typer.Option("--from", help="period start")],
             date_to: Annotated[str, typer.Option("--to", help="period end")],
             db: DbOption = None, tenant: TenantOption = "default") -> None:
    """Enter a quantity of a non-call service for a company and a period."""
    from pbxlens.billing import multiservice

    qid = multiservice.add_quantity(_con(db), company, service_id, date_from, date_to, qty,
                                    tenant=tenant)
    out.print(f"quantity {qid}: {company} service {service_id} x {qty}")


# ----------------------------------------------------------------------------- why this cost

_FAIL_TEXT = {
    "inactive": "inactive", "no_rate": "no rate for this direction",
    "tenant": "another tenant", "company": "another company", "gateway": "another gateway",
    "prefix": "prefix does not match", "countries": "number not in its countries",
    "validity": "not valid on the call's day", "applies": "applies, lost on",
    "chosen": "chosen"}
_CRITERION_TEXT = {
    "company": "a company tariff wins", "tenant": "a tenant tariff wins",
    "gateway": "a gateway tariff wins", "prefix": "a longer prefix wins",
    "countries": "a tariff with countries wins", "valid_from": "a later valid_from wins",
    "id": "same rank: the lowest id wins"}


@app.command("explain")
@forwardable("read")
def explain_cmd(unique_id: str,
                method: Annotated[str, typer.Option(help="tariff | profile")] = "tariff",
                as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
                db: DbOption = None) -> None:
    """Why this cost: the tariff, matched prefix and why it won, validity, initial block and
    increments, answer charge, free minutes used and left, rounding and result of a call."""
    import json

    from pbxlens.billing.explain import explain

    found = explain(_con(db, True), unique_id, method=method)
    if as_json:
        out.print_json(json.dumps([e.to_dict() for e in found]))
        return
    for e in found:
        _print_explanation(e)


def _print_explanation(e) -> None:
    p = out.print
    p(f"[bold]call {e.unique_id}[/] leg {e.leg_branch} ({e.tenant}): {e.direction}, "
      f"{e.start:%Y-%m-%d %H:%M:%S}, number {e.number or '-'}, gateway {e.gateway or '-'}, "
      f"company {e.company_name or e.company or '-'}, billed {e.billed_s} s", highlight=False)
    if e.candidates:
        t = Table(title="tariffs considered")
        for c in ("id", "description", "prefix", "valid", "outcome"):
            t.add_column(c)
        for c in e.candidates:
            if not c.relevant:
                continue
            why = _FAIL_TEXT[c.outcome]
            if c.criterion:
                why += " " + _CRITERION_TEXT[c.criterion]
            t.add_row(str(c.tariff_id), c.description, c.prefix or "(any)",
                      f"{c.valid_from} - {c.valid_to or '...'}", why)
        p(t)
        others = sum(1 for c in e.candidates if not c.relevant)
        if others:
            p(f"{others} tariffs with other prefixes do not match the number", highlight=False)
    if e.method is None:
        p("[bold red]UNRATED[/]: no tariff applies to this call (it is not a zero cost)"
          if e.candidates else "no billing profile values this call")
    elif e.tariff:
        s = e.tariff
        p(f"tariff {s.tariff_id} {s.description}: prefix {s.prefix or '(any)'}, valid "
          f"{s.valid_from} - {s.valid_to or '...'}, rate {s.rate} EUR/min, answer charge "
          f"{s.answer_charge}", highlight=False)
        if s.free:
            f = s.free
            p(f"free minutes {f.year}: allowance {f.allowance_s} s, used before {f.used_before_s}"
              f" s, used by this call {f.used_s} s, left {f.left_s} s", highlight=False)
        p(f"billable {s.billable_s} s -> charged {s.charged_s} s (initial block "
          f"{s.initial_block_s} s, increment {s.increment_s} s)", highlight=False)
        p(f"rate x charged / 60 = {s.rate_exact} -> {s.rate_part} (half-up to 5 dp, rounding "
          f"{s.rounding:+}); cost = {s.answer_charge} + {s.rate_part} = [bold]{s.cost}[/] "
          f"(without free minutes {s.cost_nofree})", highlight=False)
        if s.minimum_applied:
            p(f"minimum charge {s.minimum} applies: cost = {s.cost}", highlight=False)
    elif e.profile:
        r = e.profile
        p(f"profile {r.profile} on line {r.line}: rule {r.rule_id} ({r.rule_kind} "
          f"{r.selection or ''}) of {r.rules_considered} matching; connection fee "
          f"{r.connection_fee} for {r.connection_s} s + {r.units} x {r.next_fee or 0} per "
          f"{r.next_s} s = [bold]{r.cost}[/]", highlight=False)
    stored = "none (unrated)" if e.stored_cost is None else str(e.stored_cost)
    p(f"stored cost: {stored}" + ("" if e.agrees else "  [bold red]differs: re-rate "
                                  "(pbxlens billing rate --all)[/]"), highlight=False)


@app.command("bundle")
@forwardable("exclusive")
def bundle_add(description: str,
               tariff: Annotated[int, typer.Option(help="the tariff whose calls it covers")],
               minutes: Annotated[int, typer.Option(help="minutes included per month")],
               overage_rate: Annotated[str, typer.Option(help="EUR per minute beyond them")],
               date_from: Annotated[str, typer.Option("--from", help="first day")],
               date_to: Annotated[str | None, typer.Option("--to", help="last day")] = None,
               fee: Annotated[str, typer.Option(help="flat fee per month, EUR")] = "0",
               rollover: Annotated[bool, typer.Option(help="carry unused minutes over")] = False,
               company: Annotated[str | None, typer.Option(help="one company (default: each)")]
               = None,
               db: DbOption = None, tenant: TenantOption = "default") -> None:
    """Add a monthly bundle of minutes (flat fee plus overage); its statement is the report
    billing.bundles."""
    from pbxlens.billing import bundles

    bid = bundles.add_bundle(_con(db), tenant=tenant, company=company, description=description,
                             tariff_id=tariff, minutes=minutes, rollover=rollover, flat_fee=fee,
                             overage_rate=overage_rate, valid_from=date_from, valid_to=date_to)
    out.print(f"bundle {bid}: {description}")


carrier_app = typer.Typer(no_args_is_help=True,
                          help="Carrier reconciliation: invoice detail CSV against the calls.")
app.add_typer(carrier_app, name="carrier")


@carrier_app.command("import")
@forwardable("exclusive")
def carrier_import(file: Path,
                   gateway: Annotated[str, typer.Option(help="the line / outbound configuration "
                                                              "the invoice bills")],
                   columns: Annotated[str | None, typer.Option(
                       help="field=column,... for number, start, duration, cost (default: the "
                            "setting carrier_columns)")] = None,
                   start_format: Annotated[str | None, typer.Option(
                       "--start-format", help="strptime format of the start column")] = None,
                   db: DbOption = None, tenant: TenantOption = "default") -> None:
    """Import a carrier's invoice detail and match it to the calls (report billing.carrier)."""
    from pbxlens.billing import carrier

    s = carrier.import_invoice(_con(db), file, gateway, tenant=tenant, columns_spec=columns,
                               start_format=start_format)
    _stats(f"invoice {s.pop('invoice_id')}", s)


@carrier_app.command("reconcile")
@forwardable("exclusive")
def carrier_reconcile(invoice: int, db: DbOption = None) -> None:
    """Match an imported invoice's lines to the calls again (new calls, new tolerances)."""
    from pbxlens.billing import carrier

    out.print(f"invoice {invoice}: {carrier.reconcile(_con(db), invoice):,} lines matched")
