"""The demo of `pbxlens demo` / `make demo`: a simulated month that exercises every module.

What it puts in the stores, in order (each step its own function):
- the simulator's CDR, Call Center CDR, queue-member events and directory, ingested as a
  writer job; its feedback requests stored as the feedback webhook stores them;
- a tariff set (inbound and outbound rates, a mobile prefix, a company tariff with free
  minutes), a PBX billing profile on one outgoing line, a multiservice contract; every call
  rated;
- companies named after the directory's organizations, with contacts and phone numbers taken
  from the month's callers (so the ticket and trace masks recognise callers), and a few tickets;
- one user per role, with fresh random passwords on every run: the operator has an extension
  and no privacy right, the supervisor and the admin have the privacy right.

The period covers the whole previous calendar month and the current month up to yesterday, so
the finance export's default period (the previous month) and the reports' default range (the
last month) both show data.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pbxlens.store import Stores, users

# (username, role, privacy): the operator without the privacy right, managers with it
DEMO_USERS = (("admin", "admin", True), ("supervisor", "supervisor", True),
              ("finance", "finance", False), ("operator", "operator", False))
DEMO_FORMATS = ("csv-detailed", "cc-csv-detailed", "events", "feedback")
CALLS_PER_DAY = 1200

# Nexus tariffs (nexus_modules.md C.1): a general one for both directions, mobiles, and a
# customer-care company tariff with free minutes (so the consumption view has an allowance)
DEMO_TARIFFS = (
    dict(description="Tariffa generica", rate_in="0.02", rate_out="0.12", answer_charge="0.05",
         initial_block_s=30, increment_s=6),
    dict(description="Reti mobili", prefix="3", rate_out="0.19", increment_s=30),
    dict(description="Servizi clienti", company="ORG2", rate_in="0.01", rate_out="0.10",
         free_minutes=600),
)
# a PBX billing profile (nexus_modules.md C.6) on the Rome line: 10 cents a minute, mobiles 20
DEMO_PROFILE = ("Profilo Roma", "GW-Roma", (
    {"kind": "prefix", "selection": "3", "connection_fee": "0.10", "connection_s": 60,
     "next_fee": "0.20", "next_s": 60},
    {"kind": "any", "selection": None, "connection_fee": "0.05", "connection_s": 60,
     "next_fee": "0.10", "next_s": 60},
))
TICKETS = (("Centralino non raggiungibile", "assistenza", "priorita 1", "nuovo"),
           ("Richiesta preventivo nuove linee", "commerciale", "priorita 2", "sospeso"),
           ("Fattura di ottobre da verificare", "amministrazione", "priorita 3", "in lavorazione"),
           ("Configurare la coda Vendite", "assistenza", "priorita 2", "nuovo"),
           ("Report mensile chiamate perse", "analisi", "priorita 3", "chiuso"))


@dataclass(frozen=True)
class DemoPeriod:
    start: date
    days: int

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.days - 1)


def demo_period(today: date | None = None) -> DemoPeriod:
    """The previous calendar month and the current month up to yesterday.

    Example:
        >>> p = demo_period(date(2026, 12, 4))
        >>> p.start, p.end
        (datetime.date(2026, 11, 1), datetime.date(2026, 12, 3))
    """
    today = today or date.today()
    start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return DemoPeriod(start, (today - start).days)


def build(stores: Stores, data_dir: Path, *, seed: int = 7, today: date | None = None,
          calls_per_day: int = CALLS_PER_DAY, say=print) -> DemoPeriod:
    """Generate (unless the files exist) and load the demo month into empty stores."""
    period = demo_period(today)
    data_dir = Path(data_dir)
    files = [data_dir / n for n in ("directory.json", "cdr_detailed.csv", "cc_cdr_detailed.csv",
                                    "events.jsonl")]
    if not all(f.exists() for f in [*files, data_dir / "feedback_requests.ndjson"]):
        from pbxlens import simulate

        say(f"generating {period.start:%d/%m/%Y} – {period.end:%d/%m/%Y} into {data_dir} ...")
        simulate.generate(data_dir, days=period.days, calls_per_day=calls_per_day, seed=seed,
                          start=period.start, formats=list(DEMO_FORMATS))
    from pbxlens.ingest.job import ingest_job

    say("loading the month (CDR, Call Center CDR, events, directory) ...")
    stores.writer.run("ingest", "demo month", ingest_job(files), created_by="demo")
    say("feedback, tariffs, a billing profile, multiservice; rating every call ...")
    stores.writer.run("billing", "demo billing", lambda ctx: load_billing(
        ctx.con, data_dir / "feedback_requests.ndjson", period), created_by="demo")
    say("companies, contacts and tickets ...")
    load_companies(stores)
    ensure_demo_users(stores)
    load_tickets(stores)
    return period


# ----------------------------------------------------------------------------- analytics


def load_feedback(con, path: Path) -> int:
    """The simulator's feedback requests stored as the feedback webhook stores them."""
    from pbxlens.dashboards.webhooks import parse_parameters

    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        body = json.loads(line)["body"].encode()
        r = parse_parameters(body, feedback=True)
        rows.append([r["tenant"], r["unique_id"], r["grp"], r["body_sha256"], r["caller"],
                     r["called"], r["param1"], r["rating"], body.decode()])
    con.executemany(
        "INSERT INTO feedback_requests (tenant, unique_id, grp, body_sha256, caller, called,"
        " param1, rating, received_at, raw, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, now(), ?, 0)"
        " ON CONFLICT DO NOTHING", rows)
    return len(rows)


