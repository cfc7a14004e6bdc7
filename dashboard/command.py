"""``ayaall serve``: the dashboard on a loaded database, read-only (cli.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    parser.add_argument(
        "--min-cell",
        type=int,
        default=11,
        help="small-cell suppression: counts of 1 to N-1 are never sent to the browser "
        "(default 11; 0 turns it off). Browser users cannot change it.",
    )
    parser.add_argument(
        "--basic-auth-file",
        type=Path,
        help="require HTTP basic authentication; file of 'user:password-hash' lines "
        "(hashes from werkzeug.security.generate_password_hash)",
    )
    parser.add_argument(
        "--trusted-user-header",
        metavar="HEADER",
        help="answer only requests carrying HEADER (e.g. X-Remote-User) set by an authenticating "
        "reverse proxy; others get 403",
    )
    parser.add_argument("--cache-size", type=int, default=256, help="results kept in the server's LRU cache")
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    from ayaall.errors import UserError
    from dashboard.app import create_app
    from dashboard.settings import DashboardSettings

    if args.min_cell < 0:
        raise UserError(f"--min-cell must be 0 or more, not {args.min_cell}.")
    if args.cache_size < 1:
        raise UserError(f"--cache-size must be at least 1, not {args.cache_size}.")
    settings = DashboardSettings(
        min_cell=args.min_cell,
        cache_size=args.cache_size,
        basic_auth_file=args.basic_auth_file,
        trusted_user_header=args.trusted_user_header,
    )
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
