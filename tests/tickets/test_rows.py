"""The import row models: what a cell may hold, and the reason a bad row is rejected with."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from pbxlens.tickets.rows import CompanyRow, TicketRow, rejection_reason

TICKET = {"title": " Rete lenta ", "account": "Acme", "final_customer": "Beta", "status": "Nuovo",
          "type": "assistenza", "priority": "priorita 1"}


def _reason(model, rec) -> str:
    with pytest.raises(ValidationError) as e:
        model.model_validate(rec)
    return rejection_reason(e.value)


def test_a_ticket_row_typed_and_trimmed():
    row = TicketRow.model_validate(TICKET | {
        "estimate_hours": "1.234,5", "external": "sì", "tags": "rete, vpn;",
        "due_date": "31/01/2026 18:30", "number": 125.0})
    rome = ZoneInfo("Europe/Rome")
    assert (row.title, row.status, row.number, row.estimate_hours, row.external, row.tags) == (
        "Rete lenta", "nuovo", "125", Decimal("1234.5"), True, ["rete", " vpn"])
    assert row.due_date == datetime(2026, 1, 31, 18, 30, tzinfo=rome)
    assert (row.description, row.in_charge, row.estimated_start) == (None, None, None)


@pytest.mark.parametrize("change,reason", [
    ({"title": "  ", "priority": None}, "missing title, priority"),
    ({"estimate_hours": "due"}, "estimate_hours: not a number: 'due'"),
    ({"due_date": "domani"}, "due_date: not a date: 'domani'"),
    ({"external": "forse"}, "external: not yes/no: 'forse'"),
    ({"status": "boh"}, "status: unknown status 'boh'; choose from nuovo, in_lavorazione,"
                        " sospeso, chiuso, annullato"),
    ({"title": None, "due_date": "domani"}, "missing title"),  # the missing ones first
])
def test_a_bad_ticket_row_is_rejected_with_its_reason(change, reason):
    assert _reason(TicketRow, TICKET | change) == reason


@pytest.mark.parametrize("rec,reason", [
    ({"phones": "021"}, "missing company"),
    ({"company": "Beta", "exposure": "1,2,3"}, "exposure: not a number: '1,2,3'"),
    ({"company": "Beta", "contact_phones": "3470000001"},
     "contact_phones / contact_email without a contact"),
    ({"company": "Beta", "phones": "02 1111111; abc"}, "phones: not a phone number: 'abc'"),
])
def test_a_bad_company_row_is_rejected_with_its_reason(rec, reason):
    assert _reason(CompanyRow, rec) == reason


def test_a_company_row_gives_only_its_financials():
    row = CompanyRow.model_validate({"company": "Beta", "score": "A", "credit_line": 1000,
                                     "phones": "02 1111111 / 02 2222222"})
    assert row.financials() == {"score": "A", "credit_line": Decimal("1000")}
    assert row.phones == ["02 1111111", "02 2222222"]