def load_billing(con, feedback: Path, period: DemoPeriod) -> dict:
    """Feedback, tariffs, the billing profile and a multiservice contract; then rate all."""
    from pbxlens.billing import multiservice, profiles, rating, tariffs

    n_feedback = load_feedback(con, feedback) if feedback.exists() else 0
    valid_from = period.start.replace(month=1, day=1).isoformat()
    for t in DEMO_TARIFFS:
        tariffs.add_tariff(con, rerate=False, valid_from=valid_from, **t)
    name, line, rules = DEMO_PROFILE
    con.execute("BEGIN TRANSACTION")
    profiles.save_profile(con, name, list(rules))
    con.execute("COMMIT")
    profiles.set_line(con, line, name)
    con.execute("BEGIN TRANSACTION")
    stats = rating.rate_all(con)
    con.execute("COMMIT")
    multiservice.set_contract(con, "ORG2", period.start.isoformat(), None)
    multiservice.add_service(con, name="chiamate in", kind="calls_in", rate="0.02",
                             free_limit=60, answer_charge="0.01")
    multiservice.add_service(con, name="chiamate out", kind="calls_out", rate="0.10")
    unit = multiservice.add_service(con, name="assistenza on-site", rate="45")
    multiservice.add_quantity(con, "ORG2", unit, period.start.isoformat(),
                              period.end.isoformat(), 3)
    return {"feedback": n_feedback, "rated": stats.get("written", 0)}


# ----------------------------------------------------------------------------- operations


def _frequent_callers(stores: Stores, n: int) -> list[str]:
    """The `n` external numbers that called most often (digits only), most frequent first."""
    with stores.cursor() as cur:
        rows = cur.execute(
            "SELECT caller FROM calls WHERE direction = 'incoming' AND caller IS NOT NULL"
            " GROUP BY caller ORDER BY count(*) DESC, caller LIMIT ?", [n]).fetchall()
    return [re.sub(r"\D", "", r[0]) for r in rows if re.sub(r"\D", "", r[0] or "")]


