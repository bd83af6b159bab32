"""Where ``generate`` hands each simulated day: formatted and written in this process
(``InlineSink``) or in a second process (``ProcessSink``), so that on a multi-core machine the
formatting and writing overlap the simulation of the next day.

Both sinks run the same code on the same values (``format_raw`` then each format writer, in day
order), so their files are byte-identical.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import queue
import sys
import threading
import traceback
from pathlib import Path

from ..truth import Call
from .callcenter import cc_raw, format_cc
from .cdr import FORMAT_WRITERS
from .common import TimeFormatter, format_raw, pack, unpack


class _Writers:
    def __init__(self, out_dir: Path, fmts: list[str], tz: str, tenant: bool = False):
        self.writers = []
        self.tenant = tenant
        try:
            for f in fmts:
                self.writers.append(FORMAT_WRITERS[f](out_dir, tenant))
        except BaseException:
            self.close()
            raise
        self.fmt = TimeFormatter(tz)
        # Call Center writers take queue-call rows (callcenter.py), the others CDR rows
        self.cdr = [w for w in self.writers if not getattr(w, "callcenter", False)]
        self.cc = [w for w in self.writers if getattr(w, "callcenter", False)]

    def write_raw(self, batch, *, objects: bool, cc_batch=None) -> None:
        if self.cdr:
            rows = format_raw(batch, self.fmt, objects=objects, tenant=self.tenant)
            for w in self.cdr:
                w.write(rows)
        if self.cc:
            cc_rows = format_cc(cc_raw(batch) if objects else cc_batch, self.fmt, self.tenant)
            for w in self.cc:
                w.write(cc_rows)

    def close(self) -> None:
        for w in self.writers:
            w.close()


class InlineSink:
    def __init__(self, out_dir: Path, fmts: list[str], tz: str, tenant: bool = False):
        self._w = _Writers(out_dir, fmts, tz, tenant)

    def write(self, calls: list[Call]) -> None:
        self._w.write_raw(calls, objects=True)

    def close(self, *, ok: bool = True) -> None:
        self._w.close()


def _writer_main(conn, out_dir: str, fmts: list[str], tz: str, tenant: bool) -> None:
    """Writer process: receive pickled raw days until an empty message, write them, reply."""
    gc.disable()  # see simulate._NoCyclicGC; collected once per day below
    try:
        w = _Writers(Path(out_dir), fmts, tz, tenant)
        try:
            while True:
                data = conn.recv_bytes()
                if not data:
                    break
                batch, cc_batch = unpack(data)
                w.write_raw(batch, objects=False, cc_batch=cc_batch)
                del data
                gc.collect(0)
        finally:
            w.close()
        conn.send(("ok", ""))
    except BaseException:  # report to the parent, which raises
        with contextlib.suppress(OSError):
            conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def _start_method() -> str:
    # fork is cheap (no re-import) and safe while this process runs a single thread
    if (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1):
        return "fork"
    return "spawn"


def _grow_pipe(conn) -> None:
    """Raise the pipe's kernel buffer (Linux; best effort) so a day moves in a few writes."""
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass


class ProcessSink:
    """Pickled days go through a bounded queue to a sender thread, which blocks in the pipe
    writes (GIL released) instead of the simulation: under CPU contention the writer process may
    be scheduled late, and the simulation should not wait for it day by day."""

    QUEUE_DAYS = 8  # bounds the memory held by days not yet sent

    def __init__(self, out_dir: Path, fmts: list[str], tz: str, tenant: bool = False):
        ctx = multiprocessing.get_context(_start_method())
        self._conn, child = ctx.Pipe(duplex=True)
        self._proc = ctx.Process(target=_writer_main,
                                 args=(child, str(out_dir), fmts, tz, tenant),
                                 name="pbxlens-simulate-writer", daemon=True)
        self._proc.start()
        child.close()
        self._cc = any(getattr(FORMAT_WRITERS[f], "callcenter", False) for f in fmts)
        self._cdr = any(not getattr(FORMAT_WRITERS[f], "callcenter", False) for f in fmts)
        _grow_pipe(self._conn)
        self._q: queue.Queue = queue.Queue(maxsize=self.QUEUE_DAYS)
        self._send_error: BaseException | None = None
        self._thread = threading.Thread(target=self._pump, name="pbxlens-simulate-sender",
                                        daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while True:
            data = self._q.get()
            if data is None:
                return
            try:
                self._conn.send_bytes(data)
            except BaseException as e:  # re-raised by the main thread
                self._send_error = e
                while self._q.get() is not None:  # unblock the producer, then stop
                    pass
                return

    def _put(self, item, check: bool = True) -> None:
        while True:
            if check and self._send_error is not None:
                raise self._failure()
            try:
                self._q.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def _failure(self) -> RuntimeError:
        info = "writer process ended unexpectedly"
        try:
            if self._conn.poll(5):
                status, tb = self._conn.recv()
                if status == "error":
                    info = f"writer process failed:\n{tb}"
        except (EOFError, OSError):
            pass
        return RuntimeError(info)

    def write(self, calls: list[Call]) -> None:
        self._put(pack(calls, cdr=self._cdr, cc=self._cc))

    def close(self, *, ok: bool = True) -> None:
        try:
            if ok:
                self._put(b"")  # end of data for the writer process
            if self._thread.is_alive():
                self._put(None, check=False)  # a failed sender drains until this
                self._thread.join()
            if ok:
                if self._send_error is not None:
                    raise self._failure()
                try:
                    status, tb = self._conn.recv()
                except (OSError, EOFError):
                    raise self._failure() from None
                if status != "ok":
                    raise RuntimeError(f"writer process failed:\n{tb}")
        finally:
            self._conn.close()  # on failure the child sees EOF and stops
            self._proc.join(30)
            if self._proc.is_alive():
                self._proc.terminate()
                self._proc.join()


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def open_sink(out_dir: Path, fmts: list[str], tz: str, process: bool, tenant: bool = False):
    return (ProcessSink if process else InlineSink)(out_dir, fmts, tz, tenant)
