"""Released IPTW-adjusted Kaplan–Meier curves, estimated from rounded cumulative (weighted) counts.

As ``disclosure.curves`` does for unweighted survival, on the weighted fit of grid-coarsened times: per
group, the cumulative exits (patients, and their weights and squared weights) and the cumulative weighted
events are rounded as counts (weights in patient units) and interpolated between the times they enter
their blocks, and the weighted product limit with Xie and Liu's variance is computed from them. The curve
stops as a survival curve does (``disclosure.curves.stop_position``) on the unweighted released numbers
at risk and the (unweighted) events.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analyses.km import KMResult
from analyses.weighting import WeightedKMResult, weighted_product_limit
from ayaall.records import KEY_SPACE
from disclosure.cellkey import CurveKeys, cumulative_keys, place_keys
from disclosure.counts import WeightedCounts
from disclosure.curves import grid_of, interpolated, last_entry, place, stop_position
from disclosure.policy import ReleasePolicy

__all__ = ["release_weighted", "release_weighted_km"]

_COLUMNS = ["group", "time_days", "survival", "std_err", "ci_lower", "ci_upper", "censored"]


def release_weighted_km(coarse: WeightedKMResult, policy: ReleasePolicy, keys: CurveKeys | None = None) -> pd.DataFrame:
    """Released IPTW-adjusted curves from a weighted fit on grid-coarsened times.

    Returns
    -------
    DataFrame
        group, time_days, survival, std_err, ci_lower, ci_upper, censored (a censoring mark there); a
        group whose released size is below ``policy.curve_min_n`` has no rows.
    """
    parts = []
    for group, rows in coarse.curve.groupby("group", sort=True):
        rows = rows.reset_index(drop=True)
        group_keys = _keys(keys, group, rows["time_days"].to_numpy(dtype=float))
        table = _group(rows, policy, coarse.conf_level, group_keys)
        if (
            policy.active
            and policy.rounded(float(rows["at_risk"].iloc[0]), group_keys.get("start")) < policy.curve_min_n
        ):
            table = table.iloc[:0]
        parts.append(table.assign(group=group)[_COLUMNS])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=_COLUMNS)


def _keys(keys: CurveKeys | None, group: Any, times: np.ndarray) -> dict[str, Any]:
    """One group's keys: "start", and for each cumulative sum the key sums of the patients it adds at each
    time (the weights and squares of the patients leaving are keyed as those patients; weighted events
    as the events)."""
    if keys is None or keys.group(str(group)) is None:
        return {}
    events, censored = keys.at(str(group), times, "events"), keys.at(str(group), times, "censored")
    if events is None or censored is None:
        return {}
    exits = (events + censored) % np.uint64(KEY_SPACE)
    return {
        "start": keys.group(str(group)),
        "patients": exits,
        "weights": exits,
        "squares": exits,
        "weighted_events": events,
        "events": events,
        "censored": censored,
    }


def _group(
    rows: pd.DataFrame, policy: ReleasePolicy, conf_level: float, keys: dict[str, Any] | None = None
) -> pd.DataFrame:
    keys = keys or {}
    n = float(rows["at_risk"].iloc[0])
    w_risk = rows["weighted_at_risk"].to_numpy(float)
    w2_risk = w_risk**2 / rows["effective_at_risk"].to_numpy(float)
    exits = {
        "patients": rows["events"].to_numpy(float) + rows["censored"].to_numpy(float),
        "weights": w_risk - np.r_[w_risk[1:], 0.0],
        "squares": w2_risk - np.r_[w2_risk[1:], 0.0],
        "weighted_events": rows["weighted_events"].to_numpy(float),
        "events": rows["events"].to_numpy(float),
        "censored": rows["censored"].to_numpy(float),
    }
    placed = grid_of(rows["time_days"].to_numpy(float), policy)
    grid, index = placed["grid"], placed["index"]
    cum = {
        name: policy.perturbed_cumulative(
            np.cumsum(place(v, index, len(grid))), cumulative_keys(place_keys(keys.get(name), index, len(grid)))
        )
        for name, v in exits.items()
    }
    smooth = {name: interpolated(v, policy) for name, v in cum.items()}
    stair = {name: policy.rounded_array(v) for name, v in cum.items()}

    def left(total: float, cumulative: np.ndarray) -> np.ndarray:
        return policy.rounded(total, keys.get("start")) - np.r_[0.0, cumulative[:-1]]

    wrisk, w2risk = left(w_risk[0], smooth["weights"]), left(w2_risk[0], smooth["squares"])
    wd = np.diff(np.r_[0.0, smooth["weighted_events"]])
    with np.errstate(divide="ignore", invalid="ignore"):
        ess = wrisk**2 / w2risk
    surv, se_log, lower, upper = weighted_product_limit(wrisk, wd, ess, conf_level)
    keep = stop_position(
        left(n, stair["patients"]),
        np.diff(np.r_[0.0, smooth["events"]]),
        left(n, smooth["patients"]),
        last_entry(cum["events"], policy),
        policy.curve_floor(n, keys.get("start")),
        policy,
    )
    table = pd.DataFrame(
        {
            "time_days": grid,
            "survival": surv,
            "std_err": np.where(surv > 0, surv * np.where(np.isfinite(se_log), se_log, 0.0), np.nan),
            "ci_lower": lower,
            "ci_upper": upper,
            "censored": np.diff(np.r_[0.0, stair["censored"]]) > 0,
        }
    ).iloc[:keep]
    if len(table) and float(table["time_days"].iloc[0]) <= 0 and float(table["survival"].iloc[0]) == 1.0:
        table = table.reset_index(drop=True)
        table.loc[0, ["std_err", "ci_lower", "ci_upper"]] = [0.0, 1.0, 1.0]  # the origin: no uncertainty yet
        return table
    origin = {"time_days": 0.0, "survival": 1.0, "std_err": 0.0, "ci_lower": 1.0, "ci_upper": 1.0, "censored": False}
    return pd.concat([pd.DataFrame([origin]), table], ignore_index=True)


def release_weighted(
    coarse: WeightedKMResult,
    exact: WeightedKMResult,
    counts: WeightedCounts,
    group_col: str,
    policy: ReleasePolicy,
    milestone_days: list[float],
    keys: CurveKeys | None = None,
) -> KMResult:
    """The released IPTW-adjusted curves in ``KMResult``'s layout, as the Adjusted comparison page shows them.
    ``keys`` (``disclosure.cellkey.curve_keys`` of the coarsened rows) perturb the curves' counts.

    ``curve`` is :func:`release_weighted_km` of the fit on grid-coarsened times; ``summary`` holds the
    released patients and events (``counts``) and the exact weighted median on the grid (None beyond the
    curve); ``milestones`` the released curve at ``milestone_days`` (NaN beyond it).
    """
    curve = release_weighted_km(coarse, policy, keys)
    medians = exact.summary.set_index("group")["median_days"]
    summary, milestones = [], []
    for g, n_shown, ev_shown in zip(counts.levels, counts.n_shown, counts.events_shown, strict=True):
        rows = curve[curve["group"] == g]
        last = float(rows["time_days"].max()) if len(rows) else -np.inf
        median = policy.time(medians.get(g))
        summary.append(
            {
                "group": g,
                "n": n_shown,
                "events": ev_shown,
                "median_days": median if median is not None and median <= last else None,
                "median_ci_lower": None,
                "median_ci_upper": None,
            }
        )
        t = rows["time_days"].to_numpy(float)
        for day in milestone_days:
            i = int(np.searchsorted(t, day, side="right") - 1)
            inside = len(t) and day <= last and i >= 0
            milestones.append(
                {
                    "group": g,
                    "time_days": float(day),
                    "at_risk": None,
                    "events": None,
                    **{
                        c: float(rows[c].iloc[i]) if inside else np.nan
                        for c in ("survival", "std_err", "ci_lower", "ci_upper")
                    },
                }
            )
    shown = curve.assign(at_risk=None, events=None)
    summary_frame = pd.DataFrame(summary)
    for col in ("n", "events"):  # None where masked, never NaN
        summary_frame[col] = pd.Series([r[col] for r in summary], index=summary_frame.index, dtype=object)
    return KMResult(
        curve=shown[
            ["group", "time_days", "at_risk", "events", "censored", "survival", "std_err", "ci_lower", "ci_upper"]
        ],
        summary=summary_frame,
        milestones=pd.DataFrame(milestones),
        rmst=pd.DataFrame(columns=["group", "horizon_days", "rmst", "se", "ci_lower", "ci_upper"]),
        rmst_diff=pd.DataFrame(columns=["group", "reference", "diff", "se", "ci_lower", "ci_upper", "p"]),
        group_col=group_col,
        conf_level=coarse.conf_level,
    )
