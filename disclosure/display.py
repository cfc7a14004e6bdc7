"""Server-side suppression helpers the dashboard needs beyond ``disclosure.suppression``.

``disclosure.suppression`` covers Kaplan–Meier (``suppress_km``, ``km_risk_table``) and Cox results; what
a figure draws of a suppressed curve, cumulative incidence curves and simple counts tables are prepared
here with the same rules, before anything is handed to a figure builder or a callback's output.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np
import pandas as pd

from analyses.km import KMResult
from disclosure.suppression import mask_count, suppress_group_counts, suppress_totals

__all__ = ["curve_for_display", "mask_counts", "suppress_cif"]


def curve_for_display(shown: KMResult, full: KMResult | None = None) -> KMResult:
    """The suppressed result with per-row counts removed from the curve: only a censoring flag is kept.

    ``shown`` is ``suppress_km``'s copy of ``full``. The flag (some censoring at that time) comes from
    ``full`` when given: a masked count means "small, or hidden so others cannot be worked out", not
    "some", so without ``full`` every masked count is drawn as a censoring. ``shown``'s curve keeps a
    prefix of each group's rows of ``full`` (rule 4), which is how the rows are matched.
    """
    curve = shown.curve.copy()
    if full is None:
        curve["censored"] = [bool(v is None or (pd.notna(v) and v > 0)) for v in curve["censored"]]
    else:
        curve["censored"] = _censoring_flags(curve["group"].to_numpy(), full.curve)
    curve["at_risk"] = None
    curve["events"] = None
    return dataclasses.replace(shown, curve=curve)


def _censoring_flags(groups: np.ndarray, full: pd.DataFrame) -> np.ndarray:
    """Whether ``full`` has censorings at each row of a curve whose rows are, per group, the first rows of
    that group in ``full``: the i-th row of a group is matched with the group's i-th row of ``full`` (a
    row without a match is flagged)."""
    flags = np.ones(len(groups), dtype=bool)
    full_groups, censored = full["group"].to_numpy(), full["censored"].to_numpy() > 0
    for group in pd.unique(groups):
        mine, theirs = np.flatnonzero(groups == group), np.flatnonzero(full_groups == group)
        matched = min(len(mine), len(theirs))
        flags[mine[:matched]] = censored[theirs[:matched]]
    return flags


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
        summary, _, _ = suppress_group_counts(summary, min_cell)  # rules 1-3, as for Kaplan-Meier
    return shown, summary
