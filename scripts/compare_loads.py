"""Check that two versions of the loader build the same database from the same extract, table by table.

Each source tree (a folder holding this project, or a git revision of it, which is exported to a
temporary folder with ``git archive``) loads the same seeded messy extract in its own process
(``PYTHONPATH=<tree>``); then every table of the two databases is compared: the same tables, the
same column names and types, and the same rows in the same order (a table's stored order is what a
reader of it sees). With ``--enum-as-text`` a column stored as ENUM on one side and VARCHAR on the
other (or as two different ENUMs) is compared by its values as text, and the type change is printed
under the table. Only what differs between any two runs is left out: ``load_runs.started_at`` and
``load_runs.finished_at``.

Usage (from the project folder)::

    python scripts/compare_loads.py --reference main
    python scripts/compare_loads.py --reference /path/to/checkout --patients 20000 --seed 3 --format parquet
    python scripts/compare_loads.py --reference 4a22dd9 --enum-as-text   # a loader before the ENUM columns

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


def _as_text(kind: str) -> str:
    return "VARCHAR" if kind.startswith("ENUM(") else kind


def _select(columns: list[tuple[str, str]], table: str, enum_as_text: bool) -> str:
    cols = []
    for name, kind in columns:
        if name in _IGNORED.get(table, ()):
            continue
        cast = enum_as_text and kind.startswith("ENUM(")
        cols.append(f'CAST("{name}" AS VARCHAR)' if cast else f'"{name}"')
    return f'SELECT {", ".join(cols)} FROM "{table}"'


def _compare_table(
    ref: duckdb.DuckDBPyConnection, new: duckdb.DuckDBPyConnection, table: str, enum_as_text: bool = False
) -> tuple[str | None, list[str]]:
    """(None when ``table`` holds the same in both databases, else what differs first; type changes).

    With ``enum_as_text``, a column stored as ENUM in one database and VARCHAR in the other (or as
    ENUMs with different value lists) is compared as text; such type changes are returned, not
    counted as a difference.
    """
    ref_cols, new_cols = _columns(ref, table), _columns(new, table)
    retyped = [
        f"{a[0]} {a[1]} -> {b[1]}" for a, b in zip(ref_cols, new_cols, strict=False) if a[0] == b[0] and a[1] != b[1]
    ]
    same_shape = [(n, _as_text(k)) for n, k in ref_cols] == [(n, _as_text(k)) for n, k in new_cols]
    if ref_cols != new_cols and not (enum_as_text and same_shape):
        return f"columns differ: {ref_cols} vs {new_cols}", []
    ref_rows = ref.execute(_select(ref_cols, table, enum_as_text)).fetchall()
    new_rows = new.execute(_select(new_cols, table, enum_as_text)).fetchall()
    if len(ref_rows) != len(new_rows):
        return f"{len(ref_rows):,} rows vs {len(new_rows):,}", retyped
    for i, (a, b) in enumerate(zip(ref_rows, new_rows, strict=True)):
        if a != b:
            return f"row {i + 1} differs: {a} vs {b}", retyped
    return None, retyped


def compare(ref_db: Path, new_db: Path, enum_as_text: bool = False) -> list[tuple[str, int, str | None, list[str]]]:
    """Every table of either database: (name, rows in the reference, first difference or None, type changes
    let through by ``enum_as_text``)."""
    ref = duckdb.connect(str(ref_db), read_only=True)
    new = duckdb.connect(str(new_db), read_only=True)
    try:
        listing = "SELECT table_name FROM information_schema.tables ORDER BY table_name"
        ref_tables = [t for (t,) in ref.execute(listing).fetchall()]
        new_tables = [t for (t,) in new.execute(listing).fetchall()]
        out: list[tuple[str, int, str | None, list[str]]] = []
        for table in sorted(set(ref_tables) | set(new_tables)):
            if table not in new_tables or table not in ref_tables:
                where = "the new database" if table not in new_tables else "the reference database"
                out.append((table, 0, f"missing from {where}", []))
                continue
            (n,) = ref.execute(f'SELECT count(*) FROM "{table}"').fetchone()  # type: ignore[misc]
            out.append((table, int(n), *_compare_table(ref, new, table, enum_as_text)))
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
    parser.add_argument(
        "--enum-as-text",
        action="store_true",
        help="compare ENUM columns as text: a column that is VARCHAR in one database and ENUM in the other "
        "is the same if its values are (the type change is listed)",
    )
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
        results = compare(work / "reference.duckdb", work / "candidate.duckdb", args.enum_as_text)
    for table, n, problem, retyped in results:
        print(f"{'DIFFERS' if problem else 'same   '} {table:<28} {n:>9,} rows" + (f": {problem}" if problem else ""))
        for change in retyped:
            print(f"        type only: {change}")
    bad = [t for t, _, p, _ in results if p]
    retyped_tables = [t for t, _, p, r in results if r and not p]
    summary = f"{len(results) - len(bad)} of {len(results)} tables the same"
    if retyped_tables:
        summary += f" ({len(retyped_tables)} of them as text: ENUM columns compared with CAST to VARCHAR)"
    print(summary + (f"; differ: {', '.join(bad)}" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
