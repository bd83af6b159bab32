"""The ingest package loads its entry points on first use: a module of the package (the
activity CLI, imported by every CLI command) does not load the ingest and the pipeline."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_a_module_of_the_package_does_not_load_the_pipeline():
    code = ("import sys, pbxlens.ingest.activity_cli, pbxlens.ingest.inbox; "
            "assert 'pbxlens.pipeline' not in sys.modules, 'pipeline loaded'; "
            "assert 'pbxlens.ingest.files' not in sys.modules, 'ingest loaded'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_the_entry_points_load_on_first_use():
    import pbxlens.ingest as ingest
    from pbxlens.ingest import files

    assert ingest.ingest_paths is files.ingest_paths and ingest.FileResult is files.FileResult
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ingest.nope  # noqa: B018