def load_companies(stores: Stores) -> None:
    """One company per directory organization (plus a customer), two contacts each; their
    phones are frequent callers of the month."""
    from pbxlens.tickets import companies

    with stores.cursor() as cur:
        orgs = [r[0] for r in cur.execute(
            "SELECT name FROM organizations WHERE tenant = 'default' ORDER BY id").fetchall()]
    names = [*orgs, "Rossi Impianti Srl", "Bianchi Logistica SpA"]
    phones = iter(_frequent_callers(stores, 3 * len(names)))
    contacts = iter(("Mario Rossi", "Giulia Bianchi", "Luca Ferrari", "Sara Esposito",
                     "Paolo Romano", "Anna Colombo", "Marco Ricci", "Elena Marino",
                     "Davide Greco", "Chiara Bruno", "Andrea Gallo", "Laura Conti"))
    with stores.ops_write() as conn:
        for i, name in enumerate(names):
            if companies.company_by_name(conn, name) is not None:
                continue
            slug = re.sub(r"[^a-z]+", "", name.lower())[:12]
            cid = companies.create_company(
                conn, name, code=f"C{i + 1:03d}", email=f"info@{slug}.it",
                phones=tuple(p for p in [next(phones, None)] if p),
                score="AB"[i % 2], outlook="buono", exposure=str(1200 * (i + 1)),
                credit_line="10000")
            for _ in range(2):
                who = next(contacts, None)
                if who is None:
                    break
                mail = who.lower().replace(" ", ".") + f"@{slug}.it"
                companies.add_contact(conn, cid, who, email=mail,
                                      phones=tuple(p for p in [next(phones, None)] if p))


def load_tickets(stores: Stores) -> None:
    """A few tickets across the companies, some in the operator's charge, one linked to a call."""
    import sqlalchemy as sa

    from pbxlens.store import schema as S
    from pbxlens.tickets import companies, notify, ticket

    by_name = {u.username: u for u in users.list_users(stores)}
    with stores.ops_write() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(S.tickets)).scalar_one():
            return
        comps = companies.list_companies(conn)
        if not comps:
            return
        op, sup = by_name.get("operator"), by_name.get("supervisor")
        for u in (op, sup):
            if u is not None:
                notify.set_user(conn, u.id, email=f"{u.username}@example.com",
                                areas=["Assistenza"] if u is op else None)
        now = datetime.now(UTC)
        for i, (title, kind, prio, status) in enumerate(TICKETS):
            comp = comps[i % len(comps)]
            people = companies.list_contacts(conn, comp["id"])
            ticket.create(
                conn, title=title, account_id=comp["id"], final_customer_id=comp["id"],
                account_contact_id=people[0]["id"] if people else None, type=kind,
                priority=prio, status=status, user=sup, description=title + ".",
                created_at=now - timedelta(days=3 * (len(TICKETS) - i)),
                due_date=now + timedelta(days=7), estimate_hours=2 + i,
                in_charge_user_id=op.id if op and i % 2 == 0 else None,
                assigned_user_id=op.id if op else None, notify_on=False)


# ----------------------------------------------------------------------------- users


def _demo_extension(store: Stores) -> str | None:
    """The operator's extension: the first directory operator who answers queue calls."""
    with store.cursor() as cur:
        row = cur.execute("SELECT extension FROM operators WHERE tenant = 'default'"
                          " ORDER BY length(extension), extension LIMIT 1").fetchone()
    return row[0] if row else None


def ensure_demo_users(store: Stores) -> list[tuple[str, str, str]]:
    """(username, role, password) of the demo users, created or given a new password (and
    their demo role, privacy right and extension back)."""
    existing = {u.username: u for u in users.list_users(store)}
    ext = _demo_extension(store)
    out = []
    for name, role, privacy in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        extension = ext if role == "operator" else None
        if name in existing:
            users.set_password(store, existing[name].id, password)
            users.update_user(store, existing[name].id, disabled=False, role=role,
                              privacy=privacy, extension=extension)
        else:
            users.create_user(store, name, password, role, privacy=privacy, extension=extension)
        out.append((name, role, password))
    return out
