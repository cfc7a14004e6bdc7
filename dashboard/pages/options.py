"""Reading a page's options from the URL query: a value that is not offered falls back to the default."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

__all__ = ["read_option"]


def read_option(
    query: Mapping[str, list[str]],
    name: str,
    default: Any,
    allowed: Collection[Any] | None = None,
    *,
    multi: bool = False,
) -> Any:
    raw = query.get(name)
    if not raw:
        return default
    if multi:
        values = [v for v in raw if allowed is None or v in allowed]
        return values
    value = raw[0]
    if allowed is not None and value not in allowed:
        return default
    return value
