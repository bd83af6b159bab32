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


def open(path=None, **options):  # pbxlens.open, as sqlite3.connect
    """Open a store read-only for analysis: `pbxlens.api.open`."""
    from pbxlens.api import open as open_store

    return open_store(path, **options)
