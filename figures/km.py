"""Kaplan–Meier figure in the KMunicate style: curves with confidence bands and censor marks, and a table
under the plot with the number at risk, censored and events in each interval, per group.

The builder is pure: it takes a *released* ``KMResult`` (``disclosure.curves.release_km``) and a
suppressed risk table, so a figure never holds a count the browser may not see.

References
----------
Morris TP, et al. (2019). Proposals on Kaplan–Meier plots in medical research and a survey of
stakeholder views: KMunicate. BMJ Open 9:e030215.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analyses.km import KMResult
from ayaall.units import to_unit, unit_label
from figures.common import SCREEN_STYLE, FigureStyle, add_ci_band, apply_house_style
from figures.palette import group_style, rgba
from reports.formatting import MASKED

__all__ = ["RISK_ROWS", "format_count", "km_figure"]

RISK_ROWS: tuple[tuple[str, str], ...] = (("at_risk", "At risk"), ("censored", "Censored"), ("events", "Events"))


def format_count(value: object) -> str:
    """A released count as text; a masked one is ``reports.formatting.MASKED``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return MASKED
    return f"{int(value):,}"  # type: ignore[call-overload]


def km_figure(
    result: KMResult,
    risk_table: pd.DataFrame | None = None,
    *,
    unit: str = "months",
    title: str | None = None,
    y_title: str = "Survival probability",
    ticks_days: list[float] | None = None,
    show_ci: bool = True,
    style: FigureStyle = SCREEN_STYLE,
) -> go.Figure:
    """Kaplan–Meier curves (KMunicate style) from a suppressed result.

    Parameters
    ----------
    result : KMResult
        Already suppressed: its curve stops where too few remain at risk and its counts may be None.
    risk_table : DataFrame, optional
        group, time_days, at_risk, censored, events (interval counts, None when masked), one row per
        tick time; shown under the plot.
    unit : {"days", "months", "years"}
    ticks_days : list of float, optional
        x ticks in days (default: the risk table's times).
    style : FigureStyle
        Screen (default) or an export preset's print style.
    """
    groups = list(dict.fromkeys(result.curve["group"])) or list(result.summary["group"])
    column = result.group_col
    has_table = risk_table is not None and len(risk_table) > 0
    rows_per_group = len(RISK_ROWS) + (1 if style.is_print else 0)  # print: a heading row per group
    table_rows = len(groups) * rows_per_group if has_table else 0
    s = style.px
    plot_px, row_px = style.panel_px(380), s(17)
    table_px = row_px * table_rows + s(30)
    gap_px = s(40 if style.is_print else 60)  # between the plot and the table (print: no tick labels there)
    fig = make_subplots(
        rows=2 if has_table else 1,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=gap_px / (plot_px + table_px + gap_px),
        row_heights=[plot_px, table_px] if has_table else None,
    )
    for group in groups:
        curve = result.curve[result.curve["group"] == group]
        if curve.empty:
            continue
        _add_group(fig, curve, column, group, unit, show_ci, style)
    if has_table:
        _add_risk_table(fig, risk_table, groups, column, unit, style)
    ticks = ticks_days if ticks_days is not None else (sorted(risk_table["time_days"].unique()) if has_table else None)  # type: ignore[index]
    axis = {"tickvals": [to_unit(t, unit) for t in ticks]} if ticks else {}
    max_x = max(
        (to_unit(float(result.curve["time_days"].max()), unit) if len(result.curve) else 1.0),
        max((to_unit(t, unit) for t in ticks or []), default=0.0),
    )
    pad = 0.07 if style.is_print else 0.04  # room for the risk table's counts centred on t = 0
    fig.update_xaxes(range=[-pad * max_x, 1.04 * max_x], **axis)
    fig.update_xaxes(title_text=unit_label(unit), row=2 if has_table else 1, col=1, showticklabels=True)
    fig.update_yaxes(title_text=y_title, range=[0, 1.02], tickformat=".0%", row=1, col=1)
    height = plot_px + (table_px + gap_px if has_table else 0) + s(110)
    labels = [str(g) for g in groups] + ["Censored"] if has_table else ["100%"]
    label_px = 0.58 * style.small_font_px * max(len(t) for t in labels) + s(60)  # row labels, axis title
    apply_house_style(
        fig,
        title=title,
        height=height,
        style=style,
        plot_width_px=(style.width_px or 0) - label_px if style.is_print else None,
        legend_rows=True,  # on screen too the legend has rows of its own under the title
    )
    # Screen: room for the risk table's row labels; print: the axes' automargin makes the room it needs.
    fig.update_layout(margin={"l": s(190 if has_table and not style.is_print else 70)})
    return fig


