"""``ayaall analyze ...``: every analysis the dashboard shows, headless, printing JSON (cli.md).

Each analysis owns a module in ``reports/analyze/`` exposing ``register(subparsers, common)``, where
``common`` is the parent parser holding the options every analysis shares; ``ANALYSES`` lists them, so a
module that cannot be imported is an error, not a missing subcommand.
"""

from __future__ import annotations

import argparse
import functools
import importlib
from collections.abc import Callable

from threadpoolctl import threadpool_limits

from ayaall.settings import DEFAULT_MIN_CELL

__all__ = ["ANALYSES", "common_parser", "register"]

#: the ``ayaall analyze`` subcommands, each a module of ``reports/analyze/``
ANALYSES: tuple[str, ...] = ("km", "cox", "cif", "landmark", "iptw", "response", "toxicity", "table1")


def common_parser() -> argparse.ArgumentParser:
    """Options shared by every ``analyze`` subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", required=True, help="DuckDB file written by 'ayaall load'")
    common.add_argument("--endpoint", required=True, help="OS, EFS, RFS, CIR, NRM or GRFS")
    common.add_argument("--origin", required=True, help="time zero: DX, CR1, REL1, LINE2 or HCT1")
    common.add_argument("--cohort", help="cohort file (JSON, see cli.md)")
    common.add_argument(
        "--min-cell",
        type=int,
        default=DEFAULT_MIN_CELL,
        help=f"disclosure control: counts are shifted by their cell key and rounded to blocks of this size, 1 to it "
        f"masked (default {DEFAULT_MIN_CELL}; 0 turns it off)",
    )
    common.add_argument("--json", action="store_true", help="print the result as JSON (cli.md)")
    return common


def register(subparsers: argparse._SubParsersAction) -> None:
    analyze = subparsers.add_parser("analyze", help="run an analysis on a loaded database and print JSON")
    inner = analyze.add_subparsers(dest="analysis", metavar="ANALYSIS", required=True)
    common = common_parser()
    for name in ANALYSES:
        importlib.import_module(f"reports.analyze.{name}").register(inner, common)
    for parser in inner.choices.values():
        parser.set_defaults(handler=_one_blas_thread(parser.get_default("handler")))


def _one_blas_thread(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run an analysis with BLAS on one thread, as the dashboard does (``reports.service``).

    The fits multiply tall, narrow matrices, where a second BLAS thread adds only waiting: on a
    quiet 2-core machine a Cox fit of 100,000 patients takes the same time with 0.35 s less CPU,
    and on a busy one a small product waited milliseconds for the second thread to wake.
    """

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        with threadpool_limits(1, user_api="blas"):
            return handler(args)

    return run
