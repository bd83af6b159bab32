"""The ticket routes over real HTTP (live waitress server): attachment upload within the size
limit and the allow-list, download, refusal to users who may not see the ticket, and the CTI
URL surviving the login redirect."""

from __future__ import annotations

from pbxlens.config import get_settings
from pbxlens.store import users as auth
from pbxlens.tickets import attachments, companies, db, ticket


def _ticket(live, type_="analisi"):
    sup = next(u for u in auth.list_users(live.store) if u.username == "sup")

    def make(c):
        acme = (companies.company_by_name(c, "Acme Web") or {}).get("id") or companies.create_company(
            c, "Acme Web")
        return ticket.create(c, title="Web", account_id=acme, final_customer_id=acme, type=type_,
                             priority="priorita 2", user=sup, notify_on=False)

    return db.write(live.store, make)


def test_attachment_upload_limits_download_and_access(live, client_for, monkeypatch):
    tid = _ticket(live)                                  # area Centro Analisi
    sup = client_for("sup")
    pdf = b"%PDF-1.4\n" + b"0" * 500
    r = sup.post(f"/tickets/{tid}/attach", files={"file": ("offer.pdf", pdf, "application/pdf")})
    assert r.status_code == 200 and "offer.pdf: saved" in r.text
    monkeypatch.setattr(get_settings(), "ticket_attachment_max_bytes", 100)
    r = sup.post(f"/tickets/{tid}/attach", files={"file": ("big.pdf", pdf, "application/pdf")})
    assert "larger than the limit" in r.text
    r = sup.post(f"/tickets/{tid}/attach", files={"file": ("x.exe", b"MZ", "application/octet-stream")})
    assert "not allowed" in r.text
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
