"""Released counts of every result that is not a curve, by the one rule of ``disclosure.policy``.

Every count is released as ``ReleasePolicy.count``: rounded to the midpoint of its block of k, masked
(None) in the first block, 0 exact. The same count gets the same value wherever it is shown, so nothing is
learned by comparing two places; a total and its parts are rounded each on its own, and a partition shows
at most ``max_parts`` parts (``disclosure.groups``), so no sum of shown parts pins a masked one. Derived
numbers (rates, patients without an event) are computed from released counts by whoever shows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from disclosure.cellkey import cell_key, key_difference, key_of
from disclosure.policy import ReleasePolicy

__all__ = [
    "WeightedCounts",
    "count_columns",
    "landmark_counts",
    "model_counts",
    "model_keys",
    "release_table",
]


def count_columns(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """``frame`` with each count column (those present) as Python ints, None where missing or masked."""
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            out[col] = pd.Series(
                [None if v is None or pd.isna(v) else int(v) for v in out[col]], index=out.index, dtype=object
            )
    return out


def release_table(frame: pd.DataFrame, columns: Iterable[str], policy: ReleasePolicy) -> pd.DataFrame:
    """``frame`` with each count column (those present) released (``ReleasePolicy.count``)."""
    out = frame.copy()
    for col in columns:
        if col in out.columns:
            out[col] = policy.count_column(out[col], out.index)
    return out


def model_counts(
    n: int, events: int, n_all: int, policy: ReleasePolicy, keys: tuple[Any, Any, Any] = (None, None, None)
) -> dict[str, int | None]:
    """A survival model's patients, events and patients left out (a missing covariate), released; ``keys``
    are the cell keys of those three sets (``disclosure.cellkey``; None to round only).

    The Cox page, the Treatment timing page's models, their exports and ``ayaall analyze cox`` show these.
    """
    return {
        "n": policy.count(n, keys[0]),
        "events": policy.count(events, keys[1]),
        "n_dropped": policy.count(n_all - n, keys[2]),
    }


def model_keys(frame: pd.DataFrame, used: Any) -> tuple[int | None, int | None, int | None]:
    """The cell keys :func:`model_counts` takes: of the rows a model used (``used``, a mask over ``frame``),
    their events (event_code 1) and the rows left out."""
    used = np.asarray(used, dtype=bool)
    event = frame["event_code"].to_numpy() == 1
    return key_of(frame, used), key_of(frame, used & event), key_of(frame, ~used)


@dataclass(frozen=True)
class WeightedCounts:
    """The released counts of a weighted (IPTW) comparison of treatments.

    Attributes
    ----------
    levels : list of str
        The treatments, in order.
    n_shown, events_shown : list of int or None
        Patients and events analysed per treatment.
    total_n, total_events : int or None
        Patients and events analysed in all.
    flow : tuple of int or None
        Patients analysed, left out for a missing covariate, trimmed.
    """

    levels: list[str]
    n_shown: list[int | None]
    events_shown: list[int | None]
    total_n: int | None
    total_events: int | None
    flow: tuple[int | None, int | None, int | None]

    @classmethod
    def of(
        cls,
        frame: pd.DataFrame,
        data: pd.DataFrame,
        n_complete: int,
        treatment: str,
        levels: Sequence[str],
        policy: ReleasePolicy,
        complete_key: int | None = None,
    ) -> WeightedCounts:
        """From the patients on the treatments (``frame``), those analysed (``data``) and the number with
        every covariate (``n_complete``, whose cell key is ``complete_key``); both frames hold ``treatment``
        and ``event_code`` (and the record key, for the cell keys)."""
        labels, event = data[treatment].astype(str), data["event_code"] == 1
        n = [int((labels == g).sum()) for g in levels]
        ev = [int((event & (labels == g)).sum()) for g in levels]
        flow = (len(data), len(frame) - n_complete, n_complete - len(data))
        # cell keys: of the patients analysed per treatment and their events; of those left out (frame's
        # rows with a covariate missing) and those trimmed (complete rows not analysed)
        n_keys = [key_of(data, labels == g) for g in levels]
        ev_keys = [key_of(data, event & (labels == g)) for g in levels]
        all_key, analysed_key = key_of(frame), key_of(data)
        missing_key = key_difference(all_key, complete_key)
        trimmed_key = key_difference(complete_key, analysed_key)
        return cls(
            list(levels),
            policy.counts(n, n_keys),
            policy.counts(ev, ev_keys),
            policy.count(len(data), analysed_key),
            policy.count(int(event.sum()), key_of(data, event)),
            (
                policy.count(flow[0], analysed_key),
                policy.count(flow[1], missing_key),
                policy.count(flow[2], trimmed_key),
            ),
        )


def landmark_counts(lm: Any, policy: ReleasePolicy, keys: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The released counts of a landmark analysis (``analyses.landmark.fit_landmark``); ``keys`` are
    ``disclosure.treatment.landmark_keys`` (landmark day -> its cell keys), None to round only.

    Returns
    -------
    (landmarks, groups)
        ``landmark_days, at_risk, exposed, unexposed`` per landmark, and ``landmark_days, group, n,
        events`` per landmark and group (the groups of ``lm.summary``), released.
    """
    table = lm.landmarks.reset_index(drop=True)
    days = table["landmark_days"].astype(float)
    at = [keys.get(float(d)) if keys else None for d in days]
    marks = pd.DataFrame(
        {
            "landmark_days": days,
            "at_risk": policy.count_column(table["n_at_risk"], keys=[k.at_risk if k else None for k in at]),
            "exposed": policy.count_column(table["n_exposed"], keys=[k.exposed if k else None for k in at]),
            "unexposed": policy.count_column(table["n_unexposed"], keys=[k.unexposed if k else None for k in at]),
        }
    )
    summary = lm.summary
    n_keys, event_keys = [], []
    for d, g in zip(summary["landmark_days"].astype(float), summary["group"].astype(str), strict=True):
        curve = keys[d].curve if keys and d in keys and keys[d].curve is not None else None
        n_keys.append(curve.group(g) if curve else None)
        steps = curve.steps[curve.steps["group"] == g]["events"] if curve else None
        event_keys.append(cell_key(steps) if steps is not None else None)
    groups = pd.DataFrame(
        {
            "landmark_days": summary["landmark_days"].astype(float).to_numpy(),
            "group": summary["group"].to_numpy(),
            "n": policy.count_column(summary["n"], keys=n_keys).to_numpy(),
            "events": policy.count_column(summary["events"], keys=event_keys).to_numpy(),
        }
    )
    return marks, groups.astype({"n": object, "events": object})
