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
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from ayaall.errors import UserError
    from ayaall.settings import Settings
    from dashboard.app import create_app

    if args.min_cell < 0:
        raise UserError(f"--min-cell must be 0 or more, not {args.min_cell}.")
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
    print(
        f"AYA-ALL Outcomes Explorer on http://{args.host}:{args.port}/ (database {args.db}, read-only; "
        f"min cell {args.min_cell})",
        file=sys.stderr,
    )
    app.run(host=args.host, port=args.port, debug=False)
    return 0
