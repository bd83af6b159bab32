"""The billing row models: tariff fields (a form, code, a file row) and profile template rows,
each bad value refused with `field: what is wrong`."""

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from pbxlens.billing import files, profiles, tariffs
from pbxlens.billing.files import BillingFileError


def _reason(model, values) -> str:
    with pytest.raises(ValidationError) as e:
        model.model_validate(values)
    return files.reason(e.value)


def test_tariff_values_keep_only_what_is_given():
    v = tariffs.TariffValues.model_validate({
        "rate_out": "0,6", "valid_from": "05/01/2022", "countries": "it; fr", "increment_s": None,
        "description": " uscita "})
    assert v.model_dump(exclude_unset=True) == {
        "rate_out": Decimal("0.6"), "valid_from": date(2022, 1, 5), "countries": "IT,FR",
        "increment_s": 1, "description": "uscita"}
    # an update names one field
    assert tariffs.TariffValues(free_minutes=0).model_dump(exclude_unset=True) == {"free_minutes": 0}


@pytest.mark.parametrize("values,reason", [
    ({"rate_in": "0.000001"}, "rate_in: must be >= 0 with at most 5 decimals: '0.000001'"),
    ({"answer_charge": "uno"}, "answer_charge: not a number: 'uno'"),
    ({"initial_block_s": "-1"}, "initial_block_s: must be >= 0"),
    ({"increment_s": "0"}, "increment_s: must be >= 1"),
    ({"valid_to": "31/02/2022"}, "valid_to: not a date (YYYY-MM-DD or DD/MM/YYYY): '31/02/2022'"),
    ({"countries": "IT,ZZ"}, "countries: unknown ISO country code 'ZZ'"),
    ({"valid_from": "x", "rate_out": "x"}, "rate_out: not a number: 'x'"),  # in field order
])
def test_bad_tariff_values(values, reason):
    assert _reason(tariffs.TariffValues, values) == reason


def test_unknown_tariff_fields_are_named_at_once(con):
    with pytest.raises(BillingFileError, match=r"^unknown tariff fields: colour, rate$"):
        tariffs.add_tariff(con, description="x", valid_from="2022-01-01", rate=1, colour="red")


def test_a_tariff_file_row(con, tmp_path):
    row = tariffs.TariffFileRow.model_validate({"id": "7.0", "description": "x",
                                                "status": "non attiva"})
    assert (row.id, row.active) == (7, False)
    assert tariffs.TariffFileRow.model_validate({"status": None}).active  # blank: active
    assert _reason(tariffs.TariffFileRow, {"status": "boh"}) == "status: not a flag (t/f): 'boh'"
    f = tmp_path / "t.csv"
    f.write_text("descrizione,data inizio validita,stato\nok,2022-01-01,attiva\nko,2022-01-01,forse\n")
    with pytest.raises(BillingFileError, match=r"^row 3: status: not a flag \(t/f\): 'forse'$"):
        tariffs.import_tariffs(con, f)


@pytest.mark.parametrize("row,reason", [
    ({"name": " "}, "name: required"),
    ({"name": "p", "type": "range"}, "type: must be exact, prefix or any: 'range'"),
    ({"name": "p", "type": "Prefix"}, "a prefix rule needs a selection"),
    ({"name": "p", "nextunitsfee": "-0,1"}, "nextunitsfee: must be >= 0"),
    ({"name": "p", "connectionduration": "2,5"}, "connectionduration: not a whole number: '2,5'"),
])
def test_bad_profile_rows(row, reason):
    assert _reason(profiles.ProfileRow, row) == reason


def test_a_bad_profile_file_names_its_row(con, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("name;type;selection;enabled\nok;any;;t\nko;exact;;t\n")
    with pytest.raises(BillingFileError, match=r"^row 3: a exact rule needs a selection$"):
        profiles.import_profiles(con, f)
    assert profiles.list_profiles(con) == []  # nothing imported
