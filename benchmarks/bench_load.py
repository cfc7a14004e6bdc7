"""Benchmark ``ayaall load`` against DuckDB's own read of the same CSV files.

For each size: generate a seeded extract (unless it is already there), then in separate processes
(so each has its own peak memory) time

- the floor: DuckDB ``CREATE TABLE ... AS SELECT * FROM read_csv(file)`` of every table into a
  fresh database file (auto-detected types; what any loader must at least do), and
- ``load_extract``: raw, staged and analysis layers with all endpoints derived, and
- the write alone: the tables that load wrote, copied from memory into a fresh database file (no
  parsing, checking or deriving: what storing that output costs by itself).

``--against REV`` also times the loader of git revision REV (exported with ``git archive``), in the
same rounds: each round runs the floor, the loader of REV, this loader and the write alone of each
loader's database, one after the other, so both loaders see the same machine load. It then prints
medians with the range over the rounds, and the CPU time (user + system, all threads) of each load
and read, which a machine shared with other jobs inflates less than the wall time.
A loader of REV that reads only format 1 is given the extract without its adverse_events file (and
this loader loads that too); every ratio is to DuckDB's read of the files that load was given.

Usage: python benchmarks/bench_load.py [--sizes 100000 1000000] [--out benchmarks/out] [--repeat 3]
       [--against REV]
Prints a markdown table: wall time, peak RSS and the ratios load / floor and write alone / floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revisions import ROOT, checkout

_FLOOR = """
import duckdb, sys, time, resource
from pathlib import Path
extract, db = Path(sys.argv[1]), sys.argv[2]
t = time.perf_counter()
con = duckdb.connect(db)
con.execute("SET enable_progress_bar = false")
for f in sorted(extract.glob("*.csv")):
    con.execute(f"CREATE TABLE {f.stem} AS SELECT * FROM read_csv('{f}')")
con.execute("CHECKPOINT")
con.close()
u = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - t, u.ru_maxrss, u.ru_utime + u.ru_stime)
"""

_WRITE = """
import duckdb, sys, time
loaded, db = sys.argv[1], sys.argv[2]
con = duckdb.connect(db)
con.execute("SET enable_progress_bar = false")
con.execute(f"ATTACH '{loaded}' AS loaded (READ_ONLY)")
tables = [t for (t,) in con.execute(
    "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'loaded' ORDER BY 1").fetchall()]
for t in tables:  # into memory first, untimed
    con.execute(f"CREATE TEMP TABLE mem_{t} AS SELECT * FROM loaded.{t}")
con.execute("DETACH loaded")
t0 = time.perf_counter()
for t in tables:
    con.execute(f"CREATE TABLE {t} AS SELECT * FROM mem_{t}")
con.execute("CHECKPOINT")
con.close()
print(time.perf_counter() - t0)
"""

_LOAD = """
import sys, time, resource
from etl import load_extract
t = time.perf_counter()
r = load_extract(sys.argv[1], sys.argv[2])
wall = time.perf_counter() - t
u = resource.getrusage(resource.RUSAGE_SELF)
print(wall, u.ru_maxrss, r.time_to_event_rows, u.ru_utime + u.ru_stime)
"""


def _run(code: str, *args: str, tree: Path = ROOT) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=env, cwd=tree
    )
    return [float(x) for x in out.stdout.split()]


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def _reads_format_1_1(tree: Path) -> bool:
    """Whether the loader of ``tree`` reads format 1.1 (the adverse_events table)."""
    return "ACCEPTED_VERSIONS" in (tree / "ayaall" / "contract.py").read_text(encoding="utf-8")


def _format_1_view(extract: Path, folder: Path) -> Path:
    """The extract as format 1: links to every file but adverse_events, and a manifest of version 1."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in extract.glob("*.csv"):
        link = folder / f.name
        if f.stem != "adverse_events" and not link.exists():
            link.symlink_to(f.resolve())
    manifest = json.loads((extract / "manifest.json").read_text(encoding="utf-8"))
    (folder / "manifest.json").write_text(json.dumps(manifest | {"version": 1}), encoding="utf-8")
    return folder


