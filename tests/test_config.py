"""Settings: defaults, then the TOML file (pydantic-settings' own source), then PBXLENS_*
variables; a bad value is one line that names the setting."""

from __future__ import annotations

import pytest

from pbxlens import PbxlensError
from pbxlens.config import Settings, get_settings


@pytest.fixture
def settings_file(tmp_path, monkeypatch):
    path = tmp_path / "pbxlens.toml"
    monkeypatch.setenv("PBXLENS_CONFIG", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_toml_then_environment(settings_file, monkeypatch):
    settings_file.write_text('timezone = "Europe/London"\nservice_level_s = 33\n')
    assert (Settings().timezone, Settings().service_level_s) == ("Europe/London", 33)
    monkeypatch.setenv("PBXLENS_SERVICE_LEVEL_S", "9")
    assert Settings().service_level_s == 9
    settings_file.unlink()  # a missing file is an empty source
    assert Settings().timezone == "Europe/Rome"


@pytest.mark.parametrize("zone", ["Europe/Rome'; DROP TABLE calls; --", "Mars/Olympus", "",
                                  " Europe/Rome", "../../etc/passwd"])
def test_a_bad_time_zone_is_refused_at_load(settings_file, monkeypatch, zone):
    monkeypatch.setenv("PBXLENS_TIMEZONE", zone)
    with pytest.raises(PbxlensError, match="invalid setting timezone") as exc:
        get_settings()
    assert len(str(exc.value).splitlines()) == 1
