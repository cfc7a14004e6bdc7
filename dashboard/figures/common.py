"""Shared pieces of the figure builders: time units, ticks and the house layout."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from ayaall.endpoints import DAYS_PER_MONTH, DAYS_PER_YEAR

__all__ = ["TIME_UNITS", "apply_house_style", "nice_ticks_days", "to_unit", "unit_label"]

TIME_UNITS: dict[str, float] = {"days": 1.0, "months": DAYS_PER_MONTH, "years": DAYS_PER_YEAR}
_FONT = "Arial, Helvetica, sans-serif"


def to_unit(days, unit: str):
    """Days (scalar, array or Series) in ``unit`` (days, months or years)."""
    return days / TIME_UNITS[unit]


def unit_label(unit: str) -> str:
    return {"days": "Days", "months": "Months", "years": "Years"}[unit]


def nice_ticks_days(max_days: float, unit: str, target: int = 6) -> list[float]:
    """Tick times in days, evenly spaced in ``unit`` at a round step (years: 1, 2, 5...; months: 6, 12...)."""
    span = max(float(max_days), 1.0) / TIME_UNITS[unit]
    steps = {"years": (0.5, 1, 2, 5, 10), "months": (3, 6, 12, 24, 60), "days": (30, 90, 180, 365, 730, 1825)}[unit]
    step = next((s for s in steps if span / s <= target), steps[-1])
    count = math.floor(span / step + 1e-9)
    return [i * step * TIME_UNITS[unit] for i in range(count + 1)]


def apply_house_style(fig: go.Figure, *, title: str | None = None, height: int = 520) -> go.Figure:
    fig.update_layout(
        template="simple_white",
        font={"family": _FONT, "size": 13},
        title={"text": title, "x": 0.0, "xanchor": "left"} if title else None,
        height=height,
        margin={"l": 70, "r": 20, "t": 60 if title else 20, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hovermode="closest",
    )
    return fig
