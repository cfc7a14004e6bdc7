"""``ayaall load EXTRACT_DIR --db DB``: validate and load an extract, print the load report."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from ayaall.endpoints import DEFAULT_AGE_BREAKS, DEFAULT_ERA_BREAKS
from ayaall.errors import UserError
from etl.guard import DEFAULT_MAX_QUARANTINE, check_max_quarantine
from etl.load import LoadResult, load_extract
from etl.summary import registry_summary

__all__ = ["register"]

_PROGRESS_BYTES = 20_000_000  # show a progress bar for extracts larger than this


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "load",
        help="validate and load a registry extract into a DuckDB file",
        description="Validate and load a registry extract (format 1.1) into a DuckDB file, derive "
        "analysis_patients and time_to_event, and print the load report.",
    )
    p.add_argument("extract_dir", type=Path, help="extract folder (manifest.json and the tables)")
    p.add_argument("--db", required=True, type=Path, help="DuckDB file to write (replaced only on success)")
    p.add_argument(
        "--age-bands",
        default=None,
        help="lower bounds of the age groups, comma-separated (default 15,20,25,30,40: "
        "<15, 15-19, 20-24, 25-29, 30-39, 40+)",
    )
    p.add_argument(
        "--era-bands",
        default=None,
        help="first diagnosis years of the eras after the first, comma-separated (default 2010,2015: "
        "<2010, 2010-2014, 2015+)",
    )
    p.add_argument("--memory-limit", default="3GB", help="DuckDB memory limit for the load (default 3GB)")
    p.add_argument(
        "--max-quarantine",
        type=float,
        default=DEFAULT_MAX_QUARANTINE,
        metavar="SHARE",
        help="stop the load, before it replaces the database, when more than this share of any table's rows "
        f"would be quarantined (default {DEFAULT_MAX_QUARANTINE:g}, i.e. {DEFAULT_MAX_QUARANTINE * 100:g}%%; "
        "1 never stops; a required table left empty always stops it)",
    )
    p.add_argument("--json", action="store_true", help="print the load report as JSON")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", help="always show a progress bar")
    bar.add_argument("--quiet", action="store_true", help="never show a progress bar")
    p.set_defaults(handler=_run)

    s = subparsers.add_parser("summary", help="print who is in a loaded database and the events per endpoint")
    s.add_argument("--db", required=True, type=Path, help="DuckDB file written by 'ayaall load'")
    s.set_defaults(handler=_summary)


def _summary(args: argparse.Namespace) -> int:
    from etl.read import connect_readonly

    con = connect_readonly(args.db)
    try:
        print(registry_summary(con))
    finally:
        con.close()
    return 0


def _parse_breaks(
    text: str | None, flag: str = "--age-bands", example: str = "15,20,25,30,40"
) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        breaks = tuple(int(x) for x in text.split(","))
    except ValueError as exc:
        raise UserError(f"{flag} {text!r} must be whole numbers separated by commas, e.g. {example}.") from exc
    if list(breaks) != sorted(set(breaks)):
        raise UserError(f"{flag} {text!r} must be strictly increasing.")
    return breaks


def _run(args: argparse.Namespace) -> int:
    breaks = _parse_breaks(args.age_bands)
    eras = _parse_breaks(args.era_bands, "--era-bands", "2010,2015")
    check_max_quarantine(args.max_quarantine)
    size = sum(p.stat().st_size for p in args.extract_dir.glob("*") if p.is_file()) if args.extract_dir.is_dir() else 0
    show = args.progress or (not args.quiet and size > _PROGRESS_BYTES)
    with tqdm(total=None, desc="ayaall load", unit=" step", disable=not show, file=sys.stderr) as bar:

        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        try:
            result = load_extract(
                args.extract_dir,
                args.db,
                age_breaks=breaks or DEFAULT_AGE_BREAKS,
                era_breaks=eras or DEFAULT_ERA_BREAKS,
                memory_limit=args.memory_limit,
                progress=step,
                max_quarantine=args.max_quarantine,
            )
        except KeyboardInterrupt:
            left = f"{args.db} left as it was" if args.db.exists() else "nothing written"
            raise KeyboardInterrupt(f"the load was stopped, {left}") from None
    if args.json:
        payload = asdict(result)
        payload["db_path"] = str(result.db_path)
        print(json.dumps(payload, indent=2))
    else:
        print(format_report(result))
    return 0


def format_report(result: LoadResult) -> str:
    """The load report as a plain-text table."""
    lines = [
        f"Loaded into {result.db_path} (load {result.load_id}, data cut-off {result.data_cutoff})",
        "",
        f"{'table':<16} {'file':<22} {'read':>10} {'loaded':>10} {'quarantined':>12} {'warnings':>9}",
    ]
    for t in result.tables:
        lines.append(
            f"{t.table:<16} {t.source_file or '(absent)':<22} {t.rows_read:>10,} {t.rows_loaded:>10,} "
            f"{t.rows_quarantined:>12,} {t.warnings:>9,}"
        )
    lines.append("")
    lines.append(
        f"{result.patients:,} patients; {result.patients_excluded:,} excluded from endpoints; "
        f"{result.time_to_event_rows:,} time-to-event rows."
    )
    for reason, n in result.exclusions.items():
        lines.append(f"  excluded, {reason}: {n:,}")
    lines.append("Quarantined rows and warnings: tables quarantine and data_quality_issues in the database.")
    return "\n".join(lines)
