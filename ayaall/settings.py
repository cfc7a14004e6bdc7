"""Settings, declared once as data (``SETTINGS``): each has a name, a default, a type and its help text.

``ayaall serve``'s flags are made from ``SETTINGS`` (``--min-cell``, ``--cache-size``, ...), and so is the
``Settings`` object the dashboard runs with; ``DEFAULT_MIN_CELL`` is the disclosure threshold every command
defaults to (``ayaall analyze``, ``ayaall export``, the dashboard). A browser user cannot change any of
them: disclosure control, for example, is fixed when the server starts. A test keeps README and
``dashboard/README.md`` in step with this list.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["DEFAULT_MIN_CELL", "SETTINGS", "Setting", "Settings", "setting"]


class Setting(NamedTuple):
    """One setting: its name (the flag is ``--name`` with dashes), default, type and help."""

    name: str
    default: Any
    type: type
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "min_cell",
        11,
        int,
        "disclosure control: every count sent is rounded to the midpoint of its block of min_cell (1 to "
        "min_cell masked) and times are coarsened to a week (disclosure.policy); 0 sends exact counts and "
        "'ayaall serve' then needs --unsafe-exact-counts",
    ),
    Setting("cache_size", 256, int, "number of analysis results kept in the server's LRU cache"),
    Setting(
        "basic_auth_file",
        None,
        Path,
        "file of 'user:password-hash' lines (werkzeug.security hashes); when given, every request needs "
        "HTTP basic authentication",
    ),
    Setting(
        "trusted_user_header",
        None,
        str,
        "header set by an authenticating reverse proxy (e.g. X-Remote-User); when given, requests without it get 403",
    ),
    Setting("title", "AYA-ALL Outcomes Explorer", str, "title shown in the navigation bar and the browser tab"),
    Setting("threads", 4, int, "request threads of the production server (waitress) that 'ayaall serve' runs"),
    Setting(
        "access_log",
        None,
        Path,
        "file the access log is appended to, one JSON line per request (who, when, page, cohort filters; no "
        "patient data); standard error when not given",
    ),
)


def setting(name: str) -> Setting:
    """The setting called ``name``."""
    for s in SETTINGS:
        if s.name == name:
            return s
    raise KeyError(name)


DEFAULT_MIN_CELL: int = setting("min_cell").default


@dataclass(frozen=True)
class Settings:
    """The server's configuration: one field per entry of ``SETTINGS``, with its default (see there)."""

    min_cell: int = DEFAULT_MIN_CELL
    cache_size: int = setting("cache_size").default
    basic_auth_file: Path | None = setting("basic_auth_file").default
    trusted_user_header: str | None = setting("trusted_user_header").default
    title: str = setting("title").default
    threads: int = setting("threads").default
    access_log: Path | None = setting("access_log").default

    def __post_init__(self) -> None:
        if self.min_cell < 0:
            raise ValueError(f"min_cell must be 0 or more, not {self.min_cell}")
        if self.cache_size < 1:
            raise ValueError(f"cache_size must be at least 1, not {self.cache_size}")


assert [f.name for f in fields(Settings)] == [s.name for s in SETTINGS], "Settings has one field per setting"
