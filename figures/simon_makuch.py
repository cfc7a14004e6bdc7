"""Simon–Makuch curves: survival by a time-varying exposure (patients move from unexposed to exposed)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ayaall.units import to_unit, unit_label
from figures.common import SCREEN_STYLE, FigureStyle, add_ci_band, apply_house_style
from figures.palette import GroupStyle, group_style, rgba
from figures.titles import title_above_legend

__all__ = ["exposure_style", "simon_makuch_figure"]

# An exposed patient is a "True" of the exposure's yes/no column (hct, car_t): same colour on every page.
_AS_FLAG = {"exposed": "True", "unexposed": "False"}
_SCREEN_HEIGHT = 520


def exposure_style(exposure: str, group: str, *, grayscale: bool = False) -> GroupStyle:
    """The palette style of group ``exposed``/``unexposed`` of ``exposure`` (that of its True/False level)."""
    return group_style(exposure, _AS_FLAG.get(str(group), str(group)), grayscale=grayscale)


def simon_makuch_figure(
    curve: pd.DataFrame,
    *,
    unit: str = "months",
    title: str | None = None,
    exposure: str = "exposure",
    y_title: str = "Survival probability",
    style: FigureStyle = SCREEN_STYLE,
) -> go.Figure:
    """``curve`` has group, time_days, survival and optionally ci_lower, ci_upper (suppressed, no counts).

    A group's curve may start after time 0 (the exposed group is drawn from when enough patients have
    been exposed); each is drawn as a step function with its confidence band. ``style``: screen
    (default) or an export preset's print style.
    """
    fig = go.Figure()
    for group in dict.fromkeys(curve["group"]):
        g = curve[curve["group"] == group]
        gstyle = exposure_style(exposure, str(group), grayscale=style.grayscale)
        x = to_unit(g["time_days"].astype(float), unit)
        if {"ci_lower", "ci_upper"} <= set(g.columns):
            upper = g["ci_upper"].astype(float).where(g["survival"] < 1, 1.0)
            lower = g["ci_lower"].astype(float).where(g["survival"] < 1, 1.0)
            add_ci_band(fig, x, lower, upper, rgba(gstyle.color, style.band_alpha))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=g["survival"],
                mode="lines",
                name=str(group),
                line={"color": gstyle.color, "dash": gstyle.dash, "shape": "hv", "width": style.line_px},
                hovertemplate=f"{group}<br>%{{x:.1f}} {unit}: %{{y:.1%}}<extra></extra>",
            )
        )
    fig.update_xaxes(title_text=unit_label(unit), rangemode="tozero")
    fig.update_yaxes(title_text=y_title, tickformat=".0%", range=[0, 1.02])
    height = style.panel_px(_SCREEN_HEIGHT - 110) + style.px(110) if style.is_print else _SCREEN_HEIGHT
    return title_above_legend(apply_house_style(fig, title=title, height=height, style=style), style=style)
