from pbxlens.store import pandas_probe

pandas_probe.skip()  # before any DuckDB parameter: ~0.5 s of pandas import per command

from pbxlens.cli import main  # noqa: E402

main()
