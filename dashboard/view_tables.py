"""Formatting shared by the view functions' display tables: days, percentages with intervals, hazard ratios."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ayaall.endpoints import DAYS_PER_YEAR

__all__ = ["NOT_REACHED", "count_columns", "format_days", "hr_label", "milestone_columns", "percent_with_ci"]

NOT_REACHED = "NR"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or bool(pd.isna(value))


def count_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with each count column as Python ints, a masked count as None (not NaN, not a float)."""
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            out[col] = pd.Series([None if _missing(v) else int(v) for v in out[col]], index=out.index, dtype=object)
    return out


def format_days(days: Any) -> str:
    """A median in whole days, ``NR`` when not reached (or masked)."""
    return NOT_REACHED if _missing(days) else f"{float(days):,.0f}"


def percent_with_ci(estimate: Any, lower: Any, upper: Any) -> str:
    """``"45.2% (40.1–50.3%)"``; ``–`` when the estimate is missing or masked."""
    if _missing(estimate):
        return "–"
    ci = "" if _missing(lower) or _missing(upper) else f" ({float(lower):.1%}–{float(upper):.1%})"
    return f"{float(estimate):.1%}{ci}"


def hr_label(hr: Any, lower: Any, upper: Any) -> str:
    """``"0.82 (0.61–1.10)"``."""
    return f"{float(hr):.2f} ({float(lower):.2f}–{float(upper):.2f})"


def milestone_columns(milestones: pd.DataFrame, suffix: str = "") -> dict[str, str]:
    """One ``"<t>-year"`` column per milestone row (time_days, survival, ci_lower, ci_upper) of one group."""
    out = {}
    for _, m in milestones.iterrows():
        years = float(m["time_days"]) / DAYS_PER_YEAR
        name = f"{years:g}-year" + (f" {suffix}" if suffix else "")
        out[name] = percent_with_ci(m["survival"], m["ci_lower"], m["ci_upper"])
    return out
