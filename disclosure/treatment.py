"""Released treatment-timing results: landmark analyses and Simon–Makuch curves.

Both are estimated again from rounded counts on the time grid, as every curve is (``disclosure.curves``):
the inputs are the analyses fitted on grid-coarsened times (event, censoring and exposure days rounded up
to the grid, landmark days moved onto it: ``ReleasePolicy.snap_landmark``), so who is at risk, exposed or
not at a landmark depends on times only through their grid values. Counts (at risk, exposed, not exposed,
each group's patients and events) are released by ``disclosure.counts``; tests and medians come from the
exact fits (medians on the grid).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analyses.km import KMResult
from analyses.landmark import EXPOSED, UNEXPOSED, at_landmark
from ayaall.records import RECORD_KEY
from disclosure.cellkey import CurveKeys, curve_keys, key_of
from disclosure.counts import count_columns, landmark_counts
from disclosure.curves import release_km, release_product_limit
from disclosure.policy import ReleasePolicy

__all__ = [
    "LandmarkKeys",
    "LandmarkTables",
    "SimonMakuchKeys",
    "landmark_keys",
    "release_landmarks",
    "release_simon_makuch",
    "simon_makuch_count_keys",
    "simon_makuch_keys",
]

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


@dataclass(frozen=True)
class LandmarkKeys:
    """The cell keys of one landmark: its patients at risk, exposed and not exposed by then, and its
    Kaplan–Meier rows' (``curve``: groups exposed and unexposed, times from the landmark)."""

    at_risk: int | None
    exposed: int | None
    unexposed: int | None
    curve: CurveKeys | None


def landmark_keys(coarse_frame: pd.DataFrame, marks: Sequence[float]) -> dict[float, LandmarkKeys] | None:
    """:class:`LandmarkKeys` of each landmark, from the grid-coarsened rows the landmark fit is on (time_days,
    event_code, exposure_days and the record key): who is at risk and exposed by
    ``analyses.landmark.at_landmark``, the rule of the fit. None without record keys."""
    if RECORD_KEY not in coarse_frame.columns or coarse_frame[RECORD_KEY].isna().any():
        return None
    time = coarse_frame["time_days"].to_numpy(dtype=float)
    expo = pd.to_numeric(coarse_frame["exposure_days"], errors="coerce").to_numpy(dtype=float)
    event = coarse_frame["event_code"].to_numpy() == 1
    out = {}
    for mark in marks:
        at_risk, exposed = at_landmark(time, expo, float(mark))
        sub = pd.DataFrame(
            {
                "group": np.where(exposed, EXPOSED, UNEXPOSED)[at_risk],
                "time": time[at_risk] - float(mark),
                RECORD_KEY: coarse_frame[RECORD_KEY].to_numpy()[at_risk],
            }
        )
        ev = event[at_risk]
        out[float(mark)] = LandmarkKeys(
            at_risk=key_of(coarse_frame, at_risk),
            exposed=key_of(coarse_frame, exposed),
            unexposed=key_of(coarse_frame, at_risk & ~exposed),
            curve=curve_keys(sub, "group", "time", {"events": ev, "censored": ~ev}),
        )
    return out


def release_landmarks(
    coarse: Any,
    exact: Any,
    exposure: str,
    policy: ReleasePolicy,
    milestone_days: list[float],
    keys: dict[float, LandmarkKeys] | None = None,
) -> LandmarkTables:
    """Released landmark curves, tests and per-group estimates from ``analyses.landmark.fit_landmark`` on
    grid-coarsened (``coarse``) and exact (``exact``) times, at the same (grid) landmarks; ``keys``
    (:func:`landmark_keys`) perturb every count by its cell's key."""
    marks, group_counts = landmark_counts(coarse, policy, keys)
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
        curve_keys_ = keys[mark].curve if keys and mark in keys else None
        shown = release_km(km_coarse, km_exact, policy, milestone_days, curve_keys_).km
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


@dataclass(frozen=True)
class SimonMakuchKeys:
    """The cell keys of Simon–Makuch curves: each group's leaving and entering patients by time (``curve``,
    whose group keys are those at risk from the origin) and each group's patients (``patients``)."""

    curve: CurveKeys
    patients: dict[str, int | None]


