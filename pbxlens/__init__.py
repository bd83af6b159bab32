"""pbxlens: CDR and call-center analytics for KalliopePBX and Asterisk.

    import pbxlens
    lens = pbxlens.open("data/pbxlens.duckdb")   # read-only; see pbxlens.api and docs/api.md
    lens.report("cdr.queues", start="2026-05-01", end="2026-05-31").to_pandas()
"""

__version__ = "0.1.0"


class PbxlensError(Exception):
    """An error with a one-line message meant for the user (the CLI prints it, exit 2).

    `key` names the same text in the translation catalog and `params` the values it fills in:
    the pages show it in the user's language (`dashboards.i18n.error_text`), the CLI, the API
    and the logs keep the English message.
    """

    exit_code = 2

    def __init__(self, *args: object, key: str | None = None, **params: object) -> None:
        super().__init__(*args)
        self.key = key
        self.params = params


class CellError(PbxlensError, ValueError):
    """A cell of an imported row refused by its model's validator, with a catalog key: a
    ValueError, so pydantic reports it (its error's `ctx["error"]`) like any other."""


class Reason(str):
    """Why an imported row was refused: the English text itself (reports, JSON, the CLI and
    StrictImportError read it as before), with the catalog `key` and the values its text names,
    which the pages render in the user's language (`dashboards.i18n.error_text`)."""

    key: str | None
    params: dict[str, object]

    def __new__(cls, text: str, key: str | None = None, **params: object) -> "Reason":
        self = super().__new__(cls, text)
        self.key = key
        self.params = params
        return self


# pydantic's own parsing errors (a field typed `bool`, `int`...) in the catalog's words
PARSING_KEYS = {"bool_parsing": "row_not_flag", "bool_type": "row_not_flag",
            "int_parsing": "row_not_whole", "int_from_float": "row_not_whole",
            "decimal_parsing": "row_not_number", "float_parsing": "row_not_number",
            "date_parsing": "row_not_date", "date_from_datetime_parsing": "row_not_date",
            "datetime_parsing": "row_not_date", "datetime_from_date_parsing": "row_not_date"}


def field_reason(error: dict, where: str) -> Reason:
    """One pydantic error as `where: what is wrong` (a check between fields: just what is
    wrong), keyed by the CellError or PbxlensError its validator raised, else by its type.

    Example:
        >>> r = field_reason({"type": "value_error", "msg": "Value error, not a number: 'x'",
        ...                   "ctx": {"error": CellError("not a number: 'x'", key="row_not_number",
        ...                                              value="'x'")}}, "rate")
        >>> r, r.key, r.params["reason"].key
        ("rate: not a number: 'x'", 'row_field', 'row_not_number')
    """
    msg = error["msg"].removeprefix("Value error, ")
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, PbxlensError) and cause.key:
        what = Reason(msg, cause.key, **cause.params)
    elif error["type"] in PARSING_KEYS:
        what = Reason(msg, PARSING_KEYS[error["type"]], value=repr(error.get("input")))
    else:
        what = Reason(msg)
    return Reason(f"{where}: {msg}", key="row_field", field=where, reason=what) if where else what


def open(path=None, **options):  # pbxlens.open, as sqlite3.connect
    """Open a store read-only for analysis: `pbxlens.api.open`."""
    from pbxlens.api import open as open_store

    return open_store(path, **options)
