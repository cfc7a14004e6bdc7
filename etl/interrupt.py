"""Stopping a load: Ctrl-C, or an error in one of its threads, stops every part of it promptly.

A load runs DuckDB statements on several connections (the staging on one, raw landings on two more)
and reads the files on a thread of its own. Python raises ``KeyboardInterrupt`` in the main thread
only, at whatever line it happens to be on: inside a DuckDB call (which DuckDB then reports as an
error of its own), in a worker's future, or in the middle of cleaning up. A ``LoadStopper`` makes
Ctrl-C one orderly event instead: while a load runs in the main thread, SIGINT only marks the load
as interrupted and interrupts every registered connection and the file reading; the load then
unwinds through its normal error path (removing its temporary files) and raises one
``KeyboardInterrupt`` at the end, whatever the statement under way reported. A second Ctrl-C
during that changes nothing, so the clean-up is not cut short.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import duckdb

__all__ = ["LoadStopper"]


class LoadStopper:
    """Stops a load's connections and file reading; remembers whether Ctrl-C asked for it."""

    def __init__(self) -> None:
        self.cancel = threading.Event()  # set: stop reading files, start no landing
        self.interrupted = False  # Ctrl-C was pressed
        self._connections: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()

    def register(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        """Interrupt ``con`` when the load stops (at once, if it has stopped already)."""
        with self._lock:
            self._connections.append(con)
            stopped = self.cancel.is_set()
        if stopped:
            _interrupt(con)
        return con

    def stop(self) -> None:
        """Stop everything under way: statements on the registered connections, the file reading."""
        self.cancel.set()
        with self._lock:
            connections = list(self._connections)
        for con in connections:
            _interrupt(con)

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed (called between the load's steps)."""
        if self.interrupted:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def handling_sigint(self) -> Iterator[None]:
        """While inside, SIGINT stops the load instead of raising where it lands (main thread only,
        and only where SIGINT has Python's default handler; elsewhere nothing changes)."""
        if threading.current_thread() is not threading.main_thread() or (
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        ):
            yield
            return

        def on_sigint(_signum: int, _frame: FrameType | None) -> None:
            self.interrupted = True
            self.stop()

        signal.signal(signal.SIGINT, on_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _interrupt(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error, RuntimeError):  # a closed connection has nothing to stop
        con.interrupt()
