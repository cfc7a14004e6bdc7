"""Released treatment-timing results: landmark analyses and Simon–Makuch curves.

Both are estimated again from rounded counts on the time grid, as every curve is (``disclosure.curves``):
the inputs are the analyses fitted on grid-coarsened times (event, censoring and exposure days rounded up
to the grid, landmark days moved onto it: ``ReleasePolicy.snap_landmark``), so who is at risk, exposed or
not at a landmark depends on times only through their grid values. Counts (at risk, exposed, not exposed,
each group's patients and events) are released by ``disclosure.counts``; tests and medians come from the
exact fits (medians on the grid).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analyses.km import KMResult
from disclosure.counts import count_columns, landmark_counts
from disclosure.curves import release_km, release_product_limit
from disclosure.policy import ReleasePolicy

__all__ = ["LandmarkTables", "release_landmarks", "release_simon_makuch"]

_CURVE_COLUMNS = ["group", "time_days", "survival", "ci_lower", "ci_upper", "censored"]
_TEST_COLUMNS = ["landmark_days", "at_risk", "exposed", "not_exposed", "statistic", "df", "p", "note"]
_GROUP_COLUMNS = ["landmark_days", "group", "n", "events", "median_days"]
_MILESTONE_COLUMNS = ["landmark_days", "group", "time_days", "survival", "ci_lower", "ci_upper"]
_EMPTY_RMST = pd.DataFrame(columns=["group", "horizon_days", "rmst", "se", "ci_lower", "ci_upper"])
_EMPTY_DIFF = pd.DataFrame(columns=["group", "reference", "diff", "se", "ci_lower", "ci_upper", "p"])


@dataclass(frozen=True)
class LandmarkTables:
    """Released landmark analyses as numbers (the page formats them, the export writes them).

    Attributes
    ----------
    curve : DataFrame
        landmark_days, group, time_days, survival, ci_lower, ci_upper, censored (a flag).
    tests : DataFrame
        landmark_days, at_risk, exposed, not_exposed (released), statistic, df, p (log-rank), note.
    groups : DataFrame
        landmark_days, group, n, events (released), median_days (on the grid; NaN beyond the curve).
    milestones : DataFrame
        landmark_days, group, time_days (after the landmark), survival, ci_lower, ci_upper.
    """

    curve: pd.DataFrame
    tests: pd.DataFrame
    groups: pd.DataFrame
    milestones: pd.DataFrame


def release_landmarks(
    coarse: Any, exact: Any, exposure: str, policy: ReleasePolicy, milestone_days: list[float]
) -> LandmarkTables:
    """Released landmark curves, tests and per-group estimates from ``analyses.landmark.fit_landmark`` on
    grid-coarsened (``coarse``) and exact (``exact``) times, at the same (grid) landmarks."""
    marks, group_counts = landmark_counts(coarse, policy)
    tests, curves, groups, milestones = [], [], [], []
    for row, counts in zip(exact.landmarks.to_dict("records"), marks.to_dict("records"), strict=True):
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
        km_coarse, km_exact = _landmark_km(coarse, mark, exposure), _landmark_km(exact, mark, exposure)
        if km_coarse is None or km_exact is None:
            continue
        shown = release_km(km_coarse, km_exact, policy, milestone_days).km
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
        milestones.append(ms.assign(landmark_days=mark)[_MILESTONE_COLUMNS])
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


def _landmark_km(lm: Any, mark: float, exposure: str) -> KMResult | None:
    """The Kaplan–Meier fit of one landmark as a ``KMResult``."""
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


def release_simon_makuch(coarse: Any, exact: Any, policy: ReleasePolicy) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Released Simon–Makuch curves and per-group numbers from ``analyses.landmark.simon_makuch`` on
    grid-coarsened (``coarse``) and exact (``exact``) counting-process rows.

    Each group's curve is the product limit of its rounded cumulative events, censorings (intervals ending
    without an event, the unexposed one at exposure included) and entries (the exposed group's, at
    exposure); it stops as every curve does; a group of fewer than ``policy.curve_min_n`` patients
    (released) is not drawn.

    Returns
    -------
    curve : DataFrame
        group, time_days, survival, ci_lower, ci_upper.
    groups : DataFrame
        group, n (patients who contributed time), events (of the exact fit, released), median_days (on the
        grid; NaN when not reached or beyond the drawn curve).
    """
    keep = ["group", "time_days", "survival", "ci_lower", "ci_upper"]
    shown, last = [], {}
    summary = coarse.summary.set_index("group")
    for group, rows in coarse.curve.groupby("group", sort=True):
        rows = rows.reset_index(drop=True)
        later = rows.iloc[1:]  # the first row is the time-0 row: at risk from the origin
        table = release_product_limit(
            later["time_days"].to_numpy(float),
            float(rows["at_risk"].iloc[0]),
            later["events"].to_numpy(float),
            later["censored"].to_numpy(float),
            policy,
            entered=later["entered"].to_numpy(float),
            group_size=float(summary.loc[group, "n"]),
            conf_level=coarse.conf_level,
        )
        if policy.active and policy.rounded(summary.loc[group, "n"]) < policy.curve_min_n:
            continue
        shown.append(table.assign(group=group)[keep])
        last[group] = float(table["time_days"].max()) if len(table) else -np.inf
    curve = pd.concat(shown, ignore_index=True) if shown else pd.DataFrame(columns=keep)
    medians = exact.summary.set_index("group")["median_days"]
    # the counts of the exact fit: on the grid an exposure and an event in the same week would move the
    # event to the unexposed group
    exact_summary = exact.summary.set_index("group").reindex(coarse.summary["group"])
    groups = pd.DataFrame(
        {
            "group": coarse.summary["group"],
            "n": policy.count_column(exact_summary["n"].to_numpy()),
            "events": policy.count_column(exact_summary["events"].to_numpy()),
            "median_days": [
                m if m is not None and m <= last.get(g, -np.inf) else np.nan
                for g, m in ((g, policy.time(medians.get(g))) for g in coarse.summary["group"])
            ],
        }
    )
    return curve, groups
