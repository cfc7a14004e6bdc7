"""Where ``load_extract`` spends its time: every SQL statement it runs, timed, in one process.

Usage: python benchmarks/profile_load.py EXTRACT_DIR [--db FILE] [--top 25] [--checkpoint-each]
Prints the slowest statements (wall and CPU seconds, first words of the SQL) and the total per step, where a step
is what the loader's progress callback names ("loading patients", "deriving time_to_event", ...).

Read the per-statement times with care: DuckDB compresses and writes a table's data when a later
commit checkpoints, so a statement's time can include the storing of earlier statements' tables.
``--checkpoint-each`` runs a CHECKPOINT after every statement that is not a query and counts it
with that statement, so each statement carries the cost of storing what it wrote; the total is then
higher than a plain load's (the checkpoints run one at a time). For phase totals, time whole runs.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import duckdb

from etl import load_extract


class _TimedConnection:
    """A DuckDB connection that records how long each ``execute`` took."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        log: list[tuple[str, str, float, float]],
        step: list[str],
        checkpoint_each: bool,
    ) -> None:
        self._con, self._log, self._step, self._checkpoint_each = con, log, step, checkpoint_each

    def execute(self, sql: str, *args: object) -> object:
        return self._timed(self._con.execute, sql, *args)

    def executemany(self, sql: str, *args: object) -> object:
        return self._timed(self._con.executemany, sql, *args)

    def _timed(self, run: Callable[..., object], sql: str, *args: object) -> object:
        t, c = time.perf_counter(), time.process_time()
        out = run(sql, *args)
        if self._checkpoint_each and not sql.lstrip().upper().startswith(("SELECT", "CHECKPOINT")):
            self._con.execute("CHECKPOINT")  # not after a query: it would discard the unread result
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        self._log.append((self._step[0], " ".join(sql.split())[:100], wall, cpu))
        return out

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extract", type=Path)
    parser.add_argument("--db", type=Path, default=Path("benchmarks/out/profile.duckdb"))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--checkpoint-each", action="store_true", help="checkpoint after every statement")
    args = parser.parse_args()
    args.db.unlink(missing_ok=True)
    log: list[tuple[str, str, float, float]] = []
    step = ["start"]
    real_connect = duckdb.connect

    def timed_connect(*a: object, **k: object) -> object:
        return _TimedConnection(real_connect(*a, **k), log, step, args.checkpoint_each)

    duckdb.connect = timed_connect  # type: ignore[assignment]
    t, c = time.perf_counter(), time.process_time()
    try:
        load_extract(args.extract, args.db, progress=lambda name: step.__setitem__(0, name))
    finally:
        duckdb.connect = real_connect
    total, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"total {total:.2f} s wall, {cpu:.2f} s CPU; statements {sum(x[2] for x in log):.2f} s wall")
    print("   wall     CPU")
    by_step: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for name, _, wall, cpu in log:
        by_step[name][0] += wall
        by_step[name][1] += cpu
    for name, (wall, cpu) in by_step.items():
        print(f"{wall:7.2f} {cpu:7.2f}  {name}")
    print()
    for name, sql, wall, cpu in sorted(log, key=lambda x: -x[2])[: args.top]:
        print(f"{wall:7.2f} {cpu:7.2f}  [{name}] {sql}")


if __name__ == "__main__":
    main()
