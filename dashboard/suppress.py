"""Server-side suppression helpers the dashboard needs beyond ``analyses.suppression``.

``analyses.suppression`` covers Kaplan–Meier and Cox results; the KMunicate risk table (censored per
interval), cumulative incidence curves and simple counts tables are masked here with the same rules,
before anything is handed to a figure builder or a callback's output.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
import pandas as pd

from analyses.km import KMResult
from analyses.suppression import _group_counts, _thin_at_risk, mask_count, suppress_totals

__all__ = ["curve_for_display", "km_risk_table", "mask_counts", "suppress_cif", "suppress_km_for_display"]


def km_risk_table(full: KMResult, shown: KMResult, min_cell: int) -> pd.DataFrame:
    """KMunicate table: at risk at each milestone time, censored and events since the previous one.

    ``full`` is a fit whose milestones are the table's times and ``shown`` its ``suppress_km`` copy.
    The table is thinned on its own (rule 4 over the milestone at-risk numbers), which is safe because
    the dashboard never shows the curve's per-row counts (see ``curve_for_display``). Times after a
    group's last shown curve time are dropped; interval counts follow rule 1 and are masked entirely
    when the group's size or events are masked.
    """
    rows = []
    for group, n_shown, events_shown in zip(
        shown.summary["group"], shown.summary["n"], shown.summary["events"], strict=True
    ):
        ms = full.milestones[full.milestones["group"] == group].reset_index(drop=True)
        curve = full.curve[full.curve["group"] == group]
        shown_curve = shown.curve[shown.curve["group"] == group]
        last = float(shown_curve["time_days"].max()) if len(shown_curve) else -np.inf
        n_true = int(full.summary.loc[full.summary["group"] == group, "n"].iloc[0])
        hidden_n = n_true if n_shown is None else None
        at_risk = _thin_at_risk(ms["at_risk"], min_cell, hidden_n) if min_cell > 0 else list(ms["at_risk"])
        previous = -np.inf
        for i, m in ms.iterrows():
            t = float(m["time_days"])
            if t > last:
                break
            in_interval = (curve["time_days"] > previous) & (curve["time_days"] <= t)
            censored = int(curve.loc[in_interval, "censored"].sum())
            rows.append(
                {
                    "group": group,
                    "time_days": t,
                    "at_risk": at_risk[int(i)],  # type: ignore[call-overload]
                    "censored": None if hidden_n is not None else mask_count(censored, min_cell),
                    "events": None
                    if hidden_n is not None or events_shown is None
                    else mask_count(m["events"], min_cell),
                }
            )
            previous = t
    return pd.DataFrame(rows, columns=["group", "time_days", "at_risk", "censored", "events"])


def curve_for_display(shown: KMResult) -> KMResult:
    """The suppressed result with per-row counts removed from the curve: only a censoring flag is kept."""
    curve = shown.curve.copy()
    curve["censored"] = [bool(v is None or (pd.notna(v) and v > 0)) for v in curve["censored"]]
    curve["at_risk"] = None
    curve["events"] = None
    return dataclasses.replace(shown, curve=curve)


def mask_counts(frame: pd.DataFrame, columns: Iterable[str], min_cell: int, *, totals: bool = True) -> pd.DataFrame:
    """A copy with each count column masked (rule 1, and rule 3 across rows when ``totals``)."""
    out = frame.copy()
    for col in columns:
        if min_cell <= 0:
            out[col] = out[col].astype(object)
            continue
        if totals:
            masked, _ = suppress_totals(out[col].fillna(0), min_cell)
        else:
            masked = [mask_count(v, min_cell) for v in out[col]]
        out[col] = pd.Series(masked, index=out.index, dtype=object)
    return out


def suppress_cif(curve: pd.DataFrame, summary: pd.DataFrame, min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cumulative incidence curves and summary for display.

    Each group's curve stops at the last time with at least ``min_cell`` at risk and keeps only times and
    estimates (no per-row counts); the summary's counts are masked as totals (rules 1 and 3).
    """
    keep = [
        "group",
        "time_days",
        "cif_event",
        "ci_lower_event",
        "ci_upper_event",
        "cif_competing",
        "ci_lower_competing",
        "ci_upper_competing",
    ]
    shown = curve[curve["at_risk"] >= max(min_cell, 1)][keep].reset_index(drop=True)
    summary = summary[["group", "n", "events"]]
    if min_cell > 0:
        summary, _, _ = _group_counts(summary, min_cell)  # rules 1-3, as for Kaplan-Meier
    return shown, summary


def suppress_km_for_display(result: KMResult, min_cell: int) -> KMResult:
    """What the dashboard shows of a Kaplan–Meier fit: ``suppress_km``'s rules for what is displayed.

    The dashboard shows no per-row counts (only a censoring flag), so the expensive per-row protection
    of ``analyses.suppression.suppress_km`` is not needed: group counts follow rules 1–3, each curve stops
    at the last time with at least ``min_cell`` at risk (rule 4), medians and milestone estimates beyond
    it are masked (rules 5–6), and every per-row and per-milestone count is removed.
    """
    if min_cell <= 0:
        return curve_for_display(result)
    summary, _, _ = _group_counts(result.summary, min_cell)
    curve = result.curve[result.curve["at_risk"].astype(float) >= min_cell].copy()
    last = curve.groupby("group")["time_days"].max().to_dict()
    summary = summary.copy()
    for col in ("median_days", "median_ci_lower", "median_ci_upper"):
        summary[col] = [
            None if pd.isna(v) or v > last.get(g, -np.inf) else v
            for g, v in zip(summary["group"], summary[col], strict=True)
        ]
    milestones = result.milestones.copy()
    beyond = milestones["time_days"] > milestones["group"].map(last).fillna(-np.inf)
    milestones.loc[beyond, ["survival", "std_err", "ci_lower", "ci_upper"]] = np.nan
    milestones["at_risk"] = None
    milestones["events"] = None
    shown = dataclasses.replace(result, curve=curve.reset_index(drop=True), summary=summary, milestones=milestones)
    return curve_for_display(shown)
