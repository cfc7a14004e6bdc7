"""Toxicity estimators: crude proportions, worst grades, cumulative incidence and time to onset.

The input is the long frame of the toxicity endpoints (``etl.toxicity.toxicity_frame``, one row per
patient who started the line × event × grade threshold, or any frame with those columns), with a
grouping column such as the line's ``regimen``. Per group, event and threshold (1 = any grade, 3 =
grade 3-5):

- **crude proportion** with the event within the line's attribution window (``event_code == 1``)
  among the patients who started the line, with Wilson's score interval, and a **test between the
  groups** (``analyses.contingency.proportion_test``: Fisher's exact test when an expected count is
  below 5, else Pearson's chi-square, Yates-corrected for two groups);
- the **worst-grade distribution** per patient and line (NONE, UNK, 1-5; the same at every
  threshold);
- the **cumulative incidence** of the event with death competing (Aalen–Johansen, cmprsk's
  variance; ``analyses.cif``) and **Gray's test** (``analyses.gray``);
- **time to onset** among the patients with the event: median and interquartile range (quantile
  type 7, R's default).

Nothing here suppresses small counts: a disclosure layer does that to the exact results.

References
----------
.. [1] Wilson EB (1927). JASA 22:209–212.
.. [2] Aalen OO, Johansen S (1978). Scand J Stat 5:141–150.
.. [3] Gray RJ (1988). Ann Stat 16:1141–1154.
.. [4] Lee DW, et al. (2019). ASTCT consensus grading for cytokine release syndrome and neurologic
   toxicity associated with immune effector cells. Biol Blood Marrow Transplant 25:625–638.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analyses.cif import DEFAULT_TIMES_DAYS, cumulative_incidence
from analyses.contingency import proportion_test
from analyses.gray import gray_test
from analyses.response import wilson_ci
from analyses.results import AnalysisError, AnalysisWarning

__all__ = [
    "GRADE_ORDER",
    "ToxicityResult",
    "analyze_toxicity",
    "compare_toxicity",
    "time_to_onset",
    "toxicity_cumulative_incidence",
    "toxicity_proportions",
    "worst_grade_distribution",
]

#: Worst-grade categories, best to worst (``etl.toxicity.WORST_GRADES``).
GRADE_ORDER = ("NONE", "UNK", "1", "2", "3", "4", "5")
_ALL = "all"


@dataclass(frozen=True)
class ToxicityResult:
    """Every toxicity estimate of one line, per group, event and grade threshold.

    Attributes
    ----------
    proportions : DataFrame
        group, event, min_grade, n, events, proportion, ci_lower, ci_upper.
    tests : DataFrame
        event, min_grade, test, statistic, df, p, min_expected, note (one row per event and
        threshold; empty with one group).
    worst_grade : DataFrame
        group, event, worst_grade, n (patients with that worst grade), total, percent.
    onset : DataFrame
        group, event, min_grade, events, median_days, q1_days, q3_days.
    cif : DataFrame
        ``CIFResult.curve`` of each event and threshold, with event and min_grade columns first.
    cif_milestones : DataFrame
        ``CIFResult.milestones`` likewise.
    gray : DataFrame
        event, min_grade, statistic, df, p, note (NaN with a note where the test cannot be made).
    group_col : str or None
    conf_level : float
    notes : tuple of str
        Warnings of the estimators, each naming its event and threshold.
    """

    proportions: pd.DataFrame
    tests: pd.DataFrame
    worst_grade: pd.DataFrame
    onset: pd.DataFrame
    cif: pd.DataFrame
    cif_milestones: pd.DataFrame
    gray: pd.DataFrame
    group_col: str | None
    conf_level: float
    notes: tuple[str, ...] = ()


def _check(df: pd.DataFrame, columns: Sequence[str | None]) -> None:
    missing = [c for c in columns if c is not None and c not in df.columns]
    if missing:
        raise AnalysisError(f"Column(s) {', '.join(map(repr, missing))} not found in the toxicity data.")
    if df.empty:
        raise AnalysisError("The analysis has no rows to work with (no patient started the line).")


def _groups(df: pd.DataFrame, group_col: str | None) -> pd.Series:
    if group_col is None:
        return pd.Series(_ALL, index=df.index)
    if df[group_col].isna().any():
        raise AnalysisError(f"Column {group_col!r} has {int(df[group_col].isna().sum())} missing values.")
    return df[group_col].astype(str)


def _cells(df: pd.DataFrame, group_col: str | None, event_col: str, grade_col: str, status_col: str) -> pd.DataFrame:
    """Patients and patients with the event per group, event and threshold (groups sorted)."""
    frame = pd.DataFrame(
        {
            "group": _groups(df, group_col),
            "event": df[event_col].astype(str),
            "min_grade": df[grade_col].astype(int),
            "hit": df[status_col].to_numpy() == 1,
        }
    )
    out = frame.groupby(["event", "min_grade", "group"], sort=True)["hit"].agg(n="size", events="sum").reset_index()
    return out.astype({"n": int, "events": int})


def toxicity_proportions(
    df: pd.DataFrame,
    group_col: str | None = None,
    *,
    event_col: str = "event",
    grade_col: str = "min_grade",
    status_col: str = "event_code",
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Crude share of patients with each toxicity (``status_col == 1``), with Wilson intervals.

    Returns
    -------
    DataFrame
        group, event, min_grade, n, events, proportion, ci_lower, ci_upper (``"all"`` without a
        group column), sorted by event, threshold and group.

    References
    ----------
    Wilson (1927); ``prop.test(x, n, correct = FALSE)$conf.int``.
    """
    _check(df, [group_col, event_col, grade_col, status_col])
    cells = _cells(df, group_col, event_col, grade_col, status_col)
    limits = [wilson_ci(x, n, conf_level) for x, n in zip(cells["events"], cells["n"], strict=True)]
    cells["proportion"] = cells["events"] / cells["n"]
    cells["ci_lower"] = [lo for lo, _ in limits]
    cells["ci_upper"] = [hi for _, hi in limits]
    return cells[["group", "event", "min_grade", "n", "events", "proportion", "ci_lower", "ci_upper"]]


