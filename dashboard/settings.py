"""Server settings of the dashboard, declared once as data (``SETTINGS``) and held in ``DashboardSettings``.

The browser user cannot change any of these: small-cell suppression, for example, is fixed when the
server starts (``ayaall serve --min-cell``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

__all__ = ["SETTINGS", "DashboardSettings", "Setting"]


class Setting(NamedTuple):
    name: str
    default: object
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "min_cell",
        11,
        "small-cell suppression threshold: counts of 1 to min_cell - 1 are never sent "
        "to the browser (0 turns suppression off)",
    ),
    Setting("cache_size", 256, "number of analysis results kept in the server's LRU cache"),
    Setting(
        "basic_auth_file",
        None,
        "file of 'user:password-hash' lines (werkzeug.security hashes); "
        "when given, every request needs HTTP basic authentication",
    ),
    Setting(
        "trusted_user_header",
        None,
        "header set by an authenticating reverse proxy (e.g. X-Remote-User); when given, requests without it get 403",
    ),
    Setting("title", "AYA-ALL Outcomes Explorer", "title shown in the navigation bar and the browser tab"),
)


@dataclass(frozen=True)
class DashboardSettings:
    """The server's configuration (see ``SETTINGS`` for what each field means)."""

    min_cell: int = 11
    cache_size: int = 256
    basic_auth_file: Path | None = None
    trusted_user_header: str | None = None
    title: str = "AYA-ALL Outcomes Explorer"

    def __post_init__(self) -> None:
        if self.min_cell < 0:
            raise ValueError(f"min_cell must be 0 or more, not {self.min_cell}")
        if self.cache_size < 1:
            raise ValueError(f"cache_size must be at least 1, not {self.cache_size}")
