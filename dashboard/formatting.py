"""Number formats shared by the pages, the views and the exports (no Dash import, so the command line
can use them without loading the web framework)."""

from __future__ import annotations

import math

__all__ = ["MASKED", "format_p"]

MASKED = "—"


def format_p(p: float | None) -> str:
    """A p-value as shown: ``< 0.001`` or three decimals; ``—`` when there is none."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return MASKED
    return "< 0.001" if p < 0.001 else f"{p:.3f}"
