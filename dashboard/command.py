"""``ayaall serve``: the dashboard on a loaded database, read-only (cli.md)."""

from __future__ import annotations

import argparse
import sys

from ayaall.settings import SETTINGS

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="start the dashboard on a loaded database (read-only)",
        description="Start the AYA-ALL Outcomes Explorer dashboard on DB, opened read-only. It binds "
        "127.0.0.1 unless --host says otherwise; see dashboard/README.md before exposing it.",
    )
    parser.add_argument("--db", required=True, help="DuckDB file written by 'ayaall load'")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8050, help="port (default 8050)")

    for item in SETTINGS:  # one flag per setting, with its default and help (ayaall.settings)
        default = f"default {item.default}" if item.default is not None else "off unless given"
        parser.add_argument(item.flag, type=item.type, default=item.default, help=f"{item.help} ({default})")
    parser.add_argument(
        UNSAFE_FLAG,
        action="store_true",
        help="allow --min-cell 0 or 1: exact counts and days go to every browser, from which anyone who can "
        "open the dashboard can learn single patients' data; only inside a secure environment",
    )
    parser.set_defaults(handler=_handle)


#: the flag without which ``serve`` refuses to send exact counts
UNSAFE_FLAG = "--unsafe-exact-counts"


def check_disclosure(min_cell: int, unsafe: bool) -> None:
    """Refuse a server without disclosure control unless ``--unsafe-exact-counts`` says so (a min cell of
    1 rounds to blocks of one patient: exact too)."""
    from ayaall.errors import UserError

    if min_cell < 0:
        raise UserError(f"--min-cell must be 0 or more, not {min_cell}.")
    if min_cell <= 1 and not unsafe:
        raise UserError(
            f"--min-cell {min_cell} sends exact counts and days to every browser, from which single patients "
            f"can be learned; give {UNSAFE_FLAG} as well to serve them (only inside a secure environment)."
        )


def _handle(args: argparse.Namespace) -> int:
    from ayaall.errors import UserError
    from ayaall.settings import Settings
    from dashboard.app import create_app

    check_disclosure(args.min_cell, args.unsafe_exact_counts)
    if args.cache_size < 1:
        raise UserError(f"--cache-size must be at least 1, not {args.cache_size}.")
    settings = Settings(**{item.name: getattr(args, item.name) for item in SETTINGS})
    app = create_app(args.db, settings)
    if args.host not in {"127.0.0.1", "localhost", "::1"} and not (args.basic_auth_file or args.trusted_user_header):
        print(
            f"ayaall serve: warning: listening on {args.host} without --basic-auth-file or "
            "--trusted-user-header; anyone who can reach this port sees the registry's results.",
            file=sys.stderr,
        )
    if args.min_cell <= 1:
        print("ayaall serve: warning: no disclosure control; every browser gets exact counts.", file=sys.stderr)
    print(
        f"AYA-ALL Outcomes Explorer on http://{args.host}:{args.port}/ (database {args.db}, read-only; "
        f"min cell {args.min_cell})",
        file=sys.stderr,
    )
    app.run(host=args.host, port=args.port, debug=False)
    return 0
