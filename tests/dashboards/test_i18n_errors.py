"""Refusals the pages show come from the catalog: every `key=` a PbxlensError is raised with
names a text in both languages, and the values that text fills in are given at the raise."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

import pbxlens
from pbxlens.dashboards.i18n import STRINGS, error_text
from pbxlens.live import rules
from pbxlens.live.rules import AlertError

PACKAGE = Path(pbxlens.__file__).parent


def _keyed_call(node: ast.AST) -> ast.Call | None:
    """A raised error, or a rejected row's Reason built, with its catalog key."""
    if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
        return node.exc
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Reason":
        return node
    return None


def _keyed_raises():
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            call = _keyed_call(node)
            if call is not None:
                kw = {k.arg: k.value for k in call.keywords if k.arg}
                if isinstance(kw.get("key"), ast.Constant):
                    yield path.relative_to(PACKAGE.parent), node.lineno, kw["key"].value, set(kw)


RAISES = list(_keyed_raises())


def test_keyed_errors_exist():
    assert len(RAISES) >= 10  # the scan sees the alert rules' and the delivery's refusals


@pytest.mark.parametrize(("where", "line", "key", "given"), RAISES,
                         ids=[f"{w}:{n}" for w, n, _k, _g in RAISES])
def test_key_in_catalog_with_its_values(where, line, key, given):
    assert key in STRINGS, f"{where}:{line}: {key} not in the catalog"
    for text in STRINGS[key]:
        named = {f for _lit, f, _spec, _conv in string.Formatter().parse(text) if f}
        assert named <= given - {"key"}, f"{where}:{line}: {key} needs {named - given}"


def test_alert_rule_refusals_in_the_users_language():
    with pytest.raises(AlertError) as exc:
        rules.validate("waiting_above", None, 60, 15, (None, None))
    assert error_text(exc.value, "it") == "Questa condizione richiede una soglia"
    assert error_text(exc.value, "en") == "This condition needs a threshold"
    with pytest.raises(pbxlens.PbxlensError) as exc:
        rules.clean_channels([{"kind": "email", "target": "nobody"}])
    assert error_text(exc.value, "it") == "Non è un indirizzo email: 'nobody'"
    assert str(exc.value) == "not an email address: 'nobody'"  # the CLI and the API keep theirs


def test_pydantic_parsing_errors_name_a_catalog_text():
    from pbxlens import PARSING_KEYS

    for key in set(PARSING_KEYS.values()):
        for text in STRINGS[key]:
            assert {f for _l, f, _s, _c in string.Formatter().parse(text) if f} <= {"value"}


def test_rejected_rows_in_the_users_language(tmp_path):
    import duckdb
    from pydantic import ValidationError

    from pbxlens.billing import files, profiles
    from pbxlens.tickets.rows import TicketRow, rejection_reason

    with pytest.raises(ValidationError) as exc:
        TicketRow.model_validate({"title": "x", "account": "a", "final_customer": "b",
                                  "status": "forse", "type": "t", "priority": "p"})
    why = rejection_reason(exc.value)
    assert error_text(why, "it").startswith("status: stato sconosciuto 'forse'; scegli tra nuovo")
    assert error_text(why, "en") == why  # the English text is the one the CLI prints
    f = tmp_path / "p.csv"
    f.write_text("name;connectionduration\nok;2,5\n")
    with pytest.raises(files.BillingFileError) as err:
        profiles.import_profiles(duckdb.connect(), f)  # refused before the store is written
    assert str(err.value) == "row 2: connectionduration: not a whole number: '2,5'"
    assert error_text(err.value, "it") == "riga 2: connectionduration: non è un numero intero: '2,5'"
    assert error_text(err.value, "en") == str(err.value)


def test_an_error_without_key_keeps_its_message():
    assert error_text(ValueError("plain"), "it") == "plain"
    assert error_text(pbxlens.PbxlensError("x", key="no_such_key"), "it") == "x"
