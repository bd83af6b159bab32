"""What the screens get from the data layer: titles, numbers and descriptions masked for users
without the privacy right (the open-tickets panel, the list, the trace records, a ticket's
details), searches that match only what such a user sees, a ticket's linked calls read from the
CDR in DuckDB, and no import of the web app from the module. Both operations back-ends."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pbxlens.tickets
from pbxlens.tickets import listing, ticket, trace, views

TITLE = "Richiamare 0461 765432 per la stampante"


def _new(c, w, **kw):
    args = {
        "title": TITLE,
        "account_id": w.acme,
        "final_customer_id": w.acme,
        "type": "assistenza",
        "priority": "priorita 1",
        "user": w.users["sup"],
        "notify_on": False,
    }
    return ticket.create(c, **(args | kw))


def test_open_tickets_panel_and_caller_card_are_masked_without_the_privacy_right(world):
    w = world
    with w.store.ops_write() as c:
        _new(c, w)
    with w.store.ops_read() as c:
        card = views.caller_card(c, w.users["sup"], "+39 333 1234567")  # Mario Rossi of Acme
        full = views.caller_card(c, w.users["full"], "+39 333 1234567")
    assert card.shown == "+39 333 1234xxx" and full.shown == "+39 333 1234567"
    assert (card.company_id, card.contact_id) == (w.acme, w.mario)
    assert [t["title"] for t in card.open_tickets] == ["Richiamare 0461 765xxx per la stampante"]
    assert [t["title"] for t in full.open_tickets] == [TITLE]
    m = trace.mask(w.store, w.users["sup"], direction="in", caller="0461 123456")
    assert m.caller.shown == "0461 123xxx"
    assert [t["title"] for t in m.open_tickets] == ["Richiamare 0461 765xxx per la stampante"]


def test_ticket_list_masks_titles_and_searches_only_what_the_user_sees(world):
    w = world
    with w.store.ops_write() as c:
        tid = _new(c, w, tags=["vip", "3331234567"])
        other = _new(c, w, title="Rete lenta 0461 999888")
    sup, full = w.users["sup"], w.users["full"]
    with w.store.ops_read() as c:
        (row,) = [r for r in listing.rows(c, sup) if r["id"] == tid]
        assert row["title"] == "Richiamare 0461 765xxx per la stampante"
        assert row["tags"] == "3331234xxx, vip"
        assert [r["title"] for r in listing.rows(c, full) if r["id"] == tid] == [TITLE]

        def found(user, text):
            return {r["id"] for r in listing.rows(c, user, listing.Filters(text=text))}

        # the hidden digits cannot be searched for: guessing them finds nothing ...
        assert found(sup, "765432") == set() and found(sup, "0461 765432") == set()
        assert found(full, "765432") == {tid}
        # ... what the user sees can: the visible prefix, the mask itself, words
        assert found(sup, "0461 765") == {tid} and found(sup, "765xxx") == {tid}
        assert found(sup, "stampante") == {tid} and found(sup, "0461") == {tid, other}
        assert found(sup, "50%") == set()  # LIKE wildcards in the text are literal
        counts = listing.quick_counts(c, sup, listing.Filters(text="765432"))
        assert counts["status"] == []  # the counts follow the same rule
        assert dict(listing.quick_counts(c, sup)["tags"]) == {"vip": 1}
        assert dict(listing.quick_counts(c, full)["tags"]) == {"vip": 1, "3331234567": 1}


def test_trace_records_are_masked_and_searched_by_what_the_user_sees(world):
    w = world
    with w.store.ops_write() as c:
        trace.create(c, direction="in", type="assistenza", priority="priorita 3", caller="3478127773",
                     called="0461999000", description="richiama il 3331234567",
                     start_at=datetime(2026, 5, 11, 9, tzinfo=UTC))
    sup, full = w.users["sup"], w.users["full"]
    with w.store.ops_read() as c:
        (r,) = trace.records(c, sup)
        assert (r["caller"], r["called"], r["description"]) == (
            "3478127xxx", "0461999xxx", "richiama il 3331234xxx")
        assert trace.records(c, full)[0]["caller"] == "3478127773"
        for text in ("3478127773", "+39 347 812 7773", "3331234567"):
            assert trace.records(c, sup, text=text) == [], text
            assert len(trace.records(c, full, text=text)) == 1, text
        for text in ("3478127", "3478127xxx", "chm-in", "richiama"):
            assert len(trace.records(c, sup, text=text)) == 1, text


def test_a_ticket_linked_to_a_call_shows_that_call_from_the_cdr(world):
    w = world
    with w.store.writing() as cur:  # two calls in DuckDB; only the first is linked
        for uid, caller, minute in (("1778600000.42", "3331234567", 0), ("1778600099.1", "3478127773", 5)):
            ts = datetime(2026, 5, 11, 10, minute, tzinfo=UTC)
            cur.execute(
                "INSERT INTO calls (tenant, unique_id, leg_branch, status, start_ts, start_local,"
                " duration_s, bill_s, direction, path_len, path_incomplete, content_hash, batch_id,"
                " caller, called) VALUES ('default', ?, 0, 'OK', ?, ?, 60, 55, 'incoming', 1, false,"
                " 0, 0, ?, '0461999000')",
                [uid, ts, ts.replace(tzinfo=None), caller],
            )
    with w.store.ops_write() as c:
        tid = _new(c, w, unique_ids=["1778600000.42", "1778600123.9"])  # the second: not in the CDR
    full = views.ticket_details(w.store, w.users["full"], tid)
    assert full["unique_ids"] == ["1778600000.42", "1778600123.9"]
    assert [(x["unique_id"], x["caller"], x["start"], x["status"]) for x in full["calls"]] == [
        ("1778600000.42", "3331234567", "11/05/2026 10:00:00", "OK")]
    masked = views.ticket_details(w.store, w.users["sup"], tid)
    assert [(x["caller"], x["called"]) for x in masked["calls"]] == [("3331234xxx", "0461999xxx")]
    assert masked["title"] == "Richiamare 0461 765xxx per la stampante"
    assert views.ticket_details(w.store, w.users["tech"], tid) is None  # not their area


def test_masked_tags_left_as_they_were_keep_their_stored_form(world):
    w = world
    with w.store.ops_write() as c:
        tid = _new(c, w, tags=["3331234567", "vip"])
    sup = w.users["sup"]
    shown = views.ticket_details(w.store, sup, tid)["tags"]
    assert shown == ["3331234xxx", "vip"]
    with w.store.ops_write() as c:
        ticket.update(c, tid, tags=views.edited_tags(c, sup, tid, [*shown, "urgente"]))
        assert ticket.get(c, tid)["tags"] == ["3331234567", "urgente", "vip"]


def test_no_module_of_the_package_imports_the_web_app():
    root = Path(pbxlens.tickets.__file__).parent
    bad = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bad += [f"{path.name}: {n}" for n in names if n.split(".")[:2] == ["pbxlens", "dashboards"]]
    assert bad == []
