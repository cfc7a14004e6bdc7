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

import pandas as pd

from disclosure.policy import ReleasePolicy

__all__ = [
    "WeightedCounts",
    "count_columns",
    "landmark_counts",
    "model_counts",
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


def model_counts(n: int, events: int, n_all: int, policy: ReleasePolicy) -> dict[str, int | None]:
    """A survival model's patients, events and patients left out (a missing covariate), released.

    The Cox page, the Treatment timing page's models, their exports and ``ayaall analyze cox`` show these.
    """
    return {"n": policy.count(n), "events": policy.count(events), "n_dropped": policy.count(n_all - n)}


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
    ) -> WeightedCounts:
        """From the patients on the treatments (``frame``), those analysed (``data``) and the number with
        every covariate (``n_complete``); both frames hold ``treatment`` and ``event_code``."""
        labels, event = data[treatment].astype(str), data["event_code"] == 1
        n = [int((labels == g).sum()) for g in levels]
        ev = [int((event & (labels == g)).sum()) for g in levels]
        flow = (len(data), len(frame) - n_complete, n_complete - len(data))
        return cls(
            list(levels),
            policy.counts(n),
            policy.counts(ev),
            policy.count(len(data)),
            policy.count(int(event.sum())),
            (policy.count(flow[0]), policy.count(flow[1]), policy.count(flow[2])),
        )


def landmark_counts(lm: Any, policy: ReleasePolicy) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The released counts of a landmark analysis (``analyses.landmark.fit_landmark``).

    Returns
    -------
    (landmarks, groups)
        ``landmark_days, at_risk, exposed, unexposed`` per landmark, and ``landmark_days, group, n,
        events`` per landmark and group (the groups of ``lm.summary``), released.
    """
    table = lm.landmarks.reset_index(drop=True)
    marks = pd.DataFrame(
        {
            "landmark_days": table["landmark_days"].astype(float),
            "at_risk": policy.count_column(table["n_at_risk"]),
            "exposed": policy.count_column(table["n_exposed"]),
            "unexposed": policy.count_column(table["n_unexposed"]),
        }
    )
    summary = lm.summary
    groups = pd.DataFrame(
        {
            "landmark_days": summary["landmark_days"].astype(float).to_numpy(),
            "group": summary["group"].to_numpy(),
            "n": policy.count_column(summary["n"]).to_numpy(),
            "events": policy.count_column(summary["events"]).to_numpy(),
        }
    )
    return marks, groups.astype({"n": object, "events": object})
