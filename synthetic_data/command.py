"""``ayaall generate``: write a synthetic registry extract (``shared/spec/cli.md``)."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from ayaall.errors import UserError
from synthetic_data.generate import DEFAULT_CUTOFF, generate_registry

__all__ = ["register"]


def _cutoff(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``generate`` subcommand."""
    p = subparsers.add_parser(
        "generate",
        help="write a synthetic AYA-ALL registry extract (format 1.1) with truth.json",
        description="Simulate AYA ALL patients and write a registry extract (format 1.1), truth.json with "
        "the true model parameters, and with --messy a defects.json listing every planted defect.",
    )
    p.add_argument("--patients", type=int, required=True, metavar="N", help="number of patients")
    p.add_argument("--seed", type=int, required=True, metavar="S", help="random seed (same seed, same bytes)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--messy",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="corrupt about this fraction of rows (0 to 0.2; default 0)",
    )
    p.add_argument("--format", dest="fmt", choices=("csv", "parquet"), default="csv", help="table format")
    p.add_argument(
        "--data-cutoff",
        type=_cutoff,
        default=DEFAULT_CUTOFF,
        metavar="YYYY-MM-DD",
        help=f"data cutoff (default {DEFAULT_CUTOFF.isoformat()})",
    )
    p.add_argument(
        "--first-dx-year", type=int, default=2000, metavar="YEAR", help="first diagnosis year (default 2000)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    if args.patients is None or args.seed is None:
        raise UserError("--patients and --seed are required.")
    summary = generate_registry(
        args.out,
        args.patients,
        args.seed,
        messy=args.messy,
        fmt=args.fmt,
        data_cutoff=args.data_cutoff,
        progress=not args.quiet and sys.stderr.isatty(),
        first_dx_year=args.first_dx_year,
    )
    if not args.quiet:
        rows = ", ".join(f"{t} {n:,}" for t, n in summary.rows.items())
        defects = f"; {summary.n_defects:,} defects planted (defects.json)" if summary.messy > 0 else ""
        took = f"{summary.seconds:.1f} s"
        print(f"Wrote {summary.n_patients:,} patients to {summary.out_dir} in {took}: {rows}{defects}.")
    return 0