def compare_toxicity(
    df: pd.DataFrame,
    group_col: str,
    *,
    event_col: str = "event",
    grade_col: str = "min_grade",
    status_col: str = "event_code",
) -> pd.DataFrame:
    """Test, per event and threshold, that the share with the event is the same in every group.

    Returns
    -------
    DataFrame
        event, min_grade, test, statistic, df, p, min_expected, note. With a single group there is
        nothing to compare: the frame is empty.

    References
    ----------
    ``analyses.contingency`` (Fisher's exact test or Pearson's chi-square, R's ``fisher.test`` and
    ``chisq.test``).
    """
    _check(df, [group_col, event_col, grade_col, status_col])
    cells = _cells(df, group_col, event_col, grade_col, status_col)
    rows = []
    for (event, grade), cell in cells.groupby(["event", "min_grade"], sort=True):
        if len(cell) < 2:
            continue
        t = proportion_test(cell["events"].to_numpy(), cell["n"].to_numpy())
        rows.append(
            {"event": event, "min_grade": int(grade), "test": t.test, "statistic": t.statistic, "df": t.df, "p": t.p}
            | {"min_expected": t.min_expected, "note": t.note}
        )
    columns = ["event", "min_grade", "test", "statistic", "df", "p", "min_expected", "note"]
    return pd.DataFrame(rows, columns=columns)


def worst_grade_distribution(
    df: pd.DataFrame,
    group_col: str | None = None,
    *,
    id_col: str = "patient_id",
    event_col: str = "event",
    worst_col: str = "worst_grade",
) -> pd.DataFrame:
    """Patients by their worst grade of each toxicity (one per patient and event, whatever the threshold).

    Returns
    -------
    DataFrame
        group, event, worst_grade (``GRADE_ORDER``, every category listed), n, total (patients in the
        group), percent (of total).
    """
    _check(df, [group_col, id_col, event_col, worst_col])
    unknown = sorted(set(df[worst_col].astype(str)) - set(GRADE_ORDER))
    if unknown:
        raise AnalysisError(f"Column {worst_col!r} has grades {', '.join(unknown)}; expected {', '.join(GRADE_ORDER)}.")
    one = df.drop_duplicates([id_col, event_col]).assign(group=_groups(df, group_col))
    counts = pd.crosstab([one["group"], one[event_col].astype(str)], one[worst_col].astype(str))
    counts = counts.reindex(columns=list(GRADE_ORDER), fill_value=0)
    counts.index.names, counts.columns.name = ["group", "event"], None
    long = counts.reset_index().melt(id_vars=["group", "event"], var_name="worst_grade", value_name="n")
    long = long.sort_values(["group", "event"], kind="stable", ignore_index=True)
    long["total"] = long.groupby(["group", "event"])["n"].transform("sum")
    long["percent"] = 100.0 * long["n"] / long["total"]
    return long.astype({"n": int, "total": int})


def time_to_onset(
    df: pd.DataFrame,
    group_col: str | None = None,
    *,
    event_col: str = "event",
    grade_col: str = "min_grade",
    time_col: str = "time_days",
    status_col: str = "event_code",
) -> pd.DataFrame:
    """Median and interquartile range of the days from the line's start to the toxicity, among those with it.

    Returns
    -------
    DataFrame
        group, event, min_grade, events, median_days, q1_days, q3_days (NaN without events);
        quantiles of type 7 (``quantile(x, c(0.25, 0.5, 0.75))`` in R).
    """
    _check(df, [group_col, event_col, grade_col, time_col, status_col])
    frame = pd.DataFrame(
        {
            "group": _groups(df, group_col),
            "event": df[event_col].astype(str),
            "min_grade": df[grade_col].astype(int),
            "time": pd.to_numeric(df[time_col]).where(df[status_col].to_numpy() == 1),
        }
    )
    rows = []
    for (event, grade, group), cell in frame.groupby(["event", "min_grade", "group"], sort=True):
        times = cell["time"].dropna().to_numpy(dtype=float)
        q1, med, q3 = np.quantile(times, [0.25, 0.5, 0.75]) if times.size else (np.nan,) * 3
        rows.append(
            {"group": group, "event": event, "min_grade": int(grade), "events": int(times.size)}
            | {"median_days": float(med), "q1_days": float(q1), "q3_days": float(q3)}
        )
    columns = ["group", "event", "min_grade", "events", "median_days", "q1_days", "q3_days"]
    return pd.DataFrame(rows, columns=columns)


