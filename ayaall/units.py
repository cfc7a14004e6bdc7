"""Time units, declared once: days are stored; months and years are what pages, figures and exports show.

Every time in the database and in an analysis is in days (endpoints.md). A display in months divides by
30.4375 (365.25 / 12) and in years by 365.25, as endpoints.md states; ticks are round steps of the unit.
"""

from __future__ import annotations

import math

__all__ = [
    "DAYS_PER_MONTH",
    "DAYS_PER_YEAR",
    "TIME_UNITS",
    "nice_ticks_days",
    "to_unit",
    "unit_label",
]

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
#: unit -> days per unit
TIME_UNITS: dict[str, float] = {"days": 1.0, "months": DAYS_PER_MONTH, "years": DAYS_PER_YEAR}


def to_unit(days, unit: str):
    """Days (scalar, array or Series) in ``unit`` (days, months or years)."""
    return days / TIME_UNITS[unit]


def unit_label(unit: str) -> str:
    """The axis title of a unit: ``Days``, ``Months``, ``Years``."""
    return {"days": "Days", "months": "Months", "years": "Years"}[unit]


def nice_ticks_days(max_days: float, unit: str, target: int = 6) -> list[float]:
    """Tick times in days, evenly spaced in ``unit`` at a round step (years: 1, 2, 3, 5...; months: 6, 12,
    24, 36...), the smallest giving at most ``target`` intervals."""
    span = max(float(max_days), 1.0) / TIME_UNITS[unit]
    steps = {
        "years": (0.5, 1, 2, 3, 5, 10),
        "months": (3, 6, 12, 24, 36, 48, 60, 120),
        "days": (30, 90, 180, 365, 730, 1095, 1825),
    }[unit]
    step = next((s for s in steps if span / s <= target), steps[-1])
    count = math.floor(span / step + 1e-9)
    return [i * step * TIME_UNITS[unit] for i in range(count + 1)]
