"""The toxicity endpoints stored at load time or derived at query time: what each costs.

On a database written by ``ayaall load`` (a copy of it, so the original stays as loaded):

- **query time**: ``etl.toxicity.toxicity_frame`` as an analysis calls it (the whole registry, one
  line, the events it shows), to a pandas frame, for a few typical requests (a frame of every
  line-1 patient x twelve events x two thresholds would be 24M rows: an analysis asks for the
  events it shows);
- **stored**: the table a load would have to write to store them, every line x every event x the
  two thresholds an analysis uses (1 and 3), created from the staged tables and checkpointed, with
  its rows and the growth of the database file. That is what storing would add to every load.

Usage: python benchmarks/bench_toxicity.py DB [--repeat 3]
Prints a markdown table (median and range over the repeats).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from ayaall.contract import AE_EVENTS
from etl.toxicity import _toxicity_sql, toxicity_frame

_REQUESTS = (
    ("line 2, CRS / ICANS / VOD_SOS, grades 1 and 3, 100-day window", 2, ("CRS", "ICANS", "VOD_SOS"), (1, 3), 100),
    ("line 2, CRS, grade 3", 2, ("CRS",), (3,), None),
    ("line 1, OSTEONECROSIS, any grade", 1, ("OSTEONECROSIS",), (1,), None),
)


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def _query_times(db: Path, repeat: int) -> list[tuple[str, int, list[float]]]:
    out = []
    con = duckdb.connect(str(db), read_only=True)
    try:
        for label, line, events, grades, window in _REQUESTS:
            times, rows = [], 0
            for _ in range(repeat):
                t = time.perf_counter()
                frame = toxicity_frame(con, line, events, grades, window_days=window, columns=["age_group"])
                times.append(time.perf_counter() - t)
                rows = len(frame)
                del frame
            out.append((label, rows, times))
    finally:
        con.close()
    return out


def _stored(db: Path, repeat: int) -> tuple[int, list[float], float]:
    """Rows, seconds to create and checkpoint the stored table, and the file's growth in MB."""
    con = duckdb.connect(str(db), read_only=True)
    (lines,) = con.execute("SELECT max(line_no) FROM stg_treatment_lines").fetchone()  # type: ignore[misc]
    con.close()
    parts, params = [], []
    for line in range(1, int(lines) + 1):
        parts.append(f"SELECT * FROM ({_toxicity_sql(AE_EVENTS, (1, 3), None, 'TRUE', ())})")
        params += [line, line]
    sql = "CREATE TABLE toxicity_to_event AS " + " UNION ALL ".join(parts)
    times, rows, growth = [], 0, 0.0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench_toxicity_", dir=db.parent) as tmp:
            copy = Path(tmp) / "copy.duckdb"
            shutil.copyfile(db, copy)
            before = copy.stat().st_size
            con = duckdb.connect(str(copy))
            con.execute("SET enable_progress_bar = false")
            con.execute("SET memory_limit = '3GB'")  # as a load runs (etl.load's default)
            t = time.perf_counter()
            con.execute(sql, params)
            con.execute("CHECKPOINT")
            times.append(time.perf_counter() - t)
            (rows,) = con.execute("SELECT count(*) FROM toxicity_to_event").fetchone()  # type: ignore[misc]
            con.close()
            growth = (copy.stat().st_size - before) / 1e6
    return int(rows), times, growth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    con = duckdb.connect(str(args.db), read_only=True)
    (patients,) = con.execute("SELECT count(*) FROM analysis_patients").fetchone()  # type: ignore[misc]
    (tte,) = con.execute("SELECT count(*) FROM time_to_event").fetchone()  # type: ignore[misc]
    (ae,) = con.execute("SELECT count(*) FROM stg_adverse_events").fetchone()  # type: ignore[misc]
    con.close()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"database: {patients:,} patients, {ae:,} adverse events, {tte:,} time_to_event rows")
    print("| what | rows | seconds |")
    print("|---|---:|---:|")
    for label, rows, times in _query_times(args.db, args.repeat):
        print(f"| query time: {label} | {rows:,} | {_spread(times)} |")
    rows, times, growth = _stored(args.db, args.repeat)
    print(
        f"| stored: every line x event x grades 1 and 3, created and checkpointed (+{growth:,.0f} MB) | "
        f"{rows:,} | {_spread(times)} |"
    )


if __name__ == "__main__":
    main()
