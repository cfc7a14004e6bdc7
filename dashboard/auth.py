"""Optional access control for deployments: HTTP basic authentication from a file of
``user:password-hash`` lines (``werkzeug.security.generate_password_hash``), or a header set by an
authenticating reverse proxy (requests without it get 403). Both are Flask ``before_request`` hooks on
the app's server; with neither, the server should only listen on 127.0.0.1 (the default)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, request
from werkzeug.security import check_password_hash

from ayaall.errors import UserError
from ayaall.settings import Settings

__all__ = ["install", "read_password_file"]


def read_password_file(path: Path) -> dict[str, str]:
    """``{user: hash}`` from a file of ``user:hash`` lines (blank lines and ``#`` comments ignored)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserError(f"the basic-auth file {path} cannot be read ({exc.strerror}).") from exc
    users: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        if not sep or not user or not hashed:
            raise UserError(f"{path} line {number} is not 'user:password-hash'.")
        users[user] = hashed
    if not users:
        raise UserError(f"the basic-auth file {path} lists no users.")
    return users


def install(server: Flask, settings: Settings) -> None:
    """Add the configured checks to ``server`` (no-op when neither option is set)."""
    if settings.basic_auth_file is not None:
        users = read_password_file(settings.basic_auth_file)

        @server.before_request
        def _basic_auth() -> Response | None:
            auth = request.authorization
            if (
                auth is not None
                and auth.username in users
                and check_password_hash(users[auth.username], auth.password or "")
            ):
                return None
            return Response(
                "Authentication required.",
                401,
                {"WWW-Authenticate": 'Basic realm="AYA-ALL Outcomes Explorer", charset="UTF-8"'},
            )

    if settings.trusted_user_header:
        header = settings.trusted_user_header

        @server.before_request
        def _trusted_header() -> Response | None:
            if request.headers.get(header, "").strip():
                return None
            return Response(
                f"Forbidden: this server only answers requests that carry the {header} header "
                "set by its authenticating proxy.",
                403,
            )
