"""Small-cell suppression of the treatment pages' results, beyond ``disclosure.suppression``.

The rules are those of ``disclosure.suppression`` (counts 1 to ``min_cell - 1`` masked, complements and
totals protected, curves drawn only where at least ``min_cell`` are at risk); this module applies them
to the results of ``analyses.timing`` (landmark analyses, Simon–Makuch curves) and
``analyses.weighting`` (IPTW-adjusted Kaplan–Meier curves; their counts are
``disclosure.suppression.WeightedCounts``, which ``ayaall analyze iptw`` shows too). Everything returned is
display-ready: curves carry estimates and a censoring flag, never a count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analyses.km import KMResult
from ayaall.units import DAYS_PER_YEAR
from disclosure.display import curve_for_display
from disclosure.suppression import (
    WeightedCounts,
    count_columns,
    is_small,
    landmark_counts,
    mask_count,
    suppress_km,
    suppress_totals,
)

__all__ = [
    "LandmarkTables",
    "landmark_tables",
    "simon_makuch_tables",
    "weighted_km_for_display",
]


# ------------------------------------------------------------------------------ landmark analysis
@dataclass(frozen=True)
class LandmarkTables:
    """Suppressed landmark analyses as numbers (the page formats them, the export writes them).

    Attributes
    ----------
    curve : DataFrame
        landmark_days, group, time_days, survival, ci_lower, ci_upper, censored (a flag).
    tests : DataFrame
        landmark_days, at_risk, exposed, not_exposed (masked: None), statistic, df, p (log-rank), note.
    groups : DataFrame
        landmark_days, group, n, events (masked: None), median_days (NaN: not reached or beyond the curve).
    milestones : DataFrame
        landmark_days, group, time_days (after the landmark), survival, ci_lower, ci_upper (NaN beyond
        the curve).
    """

    curve: pd.DataFrame
    tests: pd.DataFrame
    groups: pd.DataFrame
    milestones: pd.DataFrame


def landmark_tables(lm: Any, n_total: int, exposure: str, min_cell: int) -> LandmarkTables:
    """Suppressed landmark curves, tests and per-group estimates.

    Counts are ``disclosure.suppression.landmark_counts`` (as ``ayaall analyze landmark`` shows them).
    The groups' curves and medians follow ``suppress_km`` (drawn with ``curve_for_display``).
    """
    table = lm.landmarks.reset_index(drop=True)
    marks, group_counts = landmark_counts(lm, n_total, min_cell)
    tests, curves, groups, milestones = [], [], [], []
    for row, counts in zip(table.to_dict("records"), marks.to_dict("records"), strict=True):
        mark = float(row["landmark_days"])
        tests.append(
            {
                "landmark_days": mark,
                "at_risk": counts["at_risk"],
                "exposed": counts["exposed"],
                "not_exposed": counts["unexposed"],
                "statistic": float(row["statistic"]),
                "df": float(row["df"]),
                "p": float(row["p"]),
                "note": row["note"] or "",
            }
        )
        km = _landmark_km(lm, mark, exposure)
        if km is None:
            continue
        shown = curve_for_display(suppress_km(km, min_cell)[0], km)
        by_group = group_counts[group_counts["landmark_days"] == mark].set_index("group")
        names = list(shown.summary["group"])
        curves.append(shown.curve.assign(landmark_days=mark)[["landmark_days", *_CURVE_COLUMNS]])
        groups.append(
            pd.DataFrame(
                {
                    "landmark_days": mark,
                    "group": names,
                    "n": pd.Series([by_group.loc[g, "n"] for g in names], dtype=object),
                    "events": pd.Series([by_group.loc[g, "events"] for g in names], dtype=object),
                    "median_days": pd.to_numeric(shown.summary["median_days"], errors="coerce").to_numpy(dtype=float),
                }
            )
        )
        ms = shown.milestones
        milestones.append(
            ms.assign(landmark_days=mark)[["landmark_days", "group", "time_days", "survival", "ci_lower", "ci_upper"]]
        )
    return LandmarkTables(
        curve=pd.concat(curves, ignore_index=True)
        if curves
        else pd.DataFrame(columns=["landmark_days", *_CURVE_COLUMNS]),
        tests=count_columns(pd.DataFrame(tests, columns=_TEST_COLUMNS), ["at_risk", "exposed", "not_exposed"]),
        groups=count_columns(
            pd.concat(groups, ignore_index=True) if groups else pd.DataFrame(columns=_GROUP_COLUMNS), ["n", "events"]
        ),
        milestones=pd.concat(milestones, ignore_index=True) if milestones else pd.DataFrame(columns=_MILESTONE_COLUMNS),
    )


_CURVE_COLUMNS = ["group", "time_days", "survival", "ci_lower", "ci_upper", "censored"]
_TEST_COLUMNS = ["landmark_days", "at_risk", "exposed", "not_exposed", "statistic", "df", "p", "note"]
_GROUP_COLUMNS = ["landmark_days", "group", "n", "events", "median_days"]
_MILESTONE_COLUMNS = ["landmark_days", "group", "time_days", "survival", "ci_lower", "ci_upper"]
_EMPTY_RMST = pd.DataFrame(columns=["group", "horizon_days", "rmst", "se", "ci_lower", "ci_upper"])
_EMPTY_DIFF = pd.DataFrame(columns=["group", "reference", "diff", "se", "ci_lower", "ci_upper", "p"])


def _landmark_km(lm: Any, mark: float, exposure: str) -> KMResult | None:
    """The Kaplan–Meier fit of one landmark as a ``KMResult`` (so the dashboard's KM suppression applies)."""
    pick = {
        name: frame[frame["landmark_days"] == mark].drop(columns="landmark_days").reset_index(drop=True)
        for name, frame in (("curve", lm.curve), ("summary", lm.summary), ("milestones", lm.milestones))
    }
    if pick["summary"].empty:
        return None
    return KMResult(
        curve=pick["curve"],
        summary=pick["summary"],
        milestones=pick["milestones"],
        rmst=_EMPTY_RMST,
        rmst_diff=_EMPTY_DIFF,
        group_col=exposure,
        conf_level=lm.conf_level,
    )


# ------------------------------------------------------------------------------ Simon-Makuch
def simon_makuch_tables(sm: Any, n_total: int, min_cell: int, notes: list[str]) -> tuple[pd.DataFrame, ...]:
    """Simon–Makuch curves and per-group numbers, suppressed.

    A group's curve is drawn over its first stretch of times with at least ``min_cell`` intervals at
    risk (the exposed group starts small and grows as patients are exposed). When an event happened in
    the group before that stretch, while fewer than ``min_cell`` were at risk, the curve's level would
    reveal it: the group's curve is not drawn. Events add up to the endpoint's total (rules 1–3);
    patients per group follow rule 1, and the unexposed group's patients are masked too when the cohort
    minus them (those exposed from time zero) is a small count.

    Returns
    -------
    curve : DataFrame
        group, time_days, survival, ci_lower, ci_upper (no counts).
    groups : DataFrame
        group, n (patients who contributed time), events (masked: None), median_days (NaN when not
        reached or outside the drawn curve).
    """
    keep = ["group", "time_days", "survival", "ci_lower", "ci_upper"]
    shown, last_shown = [], {}
    floor = max(min_cell, 1)
    for group, curve in sm.curve.groupby("group", sort=True):
        curve = curve.reset_index(drop=True)
        ok = (curve["at_risk"] >= floor).to_numpy()
        if not ok.any():
            notes.append(f"The {group} curve is not drawn: fewer than {floor} patients were ever at risk in it.")
            continue
        start = int(np.argmax(ok))
        stop = start + (int(np.argmin(ok[start:])) if not ok[start:].all() else len(ok) - start)
        if min_cell and int(curve["events"].iloc[:start].sum()) > 0:
            notes.append(
                f"The {group} curve is not drawn: events happened while fewer than {min_cell} patients were at "
                "risk in it, and its level would reveal them."
            )
            continue
        window = curve.iloc[start:stop]
        shown.append(window[keep])
        last_shown[group] = (float(window["time_days"].iloc[0]), float(window["time_days"].iloc[-1]))
    curve = pd.concat(shown, ignore_index=True) if shown else pd.DataFrame(columns=keep)
    summary = sm.summary.copy()
    events, _ = suppress_totals(
        summary["events"],
        min_cell,
        also_mask=[is_small(n - e, min_cell) for n, e in zip(summary["n"], summary["events"], strict=True)],
    )
    patients = [
        None if g == "unexposed" and is_small(n_total - n, min_cell) else mask_count(n, min_cell)
        for g, n in zip(summary["group"], summary["n"], strict=True)
    ]
    medians = []
    for g, m in zip(summary["group"], summary["median_days"], strict=True):
        lo, hi = last_shown.get(g, (np.inf, -np.inf))
        medians.append(float(m) if pd.notna(m) and lo <= m <= hi else np.nan)
    groups = pd.DataFrame(
        {
            "group": summary["group"],
            "n": patients if min_cell else list(summary["n"]),
            "events": events,
            "median_days": medians,
        }
    )
    return curve, count_columns(groups, ["n", "events"])


# ------------------------------------------------------------------------------ IPTW
def weighted_km_for_display(
    km: Any, counts: WeightedCounts, treatment: str, min_cell: int, milestone_years: Sequence[float]
) -> KMResult:
    """The weighted curves as a suppressed ``KMResult``: rows with at least ``min_cell`` (unweighted)
    patients at risk, a censoring flag and no count; medians and milestones beyond a curve masked."""
    floor = max(min_cell, 1)
    curves, milestones, summary = [], [], []
    for g, n_shown, ev_shown in zip(counts.levels, counts.n_shown, counts.events_shown, strict=True):
        full = km.curve[km.curve["group"] == g].reset_index(drop=True)
        shown = full[full["at_risk"] >= floor]
        last = float(shown["time_days"].max()) if len(shown) else -np.inf
        if len(shown) and float(shown["time_days"].iloc[0]) > 0:
            start = {"group": g, "time_days": 0.0, "survival": 1.0, "ci_lower": 1.0, "ci_upper": 1.0, "censored": 0}
            shown = pd.concat([pd.DataFrame([start]), shown], ignore_index=True)
        curves.append(
            pd.DataFrame(
                {
                    "group": g,
                    "time_days": shown["time_days"].astype(float),
                    "at_risk": None,
                    "events": None,
                    "censored": shown["censored"].fillna(0).astype(float) > 0,
                    "survival": shown["survival"].astype(float),
                    "std_err": np.nan,
                    "ci_lower": shown["ci_lower"].astype(float),
                    "ci_upper": shown["ci_upper"].astype(float),
                }
            )
        )
        for years in milestone_years:
            t = years * DAYS_PER_YEAR
            before = full[full["time_days"] <= t]
            row = before.iloc[-1] if len(before) and t <= last else None
            milestones.append(
                {
                    "group": g,
                    "time_days": t,
                    "at_risk": None,
                    "events": None,
                    "survival": np.nan if row is None else float(row["survival"]),
                    "std_err": np.nan,
                    "ci_lower": np.nan if row is None else float(row["ci_lower"]),
                    "ci_upper": np.nan if row is None else float(row["ci_upper"]),
                }
            )
        median = km.summary.loc[km.summary["group"] == g, "median_days"].iloc[0]
        summary.append(
            {
                "group": g,
                "n": n_shown,
                "events": ev_shown,
                "median_days": median if pd.notna(median) and median <= last else None,
                "median_ci_lower": None,
                "median_ci_upper": None,
            }
        )
    return KMResult(
        curve=pd.concat(curves, ignore_index=True),
        summary=pd.DataFrame(summary),
        milestones=pd.DataFrame(milestones),
        rmst=pd.DataFrame(columns=["group", "horizon_days", "rmst", "se", "ci_lower", "ci_upper"]),
        rmst_diff=pd.DataFrame(columns=["group", "reference", "diff", "se", "ci_lower", "ci_upper", "p"]),
        group_col=treatment,
        conf_level=km.conf_level,
    )
