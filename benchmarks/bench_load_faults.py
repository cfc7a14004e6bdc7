"""What reading each file first costs (``etl.scan``), and what the broken files of issue 16 cost a load.

1. The scan of every CSV file of an extract (checksum and record count, one thread), beside the
   checksum alone, and of ``treatment_lines.csv`` rewritten as CR LF, with every value quoted
   (``csv.QUOTE_ALL``, as R's ``write.csv`` quotes text) and with a stray quote in every 50th row.
2. ``ayaall load`` in a child process on a 300-patient extract, clean and with one broken file
   each (a 209 MB line without a line break, one row with 40,000 extra fields, a named pipe, an
   unclosed quote): exit code, wall time (the program's imports take about 2 s of it) and peak
   memory. ``--against REV`` runs the same cases with the loader of git revision REV, each with a
   ``--timeout`` (a case that times out is shown as such).

Usage: python benchmarks/bench_load_faults.py --extract benchmarks/out/extract_1000000
       [--against REV] [--timeout 60] [--out benchmarks/out]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revisions import ROOT, checkout

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from builders import Patient, write_extract

from etl.extract import find_extract_files
from etl.scan import scan_csv

_CLI = """
import sys
from ayaall.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
# The peak resident memory of this process since it started (its own, not the parent's it was forked
# from, which getrusage's ru_maxrss would report if that was larger).
peak = [ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmHWM:")]
print("maxrss-kb", peak[0] if peak else "nan", file=sys.stderr)
sys.exit(code)
"""


def _sha_only(path: Path) -> None:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(1 << 20):
            digest.update(piece)


def _timed(fn: object, *args: object) -> float:
    t = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - t


def scan_costs(extract: Path, work: Path) -> None:
    files = find_extract_files(extract)
    print("| file | MB | records | checksum alone s | scan s |")
    print("|---|---:|---:|---:|---:|")
    total = [0.0, 0.0]
    for f in files.values():
        sha = min(_timed(_sha_only, f.path) for _ in range(3))
        scan = min(_timed(scan_csv, f.path, len(f.columns)) for _ in range(3))
        total = [total[0] + sha, total[1] + scan]
        records = scan_csv(f.path, len(f.columns)).records
        print(f"| {f.path.name} | {f.path.stat().st_size / 1e6:.1f} | {records:,} | {sha:.3f} | {scan:.3f} |")
    print(f"| all | | | {total[0]:.3f} | {total[1]:.3f} |")
    source = extract / "treatment_lines.csv"
    data = source.read_bytes()
    variants = {
        "CR LF": work / "crlf.csv",
        "every value quoted": work / "quoted.csv",
        "stray quotes": work / "stray.csv",
    }
    variants["CR LF"].write_bytes(data.replace(b"\n", b"\r\n"))
    with source.open(newline="") as src, variants["every value quoted"].open("w", newline="") as dst:
        writer = csv.writer(dst, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerows(csv.reader(src))
    lines = data.split(b"\n")
    for i in range(5, len(lines), 50):
        lines[i] = lines[i].replace(b"2", b'2"', 1)
    variants["stray quotes"].write_bytes(b"\n".join(lines))
    print()
    print("| treatment_lines.csv as | MB | scan s |")
    print("|---|---:|---:|")
    for name, path in variants.items():
        scan = min(_timed(scan_csv, path, 5) for _ in range(3))
        print(f"| {name} | {path.stat().st_size / 1e6:.1f} | {scan:.3f} |")


def _broken_extracts(work: Path) -> dict[str, Path]:
    patients = [Patient(f"P{i:03d}").line(1, "PED_INSPIRED", "2020-01-05") for i in range(1, 301)]
    clean = write_extract(work / "clean", patients)
    out = {"clean": clean}
    for name in ("line_209_mb", "row_40000_fields", "named_pipe", "unclosed_quote"):
        out[name] = work / name
        shutil.copytree(clean, out[name])
    with (out["line_209_mb"] / "relapses.csv").open("wb") as handle:
        handle.write(b"patient_id,relapse_date,site\n")
        handle.write(b"P001,2021-01-01,BM;" * 11_000_000)
    path = out["row_40000_fields"] / "patients.csv"
    lines = path.read_text().splitlines()
    lines[100] += ",x" * 40_000
    path.write_text("\n".join(lines) + "\n")
    (out["named_pipe"] / "transplants.csv").unlink()
    os.mkfifo(out["named_pipe"] / "transplants.csv")
    path = out["unclosed_quote"] / "patients.csv"
    lines = path.read_text().splitlines()
    lines[51] = lines[51].replace(",F,", ',"F,', 1)
    path.write_text("\n".join(lines) + "\n")
    return out


def fault_costs(work: Path, trees: dict[str, Path], timeout: float) -> None:
    extracts = _broken_extracts(work)
    print()
    print("| loader | extract | exit | wall s | peak MB |")
    print("|---|---|---:|---:|---:|")
    for loader, tree in trees.items():
        for name, extract in extracts.items():
            db = work / f"{loader}-{name}.duckdb"
            t = time.perf_counter()
            try:
                proc = subprocess.run(
                    [sys.executable, "-c", _CLI, "load", str(extract), "--db", str(db), "--quiet"],
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    cwd=tree,
                    env={**os.environ, "PYTHONPATH": str(tree)},
                    check=False,
                )
            except subprocess.TimeoutExpired:
                print(f"| {loader} | {name} | timed out | > {timeout:.0f} | |")
                continue
            wall = time.perf_counter() - t
            rss = [ln for ln in proc.stderr.splitlines() if ln.startswith("maxrss-kb ")]
            peak = float(rss[0].split()[1]) / 1024 if rss else float("nan")
            print(f"| {loader} | {name} | {proc.returncode} | {wall:.1f} | {peak:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", type=Path, required=True, help="a generated CSV extract (e.g. 1,000,000 patients)")
    parser.add_argument("--against", metavar="REV", help="also run the broken files with the loader of REV")
    parser.add_argument("--timeout", type=float, default=60, help="seconds before a case is stopped (default 60)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="bench_faults_") as tmp:
        work = Path(tmp)
        scan_costs(args.extract, work)
        trees = {"this": ROOT}
        if args.against:
            (work / "rev").mkdir()
            trees = {args.against: checkout(args.against, work / "rev"), **trees}
        fault_costs(work / "faults", trees, args.timeout)


if __name__ == "__main__":
    main()
