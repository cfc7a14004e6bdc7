"""The ``ayaall`` console script (``shared/spec/cli.md``).

Each package owns its subcommands in a ``command.py`` exposing ``register(subparsers)``; the handler
it sets with ``set_defaults(handler=...)`` takes the parsed arguments and returns an exit code. A
``UserError`` becomes one sentence on stderr and exit code 2; ``--debug`` shows the traceback.
Ctrl-C, at any point, becomes one sentence and exit code 130.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import NoReturn

from ayaall import __version__
from ayaall.errors import UserError

__all__ = ["build_parser", "main", "run"]

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
    command = "ayaall"
    with _sigint_noted() as noted:
        parser = build_parser()  # imports every subcommand's package: about a second
    try:
        if noted:
            raise KeyboardInterrupt
        args = parser.parse_args(argv)
        command = f"ayaall {args.command}" if args.command else command
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return 2
        try:
            return int(handler(args) or 0)
        except UserError as exc:
            if args.debug:
                raise
            print(f"{command}: {exc}", file=sys.stderr)
            return 2
    except KeyboardInterrupt as exc:
        # A command may say what the interruption left (``ayaall load``: the database as it was).
        print(f"{command}: interrupted{f'; {exc}' if str(exc) else ''}.", file=sys.stderr)
        return 130


def run() -> NoReturn:
    """The console script (and ``python -m ayaall``): ``main``, then exit with its code.

    Ctrl-C after the command has finished (while Python shuts down) is ignored, so the exit code is
    the command's, not that of a process killed by SIGINT.
    """
    code = main()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise SystemExit(code)


@contextlib.contextmanager
def _sigint_noted() -> Iterator[list[int]]:
    """While inside, Ctrl-C is only noted (in the list yielded), not raised.

    Used around the imports: a ``KeyboardInterrupt`` raised inside an import can leave Python
    exiting as if killed by SIGINT even after it was handled, whatever the exit code returned.
    Outside the main thread, or where SIGINT has a handler other than Python's default, nothing
    changes.
    """
    noted: list[int] = []
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield noted
        return
    signal.signal(signal.SIGINT, lambda signum, _frame: noted.append(signum))
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
