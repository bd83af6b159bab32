"""Reports: a catalog of declarative definitions, each holding the build that runs its SQL.

Public API::

    from pbxlens.reports import Params, run, get, all_reports
    result = run(con, "cdr.queues", Params(date_from=..., date_to=..., filters={"queue": ["700"]}))
    export.to_json(result) / export.to_csv(result) / export.to_xlsx(result, path)

Importing this package fills the catalog: the modules below define the built-in reports and
register them with `register_report()`, the same call a plugin makes for its own. Their order is
the catalog's (pages, `pbxlens reports`, docs/reports.md).
"""

from pbxlens.reports.catalog import FilterDef, Report, Result, all_reports, get, register_report
from pbxlens.reports.engine import run
from pbxlens.reports.filters import Params
from pbxlens.reports.guard import Guard, ReportGuardError

# The built-in reports, in catalog order (the order of these imports, kept by `isort: off`):
# the CDR (dashboard, queues, operators, billing codes, coincidences, groups, organizations,
# waits, number classes, checktime and IVR), the Call Center, agent activity and feedback,
# missed calls, billing.
# isort: off
from pbxlens.reports import dashboard  # noqa: F401
from pbxlens.reports import queue  # noqa: F401
from pbxlens.reports import operator  # noqa: F401
from pbxlens.reports import billing_code  # noqa: F401
from pbxlens.reports import coincidence  # noqa: F401
from pbxlens.reports import group  # noqa: F401
from pbxlens.reports import organization  # noqa: F401
from pbxlens.reports import wait  # noqa: F401
from pbxlens.reports import number  # noqa: F401
from pbxlens.reports import checktime  # noqa: F401
from pbxlens.reports import callcenter  # noqa: F401
from pbxlens.reports import activity  # noqa: F401
from pbxlens.reports import feedback  # noqa: F401
from pbxlens.reports import missed  # noqa: F401
from pbxlens.reports import missed_effectiveness  # noqa: F401
from pbxlens.reports import billing  # noqa: F401
from pbxlens.reports import billing_unrated  # noqa: F401
from pbxlens.reports import billing_bundles  # noqa: F401
from pbxlens.reports import billing_carrier  # noqa: F401
# isort: on

__all__ = ["FilterDef", "Guard", "Params", "Report", "ReportGuardError", "Result", "all_reports",
           "get", "register_report", "run"]
