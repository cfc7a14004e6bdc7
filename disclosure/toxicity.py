"""Toxicity released: an exact ``analyses.toxicity.ToxicityResult`` in, the copy that may leave the server out.

Every rule is one of ``disclosure.policy``, applied by the function that owns it:

- **proportions**: per event and threshold, the patients and the patients with the event of each group go
  through ``disclosure.response.release_response_rates`` (the Response page's release: counts perturbed by
  their cell keys and rounded, masked in the first block; the share and its Wilson interval computed from
  the released counts, and shown only for a group released as at least ``curve_min_n`` patients);
- **worst grades**: each (group, event, worst grade) count and each group's total through
  ``ReleasePolicy.count`` with its cell key, percentages of the released counts (for a group whose rate
  would be shown). The seven categories are a partition: when the policy allows fewer parts
  (``max_parts``), they are merged (NONE, UNK or grade 1-2, grade 3-5), so no sum of shown parts pins a
  masked one;
- **time to onset**: the median and quartiles are order statistics of the patients with the event, so
  they are shown (on the time grid, ``ReleasePolicy.time``) only where at least ``min_cell`` patients had
  it, exactly and as released;
- **tests** (between-group proportion tests, Gray's test) are computed on the exact data, as every test
  is (``disclosure.policy``), and their p-values shown only when no count of the comparison is masked
  (every group's patients and events; for Gray's test every group's curve drawn too): a p-value of a
  comparison with a masked count is a function of that count, which the released margins would let a
  reader solve for.
  The test statistic and the smallest expected count, which with the released margins narrow the exact
  counts, are not released;
- **cumulative incidence**: the fits on grid-coarsened times (:func:`coarse_incidence`) go through
  ``disclosure.incidence.release_cif``, the Competing risks page's release (curves recomputed from
  perturbed, rounded cumulative counts; cell keys of ``disclosure.cellkey.curve_keys``).

The cell keys of all of these come from the patients' record keys (:func:`toxicity_keys`); a frame
without them is rounded only.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analyses.cif import DEFAULT_TIMES_DAYS, CIFResult, cumulative_incidence
from analyses.results import AnalysisWarning
from analyses.toxicity import GRADE_ORDER, ToxicityResult
from disclosure.cellkey import RECORD_KEY, CurveKeys, cell_keys, curve_keys
from disclosure.incidence import release_cif
from disclosure.policy import ReleasePolicy
from disclosure.response import release_response_rates

__all__ = [
    "ReleasedToxicity",
    "ToxicityKeys",
    "coarse_incidence",
    "grade_categories",
    "release_toxicity",
    "toxicity_keys",
]

#: worst-grade categories when the policy allows fewer parts than the seven of ``GRADE_ORDER``
_MERGED = {"NONE": "NONE", "UNK": "UNK/1-2", "1": "UNK/1-2", "2": "UNK/1-2", "3": "3-5", "4": "3-5", "5": "3-5"}
_NOT_SHOWN = "not reported: a count of a group is too small to show"
_Cell = tuple[str, str, int]


def grade_categories(policy: ReleasePolicy) -> dict[str, str]:
    """Worst grade (``GRADE_ORDER``) -> the category it is released in: itself, or a merged one (NONE,
    UNK/1-2, 3-5) when ``policy.max_parts`` is below seven."""
    if policy.max_parts is None or policy.max_parts >= len(GRADE_ORDER):
        return {g: g for g in GRADE_ORDER}
    return dict(_MERGED)


@dataclass(frozen=True)
class ToxicityKeys:
    """The cell keys of a toxicity release (None where the frame has no record keys).

    Attributes
    ----------
    cells : dict
        (group, event, min_grade) -> (key of the group's patients, key of those with the event).
    worst : dict
        (group, event, category of :func:`grade_categories`) -> key of the patients with that worst grade.
    groups : dict
        group -> key of its patients (the worst-grade totals).
    curves : dict
        (event, min_grade) -> ``CurveKeys`` of the grid-coarsened rows (ways events, competing_events,
        censored), or None.
    """

    cells: dict[_Cell, tuple[int | None, int | None]]
    worst: dict[tuple[str, str, str], int | None]
    groups: dict[str, int | None]
    curves: dict[tuple[str, int], CurveKeys | None]


def _labelled(frame: pd.DataFrame, group_col: str | None) -> pd.DataFrame:
    """The columns the keys need, the groups named as ``analyses.toxicity`` names them ("all" without)."""
    group = frame[group_col].astype(str) if group_col else pd.Series("all", index=frame.index)
    out = pd.DataFrame(
        {
            "group": group,
            "event": frame["event"].astype(str),
            "min_grade": frame["min_grade"].astype(int),
            "hit": frame["event_code"].to_numpy() == 1,
        },
        index=frame.index,
    )
    if RECORD_KEY in frame.columns:
        out[RECORD_KEY] = frame[RECORD_KEY]
    return out


def toxicity_keys(frame: pd.DataFrame, group_col: str | None, policy: ReleasePolicy) -> ToxicityKeys:
    """The cell keys of every count :func:`release_toxicity` releases, from the rows the result was
    computed on (``etl.read.load_toxicity_frame(..., keys=True)``: one row per patient × event ×
    threshold, with ``patient_id`` and the record key)."""
    cells = _labelled(frame, group_col)
    by = ["group", "event", "min_grade"]
    n_keys = cell_keys(cells, by)
    event_keys = cell_keys(cells, by, cells["hit"].to_numpy())
    out_cells = {
        (str(g), str(e), int(m)): (n_keys.get((g, e, m)), event_keys.get((g, e, m))) for g, e, m in n_keys.index
    }
    one = frame.drop_duplicates(["patient_id", "event"])
    category = one["worst_grade"].astype(str).map(grade_categories(policy))
    per_patient = _labelled(one, group_col).assign(category=category)
    worst = cell_keys(per_patient, ["group", "event", "category"])
    first_event = per_patient[per_patient["event"] == per_patient["event"].iloc[0]] if len(per_patient) else per_patient
    groups = cell_keys(first_event, "group")
    curves: dict[tuple[str, int], CurveKeys | None] = {}
    for (event, grade), sub in frame.groupby([frame["event"].astype(str), frame["min_grade"].astype(int)], sort=True):
        coarse = policy.coarsen_frame(sub, ("time_days",))
        code = coarse["event_code"].to_numpy()
        ways = {"events": code == 1, "competing_events": code == 2, "censored": code == 0}
        curves[(str(event), int(grade))] = curve_keys(coarse, group_col, "time_days", ways)
    return ToxicityKeys(
        cells=out_cells,
        worst={(str(g), str(e), str(c)): k for (g, e, c), k in worst.items()},
        groups={str(g): k for g, k in groups.items()},
        curves=curves,
    )


def coarse_incidence(
    frame: pd.DataFrame, group_col: str | None, policy: ReleasePolicy, times: Sequence[float] | None = None
) -> dict[tuple[str, int], CIFResult]:
    """Per event and threshold, the Aalen–Johansen fit on grid-coarsened times that
    ``disclosure.incidence.release_cif`` recomputes from rounded counts (its warnings are the exact fit's,
    reported by ``analyses.toxicity``)."""
    grid = tuple(DEFAULT_TIMES_DAYS if times is None else times)
    out: dict[tuple[str, int], CIFResult] = {}
    for (event, grade), sub in frame.groupby([frame["event"].astype(str), frame["min_grade"].astype(int)], sort=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AnalysisWarning)
            coarse = policy.coarsen_frame(sub, ("time_days",))
            fit = cumulative_incidence(coarse, "time_days", "event_code", group_col, times=grid)
        out[(str(event), int(grade))] = fit
    return out


@dataclass(frozen=True)
class ReleasedToxicity:
    """A released toxicity analysis: counts as shown (ints, None where masked), estimates from them.

    Attributes
    ----------
    proportions : DataFrame
        group, event, min_grade, n, events, proportion, ci_lower, ci_upper (NaN where not shown).
    tests : DataFrame
        event, min_grade, test, df, p, note (p NaN with a note where a group is not shown).
    worst_grade : DataFrame
        group, event, worst_grade (category), n, total, percent (NaN where not shown).
    onset : DataFrame
        group, event, min_grade, events, median_days, q1_days, q3_days (None where fewer than
        ``min_cell`` had the event).
    cif : DataFrame
        event, min_grade, group, time_days and ``disclosure.incidence.CIF_ESTIMATES``.
    cif_counts : DataFrame
        event, min_grade, group, time_days, at_risk, events, competing_events, censored: the released
        counts behind the curves (cumulative), for risk tables (``disclosure.curves.counts_at``).
    cif_milestones : DataFrame
        event, min_grade, group, time_days and the estimates at the milestone days.
    cif_drawn : dict
        (event, min_grade) -> {group: whether its curves are drawn}.
    gray : DataFrame
        event, min_grade, df, p, note.
    group_col : str or None
    release : dict
        ``ReleasePolicy.to_dict``.
    """

    proportions: pd.DataFrame
    tests: pd.DataFrame
    worst_grade: pd.DataFrame
    onset: pd.DataFrame
    cif: pd.DataFrame
    cif_counts: pd.DataFrame
    cif_milestones: pd.DataFrame
    cif_drawn: dict[tuple[str, int], dict[str, bool]]
    gray: pd.DataFrame
    group_col: str | None
    release: dict[str, Any]


def _proportions(result: ToxicityResult, policy: ReleasePolicy, keys: ToxicityKeys | None) -> pd.DataFrame:
    parts = []
    table = result.proportions.rename(columns={"events": "responders", "proportion": "rate"})
    for (event, grade), cell in table.groupby(["event", "min_grade"], sort=False):
        cell_keys_ = (
            {str(g): keys.cells.get((str(g), str(event), int(grade)), (None, None)) for g in cell["group"]}
            if keys
            else None
        )
        parts.append(release_response_rates(cell.reset_index(drop=True), policy, cell_keys_))
    out = pd.concat(parts, ignore_index=True) if parts else table.iloc[:0]
    out = out.rename(columns={"responders": "events", "rate": "proportion"})
    return out[["group", "event", "min_grade", "n", "events", "proportion", "ci_lower", "ci_upper"]]


def _counts_shown(proportions: pd.DataFrame) -> pd.Series:
    """Per (event, min_grade): whether every group's patients and events are shown (none masked)."""
    shown = proportions["n"].notna() & proportions["events"].notna()
    return shown.groupby([proportions["event"], proportions["min_grade"]]).all()


def _tests(result: ToxicityResult, proportions: pd.DataFrame) -> pd.DataFrame:
    shown = _counts_shown(proportions)
    rows = []
    for t in result.tests.to_dict("records"):
        ok = bool(shown.get((t["event"], t["min_grade"]), False))
        rows.append(
            {"event": t["event"], "min_grade": int(t["min_grade"]), "test": t["test"], "df": t["df"]}
            | {"p": t["p"] if ok else np.nan, "note": (t.get("note") or "") if ok else _NOT_SHOWN}
        )
    return pd.DataFrame(rows, columns=["event", "min_grade", "test", "df", "p", "note"])


def _worst(result: ToxicityResult, policy: ReleasePolicy, keys: ToxicityKeys | None) -> pd.DataFrame:
    categories = grade_categories(policy)
    order = list(dict.fromkeys(categories.values()))
    exact = result.worst_grade.assign(worst_grade=result.worst_grade["worst_grade"].astype(str).map(categories))
    merged = exact.groupby(["group", "event", "worst_grade"], sort=False, as_index=False).agg(
        n=("n", "sum"), total=("total", "first")
    )
    merged["worst_grade"] = pd.Categorical(merged["worst_grade"], categories=order, ordered=True)
    merged = merged.sort_values(["group", "event", "worst_grade"], kind="stable", ignore_index=True)
    merged["worst_grade"] = merged["worst_grade"].astype(str)
    cats = zip(merged["group"].astype(str), merged["event"].astype(str), merged["worst_grade"], strict=True)
    n_keys = [keys.worst.get(c) if keys else None for c in cats]
    total_keys = [keys.groups.get(str(g)) if keys else None for g in merged["group"]]
    n = policy.counts(merged["n"], n_keys)
    total = policy.counts(merged["total"], total_keys)
    percent = [
        100.0 * min(a, b) / b if a is not None and b and b >= policy.curve_min_n else np.nan
        for a, b in zip(n, total, strict=True)
    ]
    return pd.DataFrame(
        {
            "group": merged["group"],
            "event": merged["event"],
            "worst_grade": merged["worst_grade"],
            "n": pd.Series(n, dtype=object),
            "total": pd.Series(total, dtype=object),
            "percent": percent,
        }
    )


def _onset(result: ToxicityResult, policy: ReleasePolicy, keys: ToxicityKeys | None) -> pd.DataFrame:
    onset = result.onset.reset_index(drop=True)
    cells = zip(onset["group"].astype(str), onset["event"].astype(str), onset["min_grade"].astype(int), strict=True)
    event_keys = [keys.cells.get(c, (None, None))[1] if keys else None for c in cells]
    events = policy.counts(onset["events"], event_keys)
    enough = [
        e is not None and (not policy.active or (x >= policy.min_cell and e >= policy.min_cell))
        for e, x in zip(events, onset["events"], strict=True)
    ]
    out = onset[["group", "event", "min_grade"]].copy()
    out["events"] = pd.Series(events, dtype=object)
    for col in ("median_days", "q1_days", "q3_days"):
        out[col] = pd.Series(
            [policy.time(v) if ok else None for v, ok in zip(onset[col], enough, strict=True)], dtype=object
        )
    return out


def release_toxicity(
    result: ToxicityResult,
    policy: ReleasePolicy,
    keys: ToxicityKeys | None,
    coarse: Mapping[tuple[str, int], CIFResult],
) -> ReleasedToxicity:
    """The released copy of ``result`` (module docstring).

    Parameters
    ----------
    result : ToxicityResult
        The exact analysis (``analyses.toxicity.analyze_toxicity``).
    policy : ReleasePolicy
    keys : ToxicityKeys or None
        :func:`toxicity_keys` of the rows ``result`` was computed on (None: round only).
    coarse : mapping
        :func:`coarse_incidence` of the same rows: (event, min_grade) -> the fit on grid-coarsened times.
    """
    proportions = _proportions(result, policy, keys)
    milestone_days = sorted(set(result.cif_milestones["time_days"].astype(float))) if len(result.cif_milestones) else []
    curves, counts, points, gray_rows = [], [], [], []
    drawn: dict[tuple[str, int], dict[str, bool]] = {}
    gray = {(str(g["event"]), int(g["min_grade"])): g for g in result.gray.to_dict("records")}
    counts_shown = _counts_shown(proportions)
    for (event, grade), fit in sorted(coarse.items()):
        released = release_cif(fit, policy, milestone_days, keys.curves.get((event, grade)) if keys else None)
        lead = {"event": event, "min_grade": grade}
        curves.append(released.curve.assign(**lead))
        counts.append(released.counts.assign(**lead))
        points.append(released.milestones.assign(**lead))
        drawn[(event, grade)] = dict(released.drawn)
        if (event, grade) in gray:
            g = gray[(event, grade)]
            ok = all(released.drawn.values()) and bool(counts_shown.get((event, grade), False))
            gray_rows.append(
                lead
                | {"df": g["df"], "p": g["p"] if ok else np.nan}
                | {"note": (g.get("note") or "") if ok else _NOT_SHOWN}
            )
    lead_cols = ["event", "min_grade"]

    def joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
        if not frames:
            return pd.DataFrame(columns=lead_cols)
        out = pd.concat(frames, ignore_index=True)
        return out[lead_cols + [c for c in out.columns if c not in lead_cols]]

    return ReleasedToxicity(
        proportions=proportions,
        tests=_tests(result, proportions),
        worst_grade=_worst(result, policy, keys),
        onset=_onset(result, policy, keys),
        cif=joined(curves),
        cif_counts=joined(counts),
        cif_milestones=joined(points),
        cif_drawn=drawn,
        gray=pd.DataFrame(gray_rows, columns=[*lead_cols, "df", "p", "note"]),
        group_col=result.group_col,
        release=policy.to_dict(),
    )
