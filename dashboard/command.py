"""``ayaall serve``: the dashboard on a loaded database, read-only (cli.md)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

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


def access_handler(settings: Any) -> logging.Handler:
    """Where the access log goes: ``--access-log`` (appended) or standard error; one sentence if the file
    cannot be opened."""
    from ayaall.errors import UserError

    if settings.access_log is None:
        return logging.StreamHandler(sys.stderr)
    try:
        return logging.FileHandler(settings.access_log, mode="a", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"--access-log {settings.access_log} cannot be opened for writing ({exc.strerror}).") from exc


def serve_app(app: Any, host: str, port: int, settings: Any) -> None:
    """Serve ``app`` through waitress, a production WSGI server: ``settings.threads`` request threads,
    requests over ``dashboard.guard.MAX_BODY_BYTES`` refused, idle connections closed after 120 s,
    and the access log (``dashboard.audit``) written as requests are answered."""
    import waitress

    from dashboard.audit import ACCESS_LOGGER
    from dashboard.guard import MAX_BODY_BYTES

    logger = logging.getLogger(ACCESS_LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = access_handler(settings)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    try:
        server = waitress.create_server(
            app.server,
            host=host,
            port=port,
            threads=settings.threads,
            max_request_body_size=MAX_BODY_BYTES,
            channel_timeout=120,
            ident="ayaall",
        )
    except OSError as exc:
        from ayaall.errors import UserError

        logger.removeHandler(handler)
        handler.close()
        raise UserError(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port or stop what uses it."
        ) from exc
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        logger.removeHandler(handler)
        handler.close()


def _handle(args: argparse.Namespace) -> int:
    from ayaall.errors import UserError
    from ayaall.settings import Settings
    from dashboard.app import create_app

    check_disclosure(args.min_cell, args.unsafe_exact_counts)
    if args.cache_size < 1:
        raise UserError(f"--cache-size must be at least 1, not {args.cache_size}.")
    if args.threads < 1:
        raise UserError(f"--threads must be at least 1, not {args.threads}.")
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
        f"min cell {args.min_cell}; waitress, {settings.threads} threads)",
        file=sys.stderr,
    )
    serve_app(app, args.host, args.port, settings)
    return 0
