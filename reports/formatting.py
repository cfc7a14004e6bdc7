"""How numbers are shown, in one place for the pages, the reports, the figures and the exports: p-values,
masked counts, medians in days, percentages with intervals, hazard ratios, milestone columns."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ayaall.units import DAYS_PER_YEAR, to_unit

__all__ = [
    "MASKED",
    "NOT_REACHED",
    "format_days",
    "format_p",
    "format_time",
    "hr_label",
    "milestone_columns",
    "percent_with_ci",
]

#: how a masked count is shown in every table, figure and export
MASKED = "—"
#: a median that is not reached
NOT_REACHED = "NR"


def format_p(p: float | None) -> str:
    """A p-value as shown: ``< 0.001`` or three decimals; ``—`` when there is none."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return MASKED
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or bool(pd.isna(value))


def format_days(days: Any) -> str:
    """A median in whole days, ``NR`` when not reached (or masked)."""
    return NOT_REACHED if _missing(days) else f"{float(days):,.0f}"


def format_time(days: Any, unit: str) -> str:
    """A median (or any time) given in days, shown in ``unit``: whole days, else one decimal of months or
    years; ``NR`` when not reached (or masked)."""
    if unit == "days" or _missing(days):
        return format_days(days)
    return f"{float(to_unit(float(days), unit)):.1f}"


def percent_with_ci(estimate: Any, lower: Any, upper: Any) -> str:
    """``"45.2% (40.1–50.3%)"``; ``–`` when the estimate is missing or masked."""
    if _missing(estimate):
        return "–"
    ci = "" if _missing(lower) or _missing(upper) else f" ({float(lower):.1%}–{float(upper):.1%})"
    return f"{float(estimate):.1%}{ci}"


def hr_label(hr: Any, lower: Any, upper: Any) -> str:
    """``"0.82 (0.61–1.10)"``."""
    return f"{float(hr):.2f} ({float(lower):.2f}–{float(upper):.2f})"


def milestone_columns(
    milestones: pd.DataFrame, suffix: str = "", columns: tuple[str, str, str] = ("survival", "ci_lower", "ci_upper")
) -> dict[str, str]:
    """One ``"<t>-year"`` column per milestone row (time_days and the estimate, lower and upper ``columns``,
    e.g. ``("cif_event", "ci_lower_event", "ci_upper_event")``) of one group."""
    estimate, lower, upper = columns
    out = {}
    for _, m in milestones.iterrows():
        years = float(m["time_days"]) / DAYS_PER_YEAR
        name = f"{years:g}-year" + (f" {suffix}" if suffix else "")
        out[name] = percent_with_ci(m[estimate], m[lower], m[upper])
    return out
