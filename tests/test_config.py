"""Settings: defaults, then the TOML file (pydantic-settings' own source), then PBXLENS_*
variables; a bad value is one line that names the setting."""

from __future__ import annotations

import json

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


def loaded():
    """The settings as the file and the PBXLENS_* variables are now. A thread another test
    left running (a server's writer) may have loaded and cached them between the fixture's
    clear and the test's write (CI once saw the defaults), so clear once they are final."""
    get_settings.cache_clear()
    return get_settings()


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
        loaded()
    assert len(str(exc.value).splitlines()) == 1


@pytest.mark.parametrize("value", ["/etc", "/proc/self", "../../../../etc/cron.d", "/srv\x00x",
                                   "/srv/lake\n", " /srv/lake"])
def test_a_path_setting_outside_the_allowed_folders_is_refused(settings_file, monkeypatch,
                                                                value):
    monkeypatch.chdir(settings_file.parent)
    settings_file.write_text(f"backup_dir = {json.dumps(value)}\n")  # TOML takes JSON escapes
    with pytest.raises(PbxlensError, match="invalid setting") as exc:
        loaded()
    assert len(str(exc.value).splitlines()) == 1


def test_path_settings_inside_the_roots_and_through_symlinks(settings_file, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PBXLENS_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("PBXLENS_TICKET_ATTACHMENTS_DIR", "attachments")  # relative: under cwd
    assert loaded().lake == str(tmp_path / "lake")
    (tmp_path / "out").symlink_to("/etc")  # inside by name, outside once resolved
    monkeypatch.setenv("PBXLENS_BACKUP_DIR", str(tmp_path / "out"))
    with pytest.raises(PbxlensError, match="backup_dir: /etc is outside"):
        loaded()
    monkeypatch.setenv("PBXLENS_PATH_ROOTS", f"{tmp_path},/etc")  # an admin's explicit choice
    assert loaded().backup_dir == str(tmp_path / "out")


def test_a_load_that_began_before_a_cache_clear_is_not_kept(settings_file, monkeypatch):
    """A background thread (a live server's writer, its inbox mover) that was loading the
    settings when a test changed PBXLENS_* and cleared the cache must not leave its stale
    settings cached: the test would then run with the old ones (mc15 once lost its line prefix
    this way, so the callbacks to 0... matched no request)."""
    import threading

    from pbxlens import config

    loading, release = threading.Event(), threading.Event()
    real = config.Settings

    def paused() -> config.Settings:  # loaded (environment read), not yet cached: hold here
        s = real()
        if threading.current_thread().name == "loader":
            loading.set()
            release.wait(10)
        return s

    monkeypatch.setattr(config, "Settings", paused)
    got = []

    def load() -> None:
        # cleared here, not only by the fixture: a thread another test left running (a
        # server's inbox mover) may have cached the settings since, and the load would not run
        get_settings.cache_clear()
        got.append(get_settings())

    t = threading.Thread(target=load, name="loader")
    t.start()
    assert loading.wait(10)
    monkeypatch.setenv("PBXLENS_LINE_PREFIX", "0")  # what the missed_calls fixture does
    get_settings.cache_clear()
    release.set()
    t.join(10)
    assert got[0].line_prefix == ""  # the thread's own call still answers what it loaded
    assert get_settings().line_prefix == "0"