def _against(args: argparse.Namespace) -> None:
    """Alternating rounds of the floor, the loader of ``args.against`` and this loader, per size.

    A loader that reads only format 1 loads the extract without its adverse_events file (a format-1
    view of the same files); this loader then loads both, and each load is divided by DuckDB's read
    of the files it was given.
    """
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
        other = checkout(args.against, Path(tmp))
        for n in args.sizes:
            extract = args.out / f"extract_{n}"
            _generate(n, extract)
            view = _format_1_view(extract, args.out / f"extract_{n}_format1")
            has_ae = (extract / "adverse_events.csv").exists()
            runs = [(args.against, other, extract if _reads_format_1_1(other) else view), ("this", ROOT, extract)]
            if has_ae and not _reads_format_1_1(other):
                runs.insert(1, ("this", ROOT, view))
            timings: dict[tuple[str, Path], dict[str, list[float]]] = {
                (name, files): {"load": [], "cpu": [], "write": [], "peak": [], "floor": [], "floor_cpu": []}
                for name, _, files in runs
            }
            for _ in range(args.repeat):
                floors = {}
                for files in dict.fromkeys(files for _, _, files in runs):
                    floor_db = args.out / f"floor_{n}.duckdb"
                    floor_db.unlink(missing_ok=True)
                    wall, _peak, floor_cpu = _run(_FLOOR, str(files), str(floor_db))
                    floors[files] = (wall, floor_cpu)
                for name, tree, files in runs:
                    db, write_db = args.out / f"load_{n}.duckdb", args.out / f"write_{n}.duckdb"
                    db.unlink(missing_ok=True)
                    write_db.unlink(missing_ok=True)
                    wall, peak, _rows, cpu = _run(_LOAD, str(files), str(db), tree=tree)
                    r = timings[(name, files)]
                    r["load"].append(wall)
                    r["cpu"].append(cpu)
                    r["peak"].append(peak / 1024)
                    r["floor"].append(floors[files][0])
                    r["floor_cpu"].append(floors[files][1])
                    r["write"].append(_run(_WRITE, str(db), str(write_db))[0])
                    write_db.unlink(missing_ok=True)
            for (name, files), r in timings.items():
                ratios = [load / floor for load, floor in zip(r["load"], r["floor"], strict=True)]
                cpu_ratios = [load / floor for load, floor in zip(r["cpu"], r["floor_cpu"], strict=True)]
                fmt = "1.1" if (files / "adverse_events.csv").exists() else "1"
                rows.append({"patients": n, "loader": name, "format": fmt, "floor_s": r.pop("floor"), **r})
                rows[-1] |= {"ratio": ratios, "cpu_ratio": cpu_ratios}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"{args.repeat} alternating rounds; median (min–max)")
    print(
        "| loader | files | patients | DuckDB read_csv s | ayaall load s | load / read | read CPU s | load CPU s "
        "| load CPU / read CPU | write alone s | peak MB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['loader']} | format {r['format']} | {r['patients']:,} | {_spread(r['floor_s'])} | "
            f"{_spread(r['load'])} | {_spread(r['ratio'])} | {_spread(r['floor_cpu'])} | {_spread(r['cpu'])} | "
            f"{_spread(r['cpu_ratio'])} | {_spread(r['write'])} | {max(r['peak']):,.0f} |"
        )
    (args.out / "bench_load_against.json").write_text(json.dumps(rows, indent=2))


def _generate(n: int, folder: Path) -> float:
    if (folder / "manifest.json").exists():
        return float("nan")
    t = time.perf_counter()
    # this tree's generator (``python -m``, from the tree), whatever the ``ayaall`` on the PATH is
    command = [sys.executable, "-m", "ayaall", "generate", "--patients", str(n), "--seed", "42", "--quiet"]
    subprocess.run([*command, "--out", str(folder)], check=True, cwd=ROOT)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    parser.add_argument("--repeat", type=int, default=1, help="runs of each timing; the best is reported")
    parser.add_argument("--against", metavar="REV", help="also time the loader of git revision REV, alternating")
    args = parser.parse_args()
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.against:
        _against(args)
        return
    rows = []
    for n in args.sizes:
        extract = args.out / f"extract_{n}"
        gen = _generate(n, extract)
        size_mb = sum(p.stat().st_size for p in extract.glob("*.csv")) / 1e6
        floors, loads, writes = [], [], []
        for _ in range(args.repeat):
            for db in (args.out / f"floor_{n}.duckdb", args.out / f"load_{n}.duckdb", args.out / f"write_{n}.duckdb"):
                db.unlink(missing_ok=True)
            floors.append(_run(_FLOOR, str(extract), str(args.out / f"floor_{n}.duckdb")))
            loads.append(_run(_LOAD, str(extract), str(args.out / f"load_{n}.duckdb")))
            writes.append(_run(_WRITE, str(args.out / f"load_{n}.duckdb"), str(args.out / f"write_{n}.duckdb")))
        floor, load, write = min(floors), min(loads), min(writes)
        rows.append(
            {
                "patients": n,
                "csv_mb": round(size_mb, 1),
                "generate_s": round(gen, 1),
                "floor_s": round(floor[0], 2),
                "floor_peak_mb": round(floor[1] / 1024),
                "load_s": round(load[0], 2),
                "load_peak_mb": round(load[1] / 1024),
                "ratio": round(load[0] / floor[0], 2),
                "write_s": round(write[0], 2),
                "write_ratio": round(write[0] / floor[0], 2),
                "tte_rows": int(load[2]),
            }
        )
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    print(
        "| patients | CSV MB | generate s | DuckDB read_csv s (peak MB) | ayaall load s (peak MB) "
        "| load / read | write alone s | write alone / read | time_to_event rows |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['patients']:,} | {r['csv_mb']} | {r['generate_s']} | {r['floor_s']} ({r['floor_peak_mb']}) | "
            f"{r['load_s']} ({r['load_peak_mb']}) | {r['ratio']} | {r['write_s']} | {r['write_ratio']} | "
            f"{r['tte_rows']:,} |"
        )
    (args.out / "bench_load.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