def toxicity_cumulative_incidence(
    df: pd.DataFrame,
    group_col: str | None = None,
    *,
    times: Sequence[float] | None = None,
    event_col: str = "event",
    grade_col: str = "min_grade",
    time_col: str = "time_days",
    status_col: str = "event_code",
    conf_level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """Aalen–Johansen cumulative incidence of each toxicity with death competing, and Gray's test.

    Returns
    -------
    (curve, milestones, gray, notes)
        ``CIFResult.curve`` and ``.milestones`` of every event and threshold (columns event and
        min_grade first), Gray's test per event and threshold (event, min_grade, statistic, df, p,
        note; NaN with the reason where it cannot be made, e.g. no events), and the estimators'
        warnings.

    References
    ----------
    Aalen & Johansen (1978); Gray (1988); ``cmprsk::cuminc``.
    """
    _check(df, [group_col, event_col, grade_col, time_col, status_col])
    curves: list[pd.DataFrame] = []
    points: list[pd.DataFrame] = []
    tests: list[dict[str, Any]] = []
    notes: list[str] = []
    grid = tuple(DEFAULT_TIMES_DAYS if times is None else times)
    keys = df[[event_col, grade_col]].drop_duplicates().sort_values([event_col, grade_col])
    for event, grade in keys.itertuples(index=False):
        sub = df[(df[event_col] == event) & (df[grade_col] == grade)]
        label = f"{event}, grade >= {int(grade)}"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AnalysisWarning)
            fit = cumulative_incidence(
                sub,
                time_col,
                status_col,
                group_col,
                times=grid,
                conf_level=conf_level,
            )
        notes += [f"{label}: {w.message}" for w in caught if issubclass(w.category, AnalysisWarning)]
        for frame, out in ((fit.curve, curves), (fit.milestones, points)):
            out.append(frame.assign(event=str(event), min_grade=int(grade)))
        test: dict[str, Any] = {"event": str(event), "min_grade": int(grade)}
        if group_col is not None and len(fit.groups) > 1:
            try:
                g = gray_test(sub, time_col, status_col, group_col)
                test |= {"statistic": g.statistic, "df": g.df, "p": g.p, "note": ""}
            except AnalysisError as exc:
                test |= {"statistic": np.nan, "df": np.nan, "p": np.nan, "note": str(exc)}
            tests.append(test)
    lead = ["event", "min_grade"]
    curve = pd.concat(curves, ignore_index=True)
    milestones = pd.concat(points, ignore_index=True)
    gray = pd.DataFrame(tests, columns=[*lead, "statistic", "df", "p", "note"])
    curve = curve[lead + [c for c in curve.columns if c not in lead]]
    milestones = milestones[lead + [c for c in milestones.columns if c not in lead]]
    return curve, milestones, gray, tuple(notes)


def analyze_toxicity(
    df: pd.DataFrame,
    group_col: str | None = None,
    *,
    times: Sequence[float] | None = None,
    conf_level: float = 0.95,
    id_col: str = "patient_id",
    event_col: str = "event",
    grade_col: str = "min_grade",
    time_col: str = "time_days",
    status_col: str = "event_code",
    worst_col: str = "worst_grade",
) -> ToxicityResult:
    """Every estimate of this module for one line's toxicity frame, by ``group_col``.

    Parameters
    ----------
    df : DataFrame
        One row per patient × event × threshold (``etl.toxicity.toxicity_frame``).
    group_col : str, optional
        The grouping (the line's ``regimen``, or any ``analysis_patients`` column).
    times : sequence of float, optional
        Days at which the cumulative incidence is reported (default 1, 2, 3 and 5 years).
    conf_level : float
    id_col, event_col, grade_col, time_col, status_col, worst_col : str
        Column names.

    Returns
    -------
    ToxicityResult
    """
    cols = dict(event_col=event_col, grade_col=grade_col, status_col=status_col)
    proportions = toxicity_proportions(df, group_col, conf_level=conf_level, **cols)
    tests = (
        compare_toxicity(df, group_col, **cols)
        if group_col is not None
        else pd.DataFrame(columns=["event", "min_grade", "test", "statistic", "df", "p", "min_expected", "note"])
    )
    worst = worst_grade_distribution(df, group_col, id_col=id_col, event_col=event_col, worst_col=worst_col)
    onset = time_to_onset(df, group_col, time_col=time_col, **cols)
    curve, milestones, gray, notes = toxicity_cumulative_incidence(
        df, group_col, times=times, time_col=time_col, conf_level=conf_level, **cols
    )
    return ToxicityResult(proportions, tests, worst, onset, curve, milestones, gray, group_col, conf_level, notes)
