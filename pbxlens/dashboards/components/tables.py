"""Rows of stored records (tariffs, profile rules, users, batches) as the list grids show them:
every value through the shared formatter, booleans as the catalog's yes/no, the raw values kept
under `_raw` for the forms that edit a selected row."""

from __future__ import annotations

from pbxlens.dashboards.i18n import t
from pbxlens.reports import format as fmt


def shown(v, lang: str) -> str:
    if isinstance(v, bool):
        return t("yes" if v else "no", lang)
    return fmt.value(v, lang=lang)


def display_rows(records: list[dict], lang: str, *, keep_raw: bool = True) -> list[dict]:
    """`records` with every value as text in `lang`; `id` stays a number (selection, editing)."""
    out = []
    for r in records:
        row = {k: (v if k == "id" else shown(v, lang)) for k, v in r.items()}
        if keep_raw:
            row["_raw"] = {k: ("" if v is None else v if isinstance(v, bool | int) else str(v))
                           for k, v in r.items()}
        out.append(row)
    return out


def columns(fields, lang: str, prefix: str = "", code: tuple[str, ...] = ()) -> list[dict]:
    """Column definitions with catalog headers (`<prefix><field>`); `code` fields are
    identifiers shown in a monospace font (setting names, file formats), not words."""
    return [{"field": f, "headerName": t(f"{prefix}{f}", lang),
             **({"cellClass": "pbx-code"} if f in code else {})} for f in fields]
