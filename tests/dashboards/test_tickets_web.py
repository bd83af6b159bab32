"""The ticket routes over real HTTP (live waitress server): attachment upload within the size
limit and the allow-list, download, refusal to users who may not see the ticket, and the CTI
URL surviving the login redirect; the ticket and trace pages as each user gets them: numbers in
titles masked without the privacy right, a ticket's linked call from the CDR."""

from __future__ import annotations

import json

import flask
import plotly

from pbxlens.config import get_settings
from pbxlens.store import users as auth
from pbxlens.tickets import attachments, companies, ticket, trace


def _ticket(live, type_="analisi"):
    sup = next(u for u in auth.list_users(live.store) if u.username == "sup")

    def make(c):
        acme = (companies.company_by_name(c, "Acme Web") or {}).get("id") or companies.create_company(
            c, "Acme Web")
        return ticket.create(c, title="Web", account_id=acme, final_customer_id=acme, type=type_,
                             priority="priorita 2", user=sup, notify_on=False)

    with live.store.ops_write() as c:
        return make(c)


def test_attachment_upload_limits_download_and_access(live, client_for, monkeypatch):
    tid = _ticket(live)                                  # area Centro Analisi
    sup = client_for("sup")
    pdf = b"%PDF-1.4\n" + b"0" * 500
    r = sup.post(f"/tickets/{tid}/attach", files={"file": ("offer.pdf", pdf, "application/pdf")})
    # sup reads Italian: the form, its answer and the refusals are the catalog's
    assert r.status_code == 200 and "offer.pdf: salvato" in r.text and ">Carica<" in r.text
    monkeypatch.setattr(get_settings(), "ticket_attachment_max_bytes", 100)
    r = sup.post(f"/tickets/{tid}/attach", files={"file": ("big.pdf", pdf, "application/pdf")})
    assert "big.pdf: più grande del limite di 100 byte" in r.text
    r = sup.post(f"/tickets/{tid}/attach", files={"file": ("x.exe", b"MZ", "application/octet-stream")})
    assert "x.exe: questo tipo di file non è ammesso" in r.text
    with live.store.ops_read() as c:
        (att,) = attachments.list_for(c, tid)
    r = sup.get(f"/tickets/attachment/{att['id']}")
    assert r.status_code == 200 and r.content == pdf
    assert "attachment" in r.headers["content-disposition"] and r.headers["content-type"] == "application/pdf"
    for name in ("fin", "op"):                           # finance: no tickets; op: not their area
        c = client_for(name)
        assert c.get(f"/tickets/attachment/{att['id']}").status_code == 403
        assert c.post(f"/tickets/{tid}/attach", files={"file": ("a.pdf", pdf, "application/pdf")}).status_code == 403
    assert client_for().get(f"/tickets/attachment/{att['id']}").status_code == 302   # anonymous


def test_cti_url_survives_the_login_redirect(live, client_for):
    anon = client_for()
    r = anon.get("/tickets/new?caller=%2B39%20333%201234567&unique_id=1778600000.7")
    assert r.status_code == 302
    assert r.headers["location"].startswith("/login?next=/tickets/new%3Fcaller%3D")
    r = anon.post("/login", data={"username": "op", "password": "correct-horse-1",
                                  "csrf_token": anon.cookies.get("_csrf_token", ""),
                                  "next": "/tickets/new?caller=%2B39%20333%201234567&unique_id=1778600000.7"})
    assert r.headers["location"] == "/tickets/new?caller=%2B39%20333%201234567&unique_id=1778600000.7"


def _page(live, username, fn, **kw) -> str:
    u = next(x for x in auth.list_users(live.store) if x.username == username)
    with live.app.server.test_request_context("/"):
        flask.g.user = u
        return json.dumps(fn(**kw), cls=plotly.utils.PlotlyJSONEncoder)


def test_ticket_and_trace_pages_mask_numbers_without_the_privacy_right(live):
    from pbxlens.dashboards.pages import tickets_edit, tickets_list, tickets_new, trace_records

    with live.store.cursor() as cur:  # a call of the simulated CDR, with an external caller
        uid, caller = cur.execute(
            "SELECT unique_id, caller FROM calls WHERE tenant = 'default' AND length(caller) >= 9 "
            "ORDER BY unique_id LIMIT 1").fetchone()
    sup = next(u for u in auth.list_users(live.store) if u.username == "sup")
    with live.store.ops_write() as c:
        acme = companies.company_by_name(c, "Acme Masked") or {}
        acme = acme.get("id") or companies.create_company(c, "Acme Masked", phones=("0461 555123",))
        tid = ticket.create(c, title="Richiamare 0461 765432", account_id=acme, final_customer_id=acme,
                            type="commerciale", priority="priorita 2", user=sup, notify_on=False,
                            unique_ids=[uid])
        trace.create(c, direction="in", type="commerciale", priority="priorita 2",
                     caller="0461555123", description="cliente 0461 765432")
    pages = {
        "new": (tickets_new.layout, {"caller": "0461 555123"}),
        "trace": (trace_records.layout, {"direction": "in", "caller": "0461555123"}),
        "list": (tickets_list.layout, {}),
        "edit": (tickets_edit.layout, {"id": str(tid)}),
    }
    for name, (fn, kw) in pages.items():
        masked, full = _page(live, "sup", fn, **kw), _page(live, "supfull", fn, **kw)
        assert "765432" not in masked and "0461 765xxx" in masked, name
        assert "0461 765432" in full, name
        if name in ("new", "trace"):
            assert "555123" not in masked and "555xxx" in masked, name
    # the linked call, read from the CDR in DuckDB, on the ticket's page
    masked, full = _page(live, "sup", tickets_edit.layout, id=str(tid)), _page(
        live, "supfull", tickets_edit.layout, id=str(tid))
    assert '"te-calls"' in full and uid in full and caller in full
    assert uid in masked and caller not in masked and caller[:-3] + "xxx" in masked


def _import_companies(live, username: str, lang: str, csv_text: str):
    """The companies page's import callback as `username` reading `lang`: its summary and
    the rejected lines, as shown."""
    import base64
    import dataclasses

    from pbxlens.dashboards.pages import tickets_companies

    u = next(x for x in auth.list_users(live.store) if x.username == username)
    contents = "data:text/csv;base64," + base64.b64encode(csv_text.encode()).decode()
    with live.app.server.test_request_context("/"):
        flask.g.user = dataclasses.replace(u, lang=lang)
        msg, _rows = tickets_companies.import_file(contents, "companies.csv")
    summary, rejected = msg.children
    return [summary.children, *(li.children for li in rejected.children)]


def test_rejected_import_rows_read_in_the_users_language(live):
    # every row rejected: the shared store is left as it was
    rows = "company;email;phones\n;;021\nGamma;not-an-email;\nDelta;;abc\n"
    it = _import_companies(live, "sup", "it", rows)
    assert it == ["0 importati, 3 scartati", "Riga 2: campi mancanti: company",
                  "Riga 3: email: non è un indirizzo email: 'not-an-email'",
                  "Riga 4: phones: non è un numero di telefono: 'abc'"]
    en = _import_companies(live, "sup", "en", rows)
    assert en == ["0 imported, 3 rejected", "Line 2: missing company",  # as the CLI prints them
                  "Line 3: email: not an email address: 'not-an-email'",
                  "Line 4: phones: not a phone number: 'abc'"]
