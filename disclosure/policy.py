"""The release policy: how every count, time and curve that leaves the server is made safe to release.

One threshold ``k`` (``--min-cell``, default 11) sets it all:

* **Counts are perturbed by their cell key, then rounded.** Each count moves by -D to +D patients
  (``noise``, default 3), the shift fixed by the patients in it (``disclosure.cellkey``: the same patients
  always give the same shift; a cohort one patient larger gets an unrelated one), so that the counts of
  many overlapping cohorts cannot be solved together (padded differencing). A count without record keys
  (a database built by hand, the load report's rows) is rounded only.
* **Counts are rounded to the midpoint of their block of k.** A count of 1 to k is released as the
  block's midpoint (for k = 11: 1–11 as 6, 12–22 as 17, 23–33 as 28, ...); 0 stays 0. A count in the
  first block is shown as masked (``—`` in tables and figures, null in JSON), since its midpoint is no
  count anyone observed. The same count always gets the same released value, wherever it is shown
  (OpenSAFELY's midpoint rounding).
* **Derived numbers come from released ones.** Percentages, rates, numbers at risk, the patients without
  an event: computed from released counts, so they carry nothing the counts do not.
* **Times are coarsened to a grid** (``grid_days``, default 7): every released curve, risk table and
  landmark is computed from times rounded up to the end of their week, so no step or censoring mark sits
  on one patient's day. Landmark days are moved to the nearest grid day.
* **Curves are estimated from rounded counts** (OpenSAFELY's ``kaplan-meier-function``): per group, the
  cumulative events, cumulative censorings (and entries, for curves with late entry) on the grid and the
  group size are rounded as counts, and the estimate and its interval are recomputed from them, so a
  reader who inverts a step finds only rounded counts. A curve stops where the released number at risk
  falls below k, and a group of fewer than ``curve_min_n`` patients (released) is not drawn.
* **Rates need a group of ``curve_min_n``**: a response rate is computed from released counts and
  shown for a group released as at least ``curve_min_n`` patients, as curves are drawn.
* **A partition shows at most ``max_parts`` parts** (k − 1): the smallest groups or categories are
  combined ("Other"). A total of at most k − 1 rounded parts cannot pin any part: the masked parts of a
  partition are known to be at least 1 each, and their sum at most k.

Statistics that are not counts (hazard ratios, tests, p-values) are computed on the exact data; medians
and their limits on the exact curve, reported on the time grid. ``min_cell`` 0 turns all of this off
(exact counts and times, for an analyst inside a secure environment).

References
----------
Pocock SJ, Clayton TC, Altman DG (2002). Survival plots of time-to-event outcomes in clinical trials:
good practice and pitfalls. Lancet 359:1686–1689.
OpenSAFELY (2023). kaplan-meier-function: disclosure-safe Kaplan–Meier estimates (midpoint rounding).
Australian Bureau of Statistics (2021). TableBuilder: confidentiality and perturbation.
Hundepool A, et al. (2012). Statistical Disclosure Control. Wiley, ch. 4 and 5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ayaall.settings import DEFAULT_MIN_CELL
from disclosure.cellkey import shift, shifts

__all__ = ["DEFAULT_GRID_DAYS", "DEFAULT_NOISE", "ReleasePolicy", "policy_for"]

#: the time grid: a week
DEFAULT_GRID_DAYS = 7.0
#: the cell-key perturbation's largest shift, in patients
DEFAULT_NOISE = 3
#: a group's curve is drawn when at least this many times k patients are in it (released)
_CURVE_MIN_BLOCKS = 3
#: a curve stops where the released number at risk falls below this share of its group (or below k)
_CURVE_FLOOR_SHARE = 0.20


@dataclass(frozen=True)
class ReleasePolicy:
    """How results are released (module docstring).

    Attributes
    ----------
    min_cell : int
        k: counts are rounded to midpoints of blocks of k; a count in the first block (1 to k) is masked.
        0 releases everything exactly.
    grid_days : float
        Times are rounded up to multiples of this many days before any released curve is computed.
    noise : int
        D: a count with a cell key is shifted by -D to +D patients before it is rounded
        (``disclosure.cellkey``); 0 rounds only.
    """

    min_cell: int = DEFAULT_MIN_CELL
    grid_days: float = DEFAULT_GRID_DAYS
    noise: int = DEFAULT_NOISE

    def __post_init__(self) -> None:
        if self.min_cell < 0:
            raise ValueError(f"min_cell must be 0 or more, not {self.min_cell}")
        if self.grid_days <= 0:
            raise ValueError(f"grid_days must be positive, not {self.grid_days}")
        if self.noise < 0:
            raise ValueError(f"noise must be 0 or more, not {self.noise}")

    # -- switches -----------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """False when ``min_cell`` is 0: counts and times are released exactly."""
        return self.min_cell > 0

    @property
    def max_parts(self) -> int | None:
        """The most parts (groups, categories) a partition may show; None when not limited."""
        return max(self.min_cell - 1, 2) if self.active else None

    def curve_floor(self, group_size: float, key: int | None = None) -> float:
        """A curve stops where fewer than this many (released) remain at risk: k, or 20% of the group
        when that is more (Pocock, Clayton and Altman's advice to stop where few remain: rounding and the
        cell key shift move a curve by about (k/2 + noise) over the number at risk, which 20% of a group of
        1,000 keeps under a percentage point: BENCHMARKS.md)."""
        if not self.active:
            return 1.0
        return float(max(self.min_cell, math.ceil(_CURVE_FLOOR_SHARE * self.rounded(group_size, key))))

    @property
    def curve_min_n(self) -> int:
        """The smallest released group size whose curve is drawn."""
        return _CURVE_MIN_BLOCKS * self.min_cell if self.active else 1

    # -- counts -------------------------------------------------------------------------------------
    def perturbed(self, count: float, key: int | None = None) -> float:
        """``count`` shifted by its cell key's perturbation (``disclosure.cellkey.shift``); at least 1 when
        it was; 0 stays 0; unchanged without a key or with the policy off."""
        if not self.active or key is None or count <= 0:
            return float(count)
        return float(max(count + shift(key, self.noise), 1.0 if count >= 1 else count))

    def perturbed_array(self, counts: Any, keys: np.ndarray | None = None) -> np.ndarray:
        """:meth:`perturbed` of every element, with one key per element."""
        values = np.asarray(counts, dtype=float)
        if not self.active or keys is None:
            return values.copy()
        moved = values + shifts(keys, self.noise, len(values))
        return np.where(values <= 0, values, np.maximum(moved, np.minimum(values, 1.0)))

    def perturbed_cumulative(self, cumulative: Any, keys: np.ndarray | None = None) -> np.ndarray:
        """A cumulative count (nested cells along a curve) perturbed cell by cell, then never falling: the
        running maximum, so a released curve stays a curve."""
        return np.maximum.accumulate(self.perturbed_array(cumulative, keys)) if len(cumulative) else np.zeros(0)

    def _round(self, value: float) -> float:
        k = self.min_cell
        return float(k * math.ceil(value / k - 1e-9) - k // 2)

    def rounded(self, count: float, key: int | None = None) -> float:
        """``count`` (perturbed by ``key``) rounded to its block's midpoint (0 stays 0; also for
        non-integer weighted counts)."""
        if not self.active or count <= 0:
            return float(count)
        return self._round(self.perturbed(count, key))

    def rounded_array(self, counts: Any, keys: np.ndarray | None = None) -> np.ndarray:
        """:meth:`rounded` of every element (an array of floats), perturbed by ``keys`` when given."""
        values = self.perturbed_array(counts, keys)
        if not self.active:
            return values.copy()
        k = self.min_cell
        out = k * np.ceil(values / k - 1e-9) - k // 2
        return np.where(values > 0, out, np.where(values < 0, values, 0.0))

    def count(self, count: float | None, key: int | None = None) -> int | None:
        """The released count as shown: perturbed by its cell key, rounded; None in the first block (masked)
        or missing."""
        if count is None or pd.isna(count):
            return None
        if not self.active:
            return int(count)
        if count <= 0:
            return 0
        value = self.rounded(count, key)
        return None if value < self.min_cell else int(value)

    def shown(self, rounded_value: float | None) -> int | None:
        """A value already rounded (or derived from rounded values) as shown: None below k."""
        if rounded_value is None or pd.isna(rounded_value):
            return None
        value = round(float(rounded_value))
        if self.active and 0 < value < self.min_cell:
            return None
        return value

    def counts(self, values: Any, keys: Any = None) -> list[int | None]:
        """:meth:`count` of each value (with its cell key, when ``keys`` are given)."""
        values = list(values)
        chosen = [None] * len(values) if keys is None else list(keys)
        return [self.count(v, k) for v, k in zip(values, chosen, strict=True)]

    def count_column(self, values: Any, index: Any = None, keys: Any = None) -> pd.Series:
        """:meth:`count` of each value as an object column: ints, None where masked (never NaN)."""
        return pd.Series(self.counts(values, keys), index=index, dtype=object)

    # -- times --------------------------------------------------------------------------------------
    def coarsen(self, days: Any) -> Any:
        """Times rounded up to the grid (0 stays 0; missing stays missing); exact when inactive."""
        if not self.active:
            return days
        g = self.grid_days
        values = np.asarray(days, dtype=float)
        out = np.ceil(values / g - 1e-9) * g
        out = np.where(values <= 0, values, out)
        if isinstance(days, pd.Series):
            return pd.Series(out, index=days.index, name=days.name)
        return out if np.ndim(days) else float(out)

    def coarsen_frame(self, frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
        """``frame`` with its time ``columns`` (those present) coarsened to the grid."""
        if not self.active:
            return frame
        out = frame.copy()
        for col in columns:
            if col in out.columns:
                out[col] = self.coarsen(pd.to_numeric(out[col], errors="coerce").astype(float))
        return out

    def snap_landmark(self, day: float) -> float:
        """A landmark day on the grid (the nearest grid day), so that landmarks a day apart are one release."""
        if not self.active:
            return float(day)
        return float(math.floor(float(day) / self.grid_days + 0.5) * self.grid_days)

    def time(self, days: float | None) -> float | None:
        """A time statistic (a median, a confidence limit) as released: on the grid; None when missing."""
        if days is None or pd.isna(days):
            return None
        return float(self.coarsen(float(days)))

    # -- description --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The release parameters, as recorded in the JSON, the manifest and the methods text."""
        if not self.active:
            return {
                "min_cell": 0,
                "rounding": "none",
                "perturbation": "none",
                "perturbation_max": 0,
                "time_grid_days": None,
                "curve_min_n": None,
                "max_parts": None,
            }
        k = self.min_cell
        return {
            "min_cell": k,
            "perturbation": f"cell key: each count shifted by -{self.noise} to +{self.noise}, uniform over record-key "
            "sums modulo 2**32, before rounding; cumulative counts kept non-decreasing"
            if self.noise
            else "none",
            "perturbation_max": self.noise,
            "rounding": f"midpoint of blocks of {k} (1-{k} -> {self.rounded(1):g}, {k + 1}-{2 * k} -> "
            f"{self.rounded(k + 1):g}, ...); the first block is masked",
            "rounding_base": k,
            "time_grid_days": self.grid_days,
            "curve_min_n": self.curve_min_n,
            "max_parts": self.max_parts,
        }

    def sentence(self) -> str:
        """One sentence of the methods text saying how the numbers were released."""
        if not self.active:
            return "No disclosure control was applied: counts and times are exact."
        k = self.min_cell
        return (
            "For disclosure control, every count is "
            + (
                f"shifted by up to {self.noise} (the shift fixed by a key of the patients in it: the cell key "
                "method) and "
                if self.noise
                else ""
            )
            + f"rounded to the midpoint of its block of {k} (1–{k} "
            f"patients are shown as —, {k + 1}–{2 * k} as {self.rounded(k + 1):g}, and so on; percentages and "
            f"numbers at risk are computed from the rounded counts); times are coarsened to "
            f"{self.grid_days:g}-day intervals; curves are estimated from rounded cumulative counts on that "
            f"grid, stop where fewer than {k} or fewer than {100 * _CURVE_FLOOR_SHARE:g}% of the group remain "
            f"at risk, and are drawn for groups of at least {self.curve_min_n} patients (response rates are shown for "
            f"groups of that size too); groupings show at most "
            f"{self.max_parts} groups, the smallest combined. Hazard ratios and tests are computed on the exact "
            "data; medians on the exact curve, reported on the time grid."
        )


def policy_for(min_cell: int) -> ReleasePolicy:
    """The release policy of a ``--min-cell`` setting (0: no disclosure control)."""
    return ReleasePolicy(min_cell=min_cell)
