"""A throwaway PostgreSQL cluster for the test session: Debian's server binaries, `initdb` in a
temporary folder, listening only on a unix socket there, stopped (and removed) at the end.
As root (CI), the server runs as the `postgres` system user, as PostgreSQL requires."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries are missing: `make test` installs "
                           "Debian's postgresql package")
    return found[-1]


class Cluster:
    def __init__(self, durable: bool = False) -> None:
        # Tests trade durability for speed; `durable=True` (benchmarks) keeps PostgreSQL's
        # defaults: fsync and synchronous commit on.
        self.root = Path(tempfile.mkdtemp(prefix="pbxlens-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.sock.mkdir()
        with socket.socket() as s:  # a free port number (the server listens on a socket only)
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sock, "postgres")
        self._run([_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "pbxlens",
                   "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync"])
        self._opts = f"-k {self.sock} -p {self.port} -c listen_addresses='' -c max_connections=200"
        if not durable:
            self._opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self.resume()
        self.admin = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT",
                                      poolclass=sa.pool.NullPool)
        self._n = 0

    def _run(self, cmd: list[str]) -> None:
        r = subprocess.run([*self._as, *cmd], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr or r.stdout}")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://pbxlens@/{database}?host={self.sock}&port={self.port}"

    def new_database(self) -> str:
        """A fresh, empty database's URL. FILE_COPY: a copy of the template's files, 190 ms
        here against 295 ms for the default WAL_LOG, which writes the template into the WAL."""
        self._n += 1
        name = f"t{self._n}_{int(time.time() * 1000) % 100000}"
        with self.admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}" STRATEGY FILE_COPY'))
        return self.url(name)

    def recreate(self, url: str, template: str) -> None:
        """Make the database of `url` anew as a copy of the database `template` (no session
        may be open on either)."""
        name = sa.engine.make_url(url).database
        with self.admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            c.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}" '
                              "STRATEGY FILE_COPY"))

    def drop_database(self, url: str) -> None:
        """Drop a database of `new_database` (its sessions ended): the cluster of a test run
        stays small (170 databases of 7.5 MB otherwise, removed only at the end)."""
        name = sa.engine.make_url(url).database
        with self.admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def pause(self) -> None:
        """Stop the server cleanly (the data stays): clients see a database that is down."""
        self._run([_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def resume(self) -> None:
        self._run([_bin("pg_ctl"), "-D", str(self.data), "-o", self._opts, "-l",
                   str(self.root / "log"), "-w", "start"])

    def stop(self) -> None:
        self.admin.dispose()
        try:
            self._run([_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
