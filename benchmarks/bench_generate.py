"""Benchmark ``ayaall generate``: wall time and peak memory at 100,000 and 1,000,000 patients.

Each size runs in a fresh child process so its peak RSS (``resource.getrusage(RUSAGE_CHILDREN)``,
sizes run smallest first) is its own. Prints one markdown table row per run::

    python benchmarks/bench_generate.py                      # 100k and 1M, CSV, clean
    python benchmarks/bench_generate.py --sizes 100000 --format parquet --messy 0.05
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = (
    "import sys; from synthetic_data import generate_registry; "
    "generate_registry(sys.argv[1], int(sys.argv[2]), seed=20260630, messy=float(sys.argv[3]), fmt=sys.argv[4])"
)


def _run(n: int, messy: float, fmt: str, out_root: Path) -> tuple[float, float, float]:
    out = out_root / f"n{n}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", _CHILD, str(out), str(n), str(messy), fmt], check=True)
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    size_mb = sum(p.stat().st_size for p in out.iterdir()) / 1e6
    return wall, peak_mb, size_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated patient counts")
    parser.add_argument("--messy", type=float, default=0.0)
    parser.add_argument("--format", dest="fmt", choices=("csv", "parquet"), default="csv")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"<!-- {machine} -->")
    print("| benchmark | patients | format | messy | wall time (s) | peak RSS (MB) | output (MB) |")
    print("|---|---:|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            wall, peak, size = _run(n, args.messy, args.fmt, Path(tmp))
            print(
                f"| generate | {n:,} | {args.fmt} | {args.messy:g} | {wall:.1f} | {peak:.0f} | {size:.0f} |", flush=True
            )


if __name__ == "__main__":
    main()
