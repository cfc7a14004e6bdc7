"""Check that two versions of the loader build the same database from the same extract, table by table.

Each source tree (a folder holding this project, or a git revision of it, which is exported to a
temporary folder with ``git archive``) loads the same seeded messy extract in its own process
(``PYTHONPATH=<tree>``); then every table of the two databases is compared: the same tables, the
same column names and types, and the same rows in the same order (a table's stored order is what a
reader of it sees). Only what differs between any two runs is left out: ``load_runs.started_at`` and
``load_runs.finished_at``.

Usage (from the project folder)::

    python scripts/compare_loads.py --reference main
    python scripts/compare_loads.py --reference /path/to/checkout --patients 20000 --seed 3 --format parquet

Exits 0 and prints one line per table when the databases agree; exits 1 and names the first
difference of each table that does not.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

_IGNORED = {"load_runs": ("started_at", "finished_at")}

_LOAD = "import sys; from etl import load_extract; load_extract(sys.argv[1], sys.argv[2])"


def _load(tree: Path, extract: Path, db: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run([sys.executable, "-c", _LOAD, str(extract), str(db)], env=env, check=True, cwd=tree)


def _tree(reference: str, work: Path) -> Path:
    """The folder of the reference source tree: ``reference`` itself, or that git revision exported."""
    if Path(reference).is_dir():
        return Path(reference).resolve()
    out = work / "reference_tree"
    out.mkdir()
    archive = subprocess.run(["git", "archive", reference], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(name, str(kind)) for name, kind, *_ in con.execute(f'DESCRIBE "{table}"').fetchall()]


def _compare_table(ref: duckdb.DuckDBPyConnection, new: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """None when ``table`` is the same in both databases, else what differs first."""
    ref_cols, new_cols = _columns(ref, table), _columns(new, table)
    if ref_cols != new_cols:
        return f"columns differ: {ref_cols} vs {new_cols}"
    kept = ", ".join(f'"{name}"' for name, _ in ref_cols if name not in _IGNORED.get(table, ()))
    ref_rows = ref.execute(f'SELECT {kept} FROM "{table}"').fetchall()
    new_rows = new.execute(f'SELECT {kept} FROM "{table}"').fetchall()
    if len(ref_rows) != len(new_rows):
        return f"{len(ref_rows):,} rows vs {len(new_rows):,}"
    for i, (a, b) in enumerate(zip(ref_rows, new_rows, strict=True)):
        if a != b:
            return f"row {i + 1} differs: {a} vs {b}"
    return None


def compare(ref_db: Path, new_db: Path) -> list[tuple[str, int, str | None]]:
    """Every table of either database: (name, rows in the reference, first difference or None)."""
    ref = duckdb.connect(str(ref_db), read_only=True)
    new = duckdb.connect(str(new_db), read_only=True)
    try:
        listing = "SELECT table_name FROM information_schema.tables ORDER BY table_name"
        ref_tables = [t for (t,) in ref.execute(listing).fetchall()]
        new_tables = [t for (t,) in new.execute(listing).fetchall()]
        out = []
        for table in sorted(set(ref_tables) | set(new_tables)):
            if table not in new_tables or table not in ref_tables:
                where = "the new database" if table not in new_tables else "the reference database"
                out.append((table, 0, f"missing from {where}"))
                continue
            (n,) = ref.execute(f'SELECT count(*) FROM "{table}"').fetchone()  # type: ignore[misc]
            out.append((table, int(n), _compare_table(ref, new, table)))
        return out
    finally:
        ref.close()
        new.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", required=True, help="the reference loader: a source folder or a git revision")
    parser.add_argument("--candidate", type=Path, default=Path.cwd(), help="source tree to check (default: here)")
    parser.add_argument("--patients", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--messy", type=float, default=0.05)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="compare_loads_") as tmp:
        work = Path(tmp)
        extract = work / "extract"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ayaall",
                "generate",
                "--patients",
                str(args.patients),
                "--seed",
                str(args.seed),
                "--messy",
                str(args.messy),
                "--format",
                args.format,
                "--out",
                str(extract),
                "--quiet",
            ],
            env={**os.environ, "PYTHONPATH": str(args.candidate.resolve())},
            check=True,
        )
        _load(_tree(args.reference, work), extract, work / "reference.duckdb")
        _load(args.candidate.resolve(), extract, work / "candidate.duckdb")
        results = compare(work / "reference.duckdb", work / "candidate.duckdb")
    for table, n, problem in results:
        print(f"{'DIFFERS' if problem else 'same   '} {table:<28} {n:>9,} rows" + (f": {problem}" if problem else ""))
    bad = [t for t, _, p in results if p]
    summary = f"{len(results) - len(bad)} of {len(results)} tables the same"
    print(summary + (f"; differ: {', '.join(bad)}" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
