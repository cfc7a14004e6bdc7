"""The ``ayaall`` console script (``shared/spec/cli.md``).

Each package owns its subcommands in a ``command.py`` exposing ``register(subparsers)``; the handler
it sets with ``set_defaults(handler=...)`` takes the parsed arguments and returns an exit code. A
``UserError`` becomes one sentence on stderr and exit code 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ayaall import __version__
from ayaall.errors import UserError

__all__ = ["build_parser", "main"]

# Packages whose command.py registers subcommands, in the order they appear in --help.
_COMMAND_MODULES = (
    "synthetic_data.command",
    "etl.command",
    "reports.command",
    "dashboard.command",
    "export.command",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ayaall",
        description="AYA-ALL Outcomes Explorer: load a registry extract, analyse outcomes, serve the dashboard.",
    )
    parser.add_argument("--version", action="version", version=f"ayaall {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:  # a module that cannot be imported is a bug: let it raise
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args) or 0)
    except UserError as exc:
        if args.debug:
            raise
        print(f"ayaall {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ayaall {args.command}: interrupted.", file=sys.stderr)
        return 130
