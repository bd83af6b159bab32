"""pbxlens: CDR and call-center analytics for KalliopePBX and Asterisk.

    import pbxlens
    lens = pbxlens.open("data/pbxlens.duckdb")   # read-only; see pbxlens.api and docs/api.md
    lens.report("cdr.queues", start="2026-05-01", end="2026-05-31").to_pandas()
"""

__version__ = "0.1.0"


class PbxlensError(Exception):
    """An error with a one-line message meant for the user (the CLI prints it, exit 2)."""

    exit_code = 2


def open(path=None, **options):  # pbxlens.open, as sqlite3.connect
    """Open a store read-only for analysis: `pbxlens.api.open`."""
    from pbxlens.api import open as open_store

    return open_store(path, **options)