def _add_group(
    fig: go.Figure,
    curve: pd.DataFrame,
    column: str | None,
    group: str,
    unit: str,
    show_ci: bool,
    fig_style: FigureStyle,
) -> None:
    style = group_style(column, group, grayscale=fig_style.grayscale)
    x = to_unit(curve["time_days"].astype(float), unit)
    name = str(group)
    if show_ci:
        upper = curve["ci_upper"].astype(float).where(curve["survival"] < 1, 1.0)
        lower = curve["ci_lower"].astype(float).where(curve["survival"] < 1, 1.0)
        add_ci_band(
            fig,
            x,
            lower,
            upper,
            rgba(style.color, fig_style.band_alpha),
            cell=(1, 1),
            legendgroup=name,
            name=f"{name} 95% CI",
        )
    hover = _hover_text(name, unit, x, curve)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=curve["survival"].astype(float),
            mode="lines",
            name=name,
            legendgroup=name,
            line={"color": style.color, "dash": style.dash, "shape": "hv", "width": fig_style.line_px},
            hovertext=hover,
            hoverinfo="text",
        ),
        row=1,
        col=1,
    )
    censored = _censor_flags(curve["censored"])
    censored[0] = False  # the time-0 row
    if censored.any():
        fig.add_trace(
            go.Scatter(
                x=x[censored],
                y=curve["survival"][censored].astype(float),
                mode="markers",
                marker={
                    "symbol": "line-ns-open",
                    "size": fig_style.censor_mark_px,
                    "color": style.color,
                    **({"line": {"width": fig_style.thin_line_px}} if fig_style.is_print else {}),
                },
                name=f"{name} censored",
                legendgroup=name,
                showlegend=False,
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )


def _hover_text(name: str, unit: str, x: pd.Series, curve: pd.DataFrame) -> np.ndarray:
    """Each curve row's hover text, "group<br>t unit: S (lower–upper)" (no interval where it is missing).

    Built from plain floats and handed to plotly as a numpy string array: plotly checks a list of
    strings one element at a time, an array in one copy (the figure's JSON is the same)."""
    lower, upper = curve["ci_lower"].to_numpy(dtype=float), curve["ci_upper"].to_numpy(dtype=float)
    has_ci = ~(np.isnan(lower) | np.isnan(upper))
    columns = (
        np.asarray(x, dtype=float).tolist(),
        curve["survival"].to_numpy(dtype=float).tolist(),
        lower.tolist(),
        upper.tolist(),
        has_ci.tolist(),
    )
    text = [
        f"{name}<br>{t:.1f} {unit}: {s:.1%}" + (f" ({lo:.1%}–{hi:.1%})" if ci else "")
        for t, s, lo, hi, ci in zip(*columns, strict=True)
    ]
    return np.array(text, dtype=str)


def _censor_flags(values: pd.Series) -> np.ndarray:
    """Where a censor mark is drawn: a true flag, a positive censored count, or a masked count (None)."""
    if values.dtype == bool:
        return values.to_numpy(dtype=bool, copy=True)
    if values.dtype != object:
        return values.to_numpy(dtype=float, na_value=np.nan) > 0  # NaN (a missing count) compares False
    return np.array([v is None or bool(pd.notna(v) and v > 0) for v in values], dtype=bool)


def _add_risk_table(
    fig: go.Figure,
    table: pd.DataFrame,
    groups: list[str],
    column: str | None,
    unit: str,
    fig_style: FigureStyle,
) -> None:
    """Rows "group · At risk", "group · Censored", "group · Events" under the plot. In print the group's
    name is a heading row above its three rows instead, which keeps the row labels (and so the left
    margin) short at a narrow width."""
    labels: list[str] = []
    texts: list[str] = []
    for group in groups:
        rows = table[table["group"] == group]
        style = group_style(column, group, grayscale=fig_style.grayscale)
        if fig_style.is_print:
            labels.append(str(group))
            texts.append(f'<span style="color:{style.color}"><b>{group}</b></span>')
            fig.add_trace(  # an empty cell, so the heading row exists on the category axis
                go.Scatter(x=[0.0], y=[str(group)], mode="text", text=[""], showlegend=False, hoverinfo="skip"),
                row=2,
                col=1,
            )
        for key, title in RISK_ROWS:
            label = f"{group} · {title}"
            labels.append(label)
            texts.append(title if fig_style.is_print else label)
            fig.add_trace(
                go.Scatter(
                    x=to_unit(rows["time_days"].astype(float), unit),
                    y=[label] * len(rows),
                    mode="text",
                    text=[format_count(v) for v in rows[key]],
                    textfont={"color": style.color, "size": fig_style.small_font_px},
                    showlegend=False,
                    hoverinfo="skip",
                    meta="risk-table",
                    name=f"{group} {title}",
                ),
                row=2,
                col=1,
            )
    fig.update_yaxes(
        categoryorder="array",
        categoryarray=labels[::-1],
        showgrid=False,
        showline=False,
        ticks="",
        row=2,
        col=1,
        tickfont={"size": fig_style.small_font_px},
        tickmode="array",
        tickvals=labels,
        range=[-0.6, len(labels) - 0.4],
        **({"ticktext": texts, "ticklabelstandoff": round(fig_style.px(6))} if fig_style.is_print else {}),
    )
    fig.update_xaxes(showline=False, row=2, col=1)