def simon_makuch_keys(counting: pd.DataFrame) -> SimonMakuchKeys | None:
    """:class:`SimonMakuchKeys` of grid-coarsened counting-process rows (``analyses.counting.start_stop_frame``
    of a frame with record keys: start, stop, event, exposed); None without record keys."""
    if RECORD_KEY not in counting.columns or counting[RECORD_KEY].isna().any():
        return None
    group = np.where(counting["exposed"].to_numpy() == 1, EXPOSED, UNEXPOSED)
    start = counting["start"].to_numpy(dtype=float)
    event = counting["event"].to_numpy() == 1
    late = start > 0
    rows = pd.DataFrame(
        {
            "group": np.r_[group, group[late]],
            "time": np.r_[counting["stop"].to_numpy(dtype=float), start[late]],
            RECORD_KEY: np.r_[counting[RECORD_KEY].to_numpy(), counting[RECORD_KEY].to_numpy()[late]],
        }
    )
    exits = np.r_[np.ones(len(counting), dtype=bool), np.zeros(int(late.sum()), dtype=bool)]
    ways = {"events": exits & np.r_[event, np.zeros(int(late.sum()), bool)], "entered": ~exits}
    ways["censored"] = exits & ~ways["events"]
    from_origin = np.r_[~late, np.zeros(int(late.sum()), dtype=bool)]
    curve = curve_keys(rows, "group", "time", ways, group_mask=from_origin)
    patients = {g: key_of(counting, group == g) for g in (EXPOSED, UNEXPOSED)}
    return None if curve is None else SimonMakuchKeys(curve=curve, patients=patients)


def simon_makuch_count_keys(counting: pd.DataFrame) -> dict[str, tuple[int | None, int | None]]:
    """Each Simon–Makuch group's (patients, events) cell keys, from the exact counting-process rows (the
    groups' counts are the exact fit's)."""
    group = np.where(counting["exposed"].to_numpy() == 1, EXPOSED, UNEXPOSED)
    event = counting["event"].to_numpy() == 1
    return {g: (key_of(counting, group == g), key_of(counting, (group == g) & event)) for g in (EXPOSED, UNEXPOSED)}


def release_simon_makuch(
    coarse: Any,
    exact: Any,
    policy: ReleasePolicy,
    keys: SimonMakuchKeys | None = None,
    count_keys: dict[str, tuple[int | None, int | None]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
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
        times = later["time_days"].to_numpy(float)
        patients_key = keys.patients.get(str(group)) if keys else None
        group_keys: dict[str, Any] = {}
        if keys is not None:
            steps = {w: keys.curve.at(str(group), times, w) for w in ("events", "censored", "entered")}
            if all(v is not None for v in steps.values()):
                group_keys = {"start": keys.curve.group(str(group)), **steps}
        table = release_product_limit(
            times,
            float(rows["at_risk"].iloc[0]),
            later["events"].to_numpy(float),
            later["censored"].to_numpy(float),
            policy,
            entered=later["entered"].to_numpy(float),
            group_size=float(summary.loc[group, "n"]),
            keys=group_keys,
            conf_level=coarse.conf_level,
        )
        if policy.active and policy.rounded(summary.loc[group, "n"], patients_key) < policy.curve_min_n:
            continue
        shown.append(table.assign(group=group)[keep])
        last[group] = float(table["time_days"].max()) if len(table) else -np.inf
    curve = pd.concat(shown, ignore_index=True) if shown else pd.DataFrame(columns=keep)
    medians = exact.summary.set_index("group")["median_days"]
    # the counts of the exact fit: on the grid an exposure and an event in the same week would move the
    # event to the unexposed group
    exact_summary = exact.summary.set_index("group").reindex(coarse.summary["group"])
    names = [str(g) for g in coarse.summary["group"]]
    n_keys = [count_keys.get(g, (None, None))[0] if count_keys else None for g in names]
    event_keys = [count_keys.get(g, (None, None))[1] if count_keys else None for g in names]
    groups = pd.DataFrame(
        {
            "group": coarse.summary["group"],
            "n": policy.count_column(exact_summary["n"].to_numpy(), keys=n_keys),
            "events": policy.count_column(exact_summary["events"].to_numpy(), keys=event_keys),
            "median_days": [
                m if m is not None and m <= last.get(g, -np.inf) else np.nan
                for g, m in ((g, policy.time(medians.get(g))) for g in coarse.summary["group"])
            ],
        }
    )
    return curve, groups
