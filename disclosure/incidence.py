"""Released cumulative incidence curves (Aalen–Johansen), estimated from rounded cumulative counts.

As ``disclosure.curves`` does for survival: the fit on grid-coarsened times gives each group's exact
events of both causes and censorings per grid time; their cumulative counts and the group size are
rounded to block midpoints (the released counts: a risk table reads them) and interpolated between the
times they enter their blocks (``disclosure.curves.interpolated``: the estimates are computed from these),
and the Aalen–Johansen estimate with cmprsk's variance is computed again from them. The curves stop as a
survival curve does (``disclosure.curves.stop_position``), on the all-cause exits; each cause's incidence
stops too where its own cumulative count enters its last block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analyses.cif import CIFResult, aalen_johansen_from_counts
from ayaall.records import KEY_SPACE
from disclosure.cellkey import CurveKeys, cumulative_keys, place_keys
from disclosure.curves import grid_of, interpolated, last_entry, place, stop_position
from disclosure.policy import ReleasePolicy

__all__ = ["CIF_ESTIMATES", "ReleasedCIF", "release_cif"]

#: the estimate columns of a released cumulative incidence curve
CIF_ESTIMATES = (
    "cif_event",
    "var_event",
    "ci_lower_event",
    "ci_upper_event",
    "cif_competing",
    "var_competing",
    "ci_lower_competing",
    "ci_upper_competing",
)
_CAUSES = (("events", "event"), ("competing_events", "competing"))


@dataclass(frozen=True)
class ReleasedCIF:
    """Released cumulative incidence of the event and the competing event, per group.

    Attributes
    ----------
    curve : DataFrame
        group, time_days and ``CIF_ESTIMATES`` (estimates only; NaN after a cause's own stop).
    counts : DataFrame
        group, time_days, at_risk, events, competing_events, censored: released counts (at risk before
        the time's exits; cumulative counts to it), from which a risk table is read.
    summary : DataFrame
        group, n, events, competing_events as shown (None where masked).
    milestones : DataFrame
        group, time_days and ``CIF_ESTIMATES`` at the milestone days (NaN beyond the curve).
    drawn : dict
        Group -> whether its curves are drawn.
    policy : ReleasePolicy
    """

    curve: pd.DataFrame
    counts: pd.DataFrame
    summary: pd.DataFrame
    milestones: pd.DataFrame
    drawn: dict[str, bool]
    policy: ReleasePolicy


def release_cif(
    coarse: CIFResult, policy: ReleasePolicy, milestone_days: Sequence[float] = (), keys: CurveKeys | None = None
) -> ReleasedCIF:
    """The released copy of an Aalen–Johansen analysis fitted on grid-coarsened times; ``keys``
    (``disclosure.cellkey.curve_keys`` of the coarsened rows, ways "events", "competing_events" and
    "censored") perturb every count by its cell's key."""
    curves, counts, summary, milestones, drawn = [], [], [], [], {}
    for row in coarse.summary.to_dict("records"):
        group = row["group"]
        rows = coarse.curve[coarse.curve["group"] == group]
        group_keys = _keys(keys, group, rows["time_days"].to_numpy(dtype=float))
        table = _group(rows, float(row["n"]), policy, coarse.conf_level, group_keys)
        drawn[group] = not policy.active or policy.rounded(row["n"], group_keys.get("start")) >= policy.curve_min_n
        if not drawn[group]:
            table = table.iloc[:0]
        summary.append(
            {c: row[c] for c in ("group", "n", "events", "competing_events")}
            | {
                "n_key": group_keys.get("start"),
                "events_key": _sum(group_keys.get("events")),
                "competing_events_key": _sum(group_keys.get("competing_events")),
            }
        )
        curves.append(table.assign(group=group)[["group", "time_days", *CIF_ESTIMATES]])
        counts.append(
            table.assign(group=group)[["group", "time_days", "at_risk", "events", "competing_events", "censored"]]
        )
        milestones += _milestones(group, table, milestone_days)
    columns = ["group", "time_days", *CIF_ESTIMATES]
    return ReleasedCIF(
        curve=pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=columns),
        counts=pd.concat(counts, ignore_index=True) if counts else pd.DataFrame(columns=["group", "time_days"]),
        summary=_released_summary(pd.DataFrame(summary), policy),
        milestones=pd.DataFrame(milestones, columns=columns),
        drawn=drawn,
        policy=policy,
    )


def _released_summary(summary: pd.DataFrame, policy: ReleasePolicy) -> pd.DataFrame:
    columns = ["group", "n", "events", "competing_events"]
    out = summary[columns].copy() if len(summary) else pd.DataFrame(columns=columns)
    for col in ("n", "events", "competing_events"):
        keys = summary[f"{col}_key"] if f"{col}_key" in summary.columns else None
        out[col] = policy.count_column(summary[col] if len(summary) else [], out.index, keys)
    return out


_WAYS = ("events", "competing_events", "censored")


def _keys(keys: CurveKeys | None, group: Any, times: np.ndarray) -> dict[str, Any]:
    """One group's keys: "start" and each way's key sums at ``times``; empty without keys."""
    if keys is None or keys.group(str(group)) is None:
        return {}
    out: dict[str, Any] = {"start": keys.group(str(group))}
    for way in _WAYS:
        at = keys.at(str(group), times, way)
        if at is None:
            return {}
        out[way] = at
    return out


def _sum(step_keys: np.ndarray | None) -> int | None:
    if step_keys is None:
        return None
    return int(np.asarray(step_keys, dtype=np.uint64).sum(dtype=np.uint64) % np.uint64(KEY_SPACE))


def _group(
    rows: pd.DataFrame, n: float, policy: ReleasePolicy, conf_level: float, keys: dict[str, Any] | None = None
) -> pd.DataFrame:
    """One group's released table: grid times from 0 to the stop, released counts and estimates."""
    keys = keys or {}
    placed = grid_of(rows["time_days"].to_numpy(dtype=float), policy)
    grid, index = placed["grid"], placed["index"]
    cum = {
        c: policy.perturbed_cumulative(
            np.cumsum(place(rows[c].to_numpy(float), index, len(grid))),
            cumulative_keys(place_keys(keys.get(c), index, len(grid))),
        )
        for c in _WAYS
    }
    stair = {c: policy.rounded_array(v) for c, v in cum.items()}
    smooth = {c: interpolated(v, policy) for c, v in cum.items()}
    n_r = policy.rounded(n, keys.get("start"))

    def before(values: dict[str, np.ndarray]) -> np.ndarray:
        total = np.sum(list(values.values()), axis=0)
        return n_r - np.r_[0.0, total[:-1]]

    steps = {c: np.diff(np.r_[0.0, v]) for c, v in smooth.items()}
    table = aalen_johansen_from_counts(
        pd.DataFrame(
            {
                "time_days": grid,
                "at_risk": before(smooth),
                "events": steps["events"],
                "competing_events": steps["competing_events"],
            }
        ),
        conf_level,
    )
    exits = cum["events"] + cum["competing_events"]
    keep = stop_position(
        before(stair),
        steps["events"] + steps["competing_events"],
        table["at_risk"].to_numpy(),
        last_entry(exits, policy),
        policy.curve_floor(n, keys.get("start")),
        policy,
    )
    out = pd.DataFrame({"time_days": grid, "at_risk": before(stair), **{c: stair[c] for c in cum}})
    for col in CIF_ESTIMATES:
        out[col] = table[col].to_numpy()
    for column, name in _CAUSES:  # each cause's incidence stops where its own count enters its last block
        if policy.active:
            own = last_entry(cum[column], policy)
            out.loc[out.index > own, [f"cif_{name}", f"var_{name}", f"ci_lower_{name}", f"ci_upper_{name}"]] = np.nan
    return out.iloc[:keep].reset_index(drop=True)


def _milestones(group: str, table: pd.DataFrame, days: Sequence[float]) -> list[dict[str, Any]]:
    out = []
    t = table["time_days"].to_numpy(dtype=float)
    for day in days:
        row: dict[str, Any] = {"group": group, "time_days": float(day)}
        if not len(t) or day > t.max():
            row |= dict.fromkeys(CIF_ESTIMATES, np.nan)
        else:
            i = int(np.searchsorted(t, day, side="right") - 1)
            row |= {c: float(table[c].iloc[i]) for c in CIF_ESTIMATES}
        out.append(row)
    return out
