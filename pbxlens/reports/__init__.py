"""Report engine: a declarative catalog of reports, run as SQL over the store.

Public API::

    from pbxlens.reports import Params, run, get, all_reports
    result = run(con, "cdr.queues", Params(date_from=..., date_to=..., filters={"queue": ["700"]}))
    export.to_json(result) / export.to_csv(result) / export.to_xlsx(result, path)
"""

from pbxlens.reports.catalog import ReportDef, Result, all_reports, get
from pbxlens.reports.engine import run
from pbxlens.reports.filters import Params

__all__ = ["Params", "ReportDef", "Result", "all_reports", "get", "run"]
