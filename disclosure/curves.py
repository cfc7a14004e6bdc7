"""Released curves: estimated again from rounded cumulative counts on the time grid (``disclosure.policy``).

The input is an exact fit on grid-coarsened times (``ReleasePolicy.coarsen_frame`` before the fit): one
row per grid time with the exact numbers at risk, events, censorings (and entries, for curves whose
patients enter late). Per group, the cumulative events, cumulative censorings, cumulative entries and the
group size are perturbed by their cells' keys when the rows have record keys (``disclosure.cellkey``:
``ReleasePolicy.perturbed_cumulative`` keeps a cumulative count non-decreasing) and rounded as counts
(``ReleasePolicy.rounded``); the numbers at risk, the per-time events and
censorings, and so the estimate and its interval, are computed from them again with the estimators of
``analyses`` (product limit, Aalen–Johansen, weighted product limit). Inverting a released step gives only
rounded counts. Each curve stops at its last time with at least ``min_cell`` released at risk (and before
a step that would empty the risk set); a group whose released size is below ``curve_min_n`` is not drawn.
With the policy off (``min_cell`` 0) nothing is rounded or coarsened and the curves are the exact ones.

The released per-time counts (``counts``) stay as the policy rounds them; what is shown of them goes
through ``ReleasePolicy.shown`` (masked below ``min_cell``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analyses.km import KMResult, product_limit_from_counts
from ayaall.records import KEY_SPACE
from disclosure.cellkey import CurveKeys, cumulative_keys, place_keys
from disclosure.policy import ReleasePolicy

__all__ = [
    "COUNT_COLUMNS",
    "ReleasedKM",
    "counts_at",
    "grid_of",
    "interpolated",
    "last_entry",
    "place",
    "release_km",
    "release_product_limit",
    "stop_position",
]

#: the released per-time counts of a curve: at risk at the time, cumulative events and censorings to it
COUNT_COLUMNS = ("at_risk", "events", "censored")


def _cumulative(policy: ReleasePolicy, values: np.ndarray) -> np.ndarray:
    return policy.rounded_array(np.cumsum(values))


def _steps(cumulative: np.ndarray) -> np.ndarray:
    return np.diff(np.r_[0.0, cumulative])


def interpolated(cumulative: np.ndarray, policy: ReleasePolicy) -> np.ndarray:
    """A cumulative count as the released curves use it: linear within each block it passes through.

    Only which block (of k = ``min_cell``) the count is in at each time is used. A block the count is in
    at several times is drawn from its least value k(B - 1) + 1 at the first of them to its greatest kB
    at the last (a run from the origin starts at the block's midpoint: a count on day 0 is a mass, not a
    pace); a block it is in at one time only is at its midpoint there; the estimate is linear in
    between and stays at the last block's first value after that block's entry (the released curves stop
    there). It is within the block at every time, as the count is, and it follows the count's pace instead
    of the staircase of its block midpoints (after OpenSAFELY's "linear" method). With the policy off it is
    the count itself.
    """
    values = np.asarray(cumulative, dtype=float)
    if not policy.active or not len(values):
        return values.copy()
    k = policy.min_cell
    block = np.ceil(values / k - 1e-9)
    starts = np.flatnonzero(np.diff(np.r_[-1.0, block]) != 0)  # first position of each run of one block
    ends = np.r_[starts[1:] - 1, len(values) - 1]
    x: list[float] = []
    y: list[float] = []
    for run, (a, b) in enumerate(zip(starts, ends, strict=True)):
        level = block[a]
        last = run == len(starts) - 1
        if level == 0:
            x += [float(a), float(b)]
            y += [0.0, 0.0]
        elif a == b and not last:
            x.append(float(a))
            y.append(policy.rounded(k * level))
        elif a == 0:  # at the origin a count is a mass (EFS's induction failures on day 0): its block's midpoint
            x.append(0.0)
            y.append(policy.rounded(k * level))
            if not last:
                x.append(float(b))
                y.append(k * level)
        else:
            x.append(float(a))
            y.append(k * (level - 1) + 1)
            if not last:
                x.append(float(b))
                y.append(k * level)
    return np.interp(np.arange(len(values), dtype=float), x, y)


def release_product_limit(
    times: np.ndarray,
    start: float,
    events: np.ndarray,
    censored: np.ndarray,
    policy: ReleasePolicy,
    *,
    entered: np.ndarray | None = None,
    group_size: float | None = None,
    keys: Mapping[str, Any] | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """One group's released product-limit curve.

    Parameters
    ----------
    times : array
        Grid times in increasing order (the first may be 0), with the exact counts at each.
    start : float
        Patients at risk from the origin (the group size, for a Kaplan–Meier curve).
    events, censored : array
        Exact events and censorings (intervals ending without an event) at each time.
    entered : array, optional
        Exact entries at each time (at risk after it: Simon–Makuch's exposed group). A curve with late
        entry is drawn from the first time its released number at risk reaches the floor (before that
        few are at risk), to its stop.
    group_size : float, optional
        The patients of the group, for the curve's floor (``ReleasePolicy.curve_floor``); default
        ``start``.
    keys : mapping, optional
        Cell keys (``disclosure.cellkey``): "start" (of the patients at risk from the origin; also the
        group's, for its floor) and, aligned with ``times``, the key sums of the patients leaving with an
        event ("events"), without ("censored") and entering ("entered") at each time. Each cumulative
        count is then perturbed by its cell's key before it is rounded (``perturbed_cumulative``).

    Returns
    -------
    DataFrame
        One row per grid time from 0 to the curve's stop: time_days; at_risk, events and censored as
        released counts (the number at risk before the time's exits, the cumulative events and
        censorings to the time, each from block midpoints); step_censored (whether any censoring was
        released there); survival, std_err, ci_lower, ci_upper estimated from the interpolated
        cumulative counts (:func:`interpolated`).
    """
    keys = keys or {}
    placed = grid_of(np.asarray(times, dtype=float), policy)
    start_r = policy.rounded(start, keys.get("start"))
    grid, index = placed["grid"], placed["index"]

    ev, ce, en = (place(values, index, len(grid)) for values in (events, censored, entered))
    cum = {
        name: policy.perturbed_cumulative(np.cumsum(v), cumulative_keys(place_keys(keys.get(name), index, len(grid))))
        for name, v in (("events", ev), ("censored", ce), ("entered", en))
    }
    stair = {name: policy.rounded_array(v) for name, v in cum.items()}
    smooth = {name: interpolated(v, policy) for name, v in cum.items()}
    previous = lambda a: np.r_[0.0, a[:-1]]  # noqa: E731  (a value just before each time)
    at_risk = start_r + previous(stair["entered"]) - previous(stair["events"]) - previous(stair["censored"])
    risk_smooth = start_r + previous(smooth["entered"]) - previous(smooth["events"]) - previous(smooth["censored"])
    d = _steps(smooth["events"])
    surv, _, std_err, lower, upper = product_limit_from_counts(risk_smooth, d, conf_level)
    table = pd.DataFrame(
        {
            "time_days": grid,
            "at_risk": at_risk,
            "events": stair["events"],
            "censored": stair["censored"],
            "step_events": d,
            "step_censored": _steps(stair["censored"]),
            "survival": surv,
            "std_err": std_err,
            "ci_lower": lower,
            "ci_upper": upper,
        }
    )
    floor = policy.curve_floor(start if group_size is None else group_size, keys.get("start"))
    first = 0
    if entered is not None and policy.active:
        reached = np.flatnonzero(at_risk >= floor)
        first = int(reached[0]) if len(reached) else len(at_risk)
    keep = first + stop_position(
        at_risk[first:], d[first:], risk_smooth[first:], last_entry(cum["events"], policy) - first, floor, policy
    )
    table = table.iloc[first:keep].copy()
    origin = (table["time_days"] <= 0) & (table["survival"] == 1.0)
    table.loc[origin, ["ci_lower", "ci_upper", "std_err"]] = [1.0, 1.0, 0.0]
    if first > 0:  # drawn from where enough are at risk: no line from the origin
        return table.reset_index(drop=True)
    return _with_origin(table, start_r)


def place(values: np.ndarray | None, index: np.ndarray, size: int) -> np.ndarray:
    """Counts at given times summed onto the grid positions ``index`` (zeros for None)."""
    out = np.zeros(size)
    if values is not None:
        np.add.at(out, index, np.asarray(values, dtype=float))
    return out


def grid_of(times: np.ndarray, policy: ReleasePolicy) -> dict[str, np.ndarray]:
    """Every grid time from 0 to the last of ``times`` (all times when the policy is off), and where each
    of ``times`` falls on it."""
    if not policy.active or not len(times):
        grid = np.unique(np.r_[0.0, times])
    else:
        g = policy.grid_days
        grid = np.arange(0.0, float(times.max()) + g / 2, g)
    index = np.clip(np.searchsorted(grid, times - 1e-9, side="left"), 0, len(grid) - 1)
    return {"grid": grid, "index": index}


def last_entry(cumulative: np.ndarray, policy: ReleasePolicy) -> int:
    """The position where a cumulative count enters its last block: after it, fewer than ``min_cell`` events
    are still to come, and no released number says when they happen."""
    if not policy.active or not len(cumulative):
        return len(cumulative)
    block = np.ceil(np.asarray(cumulative, dtype=float) / policy.min_cell - 1e-9)
    entries = np.flatnonzero(np.diff(np.r_[0.0, block]) > 0)
    return int(entries[-1]) if len(entries) else 0


def stop_position(
    at_risk: np.ndarray,
    step_events: np.ndarray,
    risk_smooth: np.ndarray,
    last_entry: int,
    floor: float,
    policy: ReleasePolicy,
) -> int:
    """How many grid rows a released curve keeps: under an active policy, none after the cumulative events'
    entry into their last block (``last_entry``), nor from the first with fewer than ``floor`` released at
    risk (``ReleasePolicy.curve_floor``) or with a step that would empty the (interpolated) risk set."""
    if not policy.active:
        return len(at_risk)
    ok = (np.asarray(at_risk) >= floor) & (np.asarray(risk_smooth) - np.asarray(step_events) > 0)
    ok[max(last_entry + 1, 0) :] = False
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if len(bad) else len(ok)


def _with_origin(table: pd.DataFrame, start: float) -> pd.DataFrame:
    """A time-0 row (survival 1, nobody out yet) first, before any step at time 0."""
    if len(table) and float(table["time_days"].iloc[0]) <= 0 and float(table["survival"].iloc[0]) == 1.0:
        return table.reset_index(drop=True)
    origin = {
        "time_days": 0.0,
        "at_risk": start,
        "events": 0.0,
        "censored": 0.0,
        "step_events": 0.0,
        "step_censored": 0.0,
        "survival": 1.0,
        "std_err": 0.0,
        "ci_lower": 1.0,
        "ci_upper": 1.0,
    }
    return pd.concat([pd.DataFrame([origin]), table], ignore_index=True)


@dataclass(frozen=True)
class ReleasedKM:
    """Released Kaplan–Meier curves.

    Attributes
    ----------
    km : KMResult
        What is shown, in ``KMResult``'s layout: ``curve`` (group, time_days, survival, std_err,
        ci_lower, ci_upper, censored: whether the curve has a censoring mark there; at_risk and events
        None), ``summary`` (group, n, events as shown; medians on the grid, None beyond the curve),
        ``milestones`` (group, time_days, at_risk and events as shown, survival and interval from the
        released curve; NaN beyond it), ``rmst`` and ``rmst_diff`` of the exact fit.
    counts : DataFrame
        group, time_days, at_risk, events, censored: the released per-time counts of the drawn curves
        (cumulative events and censorings), from which risk tables are read (:func:`counts_at`).
    drawn : dict
        Group -> whether its curve is drawn (released size at least ``policy.curve_min_n``).
    policy : ReleasePolicy
    """

    km: KMResult
    counts: pd.DataFrame
    drawn: dict[str, bool]
    policy: ReleasePolicy


def release_km(
    coarse: KMResult,
    exact: KMResult,
    policy: ReleasePolicy,
    milestone_days: Sequence[float] = (),
    keys: CurveKeys | None = None,
) -> ReleasedKM:
    """The released copy of a Kaplan–Meier analysis.

    ``coarse`` is the fit on grid-coarsened times (its per-time counts are rounded), ``exact`` the fit on
    the exact times (its medians, put on the grid, and its RMST are reported); both on the same patients.
    ``keys`` (``disclosure.cellkey.curve_keys`` of the coarsened rows: ways "events" and "censored") perturb
    every count by its cell's key; each group's events count is keyed by its step keys' sum.
    """
    curves, counts, summary, milestones, drawn = [], [], [], [], {}
    for group, n, events in coarse.summary[["group", "n", "events"]].itertuples(index=False):
        rows = coarse.curve[(coarse.curve["group"] == group) & (coarse.curve["time_days"] > 0)]
        first = coarse.curve[(coarse.curve["group"] == group) & (coarse.curve["time_days"] <= 0)]
        times = np.r_[first["time_days"].to_numpy(float)[:1] * 0, rows["time_days"].to_numpy(float)]
        ev = np.r_[first["events"].to_numpy(float).sum(), rows["events"].to_numpy(float)]
        ce = np.r_[first["censored"].to_numpy(float).sum(), rows["censored"].to_numpy(float)]
        group_keys = _group_keys(keys, group, times, ("events", "censored"))
        table = release_product_limit(times, float(n), ev, ce, policy, keys=group_keys, conf_level=coarse.conf_level)
        drawn[group] = policy.rounded(n, group_keys.get("start")) >= policy.curve_min_n or not policy.active
        summary.append(
            {
                "group": group,
                "n": n,
                "events": events,
                "n_key": group_keys.get("start"),
                "events_key": _total(group_keys.get("events")),
            }
        )
        if not drawn[group]:
            table = table.iloc[:0]
        curves.append(table.assign(group=group))
        counts.append(table[["time_days", *COUNT_COLUMNS]].assign(group=group))
        milestones += _milestones(group, table, milestone_days, policy)
    curve = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=["group", "time_days"])
    shown_curve = pd.DataFrame(
        {
            "group": curve["group"],
            "time_days": curve["time_days"].astype(float),
            "at_risk": None,
            "events": None,
            "censored": curve["step_censored"].astype(float) > 0 if len(curve) else pd.Series(dtype=bool),
            "survival": curve["survival"],
            "std_err": curve["std_err"],
            "ci_lower": curve["ci_lower"],
            "ci_upper": curve["ci_upper"],
        }
    )
    released = KMResult(
        curve=shown_curve,
        summary=_medians(pd.DataFrame(summary), exact, curve, policy),
        milestones=_whole_counts(
            pd.DataFrame(
                milestones,
                columns=["group", "time_days", "at_risk", "events", "survival", "std_err", "ci_lower", "ci_upper"],
            ),
            [m["at_risk"] for m in milestones],
            [m["events"] for m in milestones],
        ),
        rmst=exact.rmst,
        rmst_diff=exact.rmst_diff,
        group_col=coarse.group_col,
        conf_level=coarse.conf_level,
        conf_type=coarse.conf_type,
    )
    count_frame = (
        pd.concat(counts, ignore_index=True) if counts else pd.DataFrame(columns=["group", "time_days", *COUNT_COLUMNS])
    )
    return ReleasedKM(released, count_frame[["group", "time_days", *COUNT_COLUMNS]], drawn, policy)


def _whole_counts(frame: pd.DataFrame, at_risk: list[Any], events: list[Any]) -> pd.DataFrame:
    """``frame`` with its at_risk and events as whole numbers or None (a frame built from dicts makes them
    floats, NaN where None)."""
    frame["at_risk"] = pd.Series(at_risk, index=frame.index, dtype=object)
    frame["events"] = pd.Series(events, index=frame.index, dtype=object)
    return frame


def _milestones(group: str, table: pd.DataFrame, days: Sequence[float], policy: ReleasePolicy) -> list[dict[str, Any]]:
    out = []
    t = table["time_days"].to_numpy(dtype=float)
    last = t.max() if len(t) else -np.inf
    for day in days:
        row: dict[str, Any] = {"group": group, "time_days": float(day), "at_risk": None, "events": None}
        if day > last or not len(t):
            row |= {"survival": np.nan, "std_err": np.nan, "ci_lower": np.nan, "ci_upper": np.nan}
        else:
            at = counts_at(table.assign(group=group)[["group", "time_days", *COUNT_COLUMNS]], [day], policy).iloc[0]
            i = int(np.searchsorted(t, day, side="right") - 1)
            row |= {
                "at_risk": at["at_risk"],
                "events": at["events"],
                "survival": float(table["survival"].iloc[i]),
                "std_err": float(table["std_err"].iloc[i]),
                "ci_lower": float(table["ci_lower"].iloc[i]),
                "ci_upper": float(table["ci_upper"].iloc[i]),
            }
        out.append(row)
    return out


def _medians(summary: pd.DataFrame, exact: KMResult, curve: pd.DataFrame, policy: ReleasePolicy) -> pd.DataFrame:
    """Each group's median and its limits from the exact fit, on the grid; None beyond the drawn curve."""
    medians = exact.summary.set_index("group")
    out = summary.copy()
    for col in ("median_days", "median_ci_lower", "median_ci_upper"):
        values = []
        for group in out["group"]:
            rows = curve[curve["group"] == group]
            last = float(rows["time_days"].max()) if len(rows) else -np.inf
            value = policy.time(medians.loc[group, col]) if group in medians.index else None
            values.append(value if value is not None and value <= last else None)
        out[col] = pd.Series(values, dtype=object)
    for col in ("n", "events"):
        keys = out[f"{col}_key"] if f"{col}_key" in out.columns else None
        out[col] = policy.count_column(out[col], out.index, keys)
    return out.drop(columns=[c for c in ("n_key", "events_key") if c in out.columns])


def _group_keys(keys: CurveKeys | None, group: Any, times: np.ndarray, ways: Sequence[str]) -> dict[str, Any]:
    """One group's keys for :func:`release_product_limit`: "start" and each way's key sums at ``times``
    (the coarse fit's times, the first 0); empty without keys."""
    if keys is None:
        return {}
    out: dict[str, Any] = {"start": keys.group(str(group))}
    for way in ways:
        at = keys.at(str(group), times, way)
        if at is None or out["start"] is None:
            return {}
        out[way] = at
    return out


def _total(step_keys: np.ndarray | None) -> int | None:
    """The key of all the patients of a way (the sum of its step keys)."""
    if step_keys is None:
        return None
    return int(np.asarray(step_keys, dtype=np.uint64).sum(dtype=np.uint64) % np.uint64(KEY_SPACE))


def counts_at(counts: pd.DataFrame, days: Sequence[float], policy: ReleasePolicy) -> pd.DataFrame:
    """The released counts read at ``days`` (a risk table's ticks), as shown (None where masked).

    ``counts`` has group, time_days, at_risk (before the time's exits) and cumulative counts of every way
    out (events, censored; for cumulative incidence also competing_events). Per group: the number at risk
    at each day (the released at-risk of a released time on the day, else what is left after the last
    released time before it), and each cumulative count up to the day. A day after the group's curve has
    stopped is left out.
    """
    cumulative = [c for c in counts.columns if c not in ("group", "time_days", "at_risk")]
    rows = []
    for group, table in counts.groupby("group", sort=False):
        t = table["time_days"].to_numpy(dtype=float)
        at = table["at_risk"].to_numpy(dtype=float)
        cum = {c: table[c].to_numpy(dtype=float) for c in cumulative}
        out_at = sum(np.diff(np.r_[0.0, v]) for v in cum.values()) if cum else np.zeros(len(t))
        for day in days:
            if not len(t) or day > t.max():
                continue
            before = np.flatnonzero(t <= day)
            upto = int(before[-1]) if len(before) else None
            if upto is not None and t[upto] == day:
                risk = at[upto]
            elif upto is not None:
                risk = at[upto] - out_at[upto]
            else:
                risk = at[0]
            row = {"group": group, "time_days": float(day), "at_risk": policy.shown(risk)}
            for c, v in cum.items():
                row[c] = policy.shown(v[upto]) if upto is not None else 0
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["group", "time_days", "at_risk", *cumulative])
    for c in ("at_risk", *cumulative):  # whole numbers, None where masked (not NaN, not floats)
        frame[c] = pd.Series([None if pd.isna(v) else int(v) for v in frame[c]], index=frame.index, dtype=object)
    return frame
