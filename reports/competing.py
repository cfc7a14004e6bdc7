"""The Competing risks page's numbers, released: cumulative incidence (Aalen–Johansen) of both causes,
the incidence at 1, 2, 3 and 5 years, a number-at-risk table, Gray's test, cause-specific and Fine–Gray
hazard ratios.

The curves and counts come from ``disclosure.incidence.release_cif`` (estimated from rounded counts on the
time grid); tests and hazard ratios are computed on the exact data. Nothing returned holds a patient-level
row; notes quote no counts (``reports.notes``). ``ayaall analyze cif`` and ``ayaall export --figure cif``
show the same view. Results are cached in the service's LRU cache.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analyses.competing import cumulative_incidence, fit_cause_specific_cox, fit_fine_gray, gray_test
from analyses.results import AnalysisWarning
from ayaall.cohort import CohortSpec
from ayaall.endpoints import endpoint_spec
from ayaall.errors import UserError
from ayaall.records import RECORD_KEY
from ayaall.units import DAYS_PER_YEAR, nice_ticks_days
from disclosure.cellkey import curve_keys, key_of
from disclosure.curves import counts_at
from disclosure.groups import OTHER_GROUPS, combine_groups
from disclosure.incidence import release_cif
from disclosure.policy import ReleasePolicy, policy_for
from reports.notes import caught_notes, count_free
from reports.service import RegistryService, cohort_key

__all__ = ["GRAY_CAUSES", "HR_MODELS", "MILESTONE_YEARS", "CompetingView", "competing_view"]

MILESTONE_YEARS: tuple[float, ...] = (1, 2, 3, 5)
MILESTONE_DAYS: tuple[float, ...] = tuple(y * DAYS_PER_YEAR for y in MILESTONE_YEARS)

GRAY_CAUSES: tuple[tuple[int, str], ...] = ((1, "event of interest"), (2, "competing event"))
HR_MODELS: tuple[str, str] = ("Cause-specific HR", "Fine–Gray subdistribution HR")


@dataclass(frozen=True)
class CompetingView:
    """A released competing-risks analysis, ready to show.

    Attributes
    ----------
    curve : DataFrame
        group, time_days, cif_event, ci_lower_event, ci_upper_event, cif_competing, ci_lower_competing,
        ci_upper_competing (estimates only).
    summary : DataFrame
        group, n, events, competing_events (None when masked).
    milestones : DataFrame
        group, time_days and both causes' incidence with 95% interval at ``MILESTONE_YEARS``.
    risk_table : DataFrame
        group, time_days, at_risk, events, competing_events, censored at ``ticks_days`` (cumulative).
    ticks_days : list of float
    counts : DataFrame
        The released per-time counts behind the curves.
    n, events, competing_events : int or None
        The cohort's patients, events and competing events, released.
    release : dict
    combined : list of str
        Groups combined into ``disclosure.groups.OTHER_GROUPS``.
    gray : DataFrame or None
        cause, statistic, df, p: Gray's test per cause (None without two or more groups).
    hazard_ratios : DataFrame or None
        term, model, hr, hr_ci_lower, hr_ci_upper, p for the event of interest.
    reference_level : str or None
        The grouping column's reference level in the hazard ratio models.
    notes : list of str
    """

    curve: pd.DataFrame
    summary: pd.DataFrame
    milestones: pd.DataFrame
    risk_table: pd.DataFrame
    ticks_days: list[float]
    counts: pd.DataFrame
    n: int | None
    events: int | None
    competing_events: int | None
    release: dict[str, Any]
    combined: list[str]
    gray: pd.DataFrame | None
    hazard_ratios: pd.DataFrame | None
    reference_level: str | None
    notes: list[str] = field(default_factory=list)


def competing_view(
    service: RegistryService,
    cohort: CohortSpec,
    endpoint: str,
    origin: str,
    by: str | None,
    min_cell: int,
    unit: str = "months",
    milestone_days: tuple[float, ...] = MILESTONE_DAYS,
) -> CompetingView:
    """The competing-risks analysis of ``endpoint`` from ``origin`` by ``by``, suppressed at ``min_cell``.

    Raises ``UserError`` for an endpoint without a competing event or an empty cohort.
    """
    spec = endpoint_spec(endpoint, origin)
    if not spec.competing_risks:
        raise UserError(f"{spec.label} has no competing event; use the Survival page.")
    marks = tuple(float(d) for d in milestone_days)
    key = ("competing", cohort_key(cohort), endpoint, origin, by, min_cell, unit, marks)
    return service.cached(
        key, lambda: _competing_view(service, cohort, endpoint, origin, by, policy_for(min_cell), unit, marks)
    )


def _competing_view(
    service: RegistryService,
    cohort: CohortSpec,
    endpoint: str,
    origin: str,
    by: str | None,
    policy: ReleasePolicy,
    unit: str,
    marks: tuple[float, ...],
) -> CompetingView:
    frame = service.frame(cohort, endpoint, origin, [by] if by else [])
    if frame.empty:
        raise UserError(f"No patient of this cohort has a {endpoint} row from {origin}.")
    notes: list[str] = []
    combined: list[str] = []
    if by is not None:
        frame = frame[frame[by].notna()]
        labels, combined = combine_groups(frame[by].astype(str), policy, keys=frame.get(RECORD_KEY))
        frame = frame.assign(**{by: labels})
        if combined:
            notes.append(f"The smallest groups ({', '.join(combined)}) are combined as '{OTHER_GROUPS}'.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        coarse_frame = policy.coarsen_frame(frame, ("time_days",))
        coarse = cumulative_incidence(coarse_frame, "time_days", "event_code", by)
        gray = _gray(frame, by, notes)
        hazard_ratios, reference = _models(frame, by, notes)
    notes += caught_notes(caught)
    code = frame["event_code"].to_numpy()
    ways = {"events": code == 1, "competing_events": code == 2, "censored": code == 0}
    released = release_cif(coarse, policy, marks, curve_keys(coarse_frame, by, "time_days", ways))
    drawn_to = released.curve["time_days"]  # the axis and its risk table span the drawn curves
    ticks = nice_ticks_days(float(drawn_to.max()) if len(drawn_to) else float(frame["time_days"].max()), unit)
    if policy.active:
        notes.append(policy.sentence())
    return CompetingView(
        curve=released.curve,
        summary=released.summary,
        milestones=released.milestones,
        risk_table=_risk_table(released, ticks, policy),
        ticks_days=ticks,
        counts=released.counts,
        n=policy.count(len(frame), key_of(frame)),
        events=policy.count(int((code == 1).sum()), key_of(frame, code == 1)),
        competing_events=policy.count(int((code == 2).sum()), key_of(frame, code == 2)),
        release=policy.to_dict(),
        combined=combined,
        gray=gray,
        hazard_ratios=hazard_ratios,
        reference_level=reference,
        notes=notes,
    )


def _risk_table(released: Any, ticks: list[float], policy: ReleasePolicy) -> pd.DataFrame:
    """The released counts at the figure's ticks: at risk, and cumulative events of both causes and
    censorings (as shown)."""
    return counts_at(released.counts, ticks, policy)[
        ["group", "time_days", "at_risk", "events", "competing_events", "censored"]
    ]


def _gray(frame: pd.DataFrame, by: str | None, notes: list[str]) -> pd.DataFrame | None:
    if by is None or frame[by].nunique() < 2:
        return None
    rows = []
    for code, label in GRAY_CAUSES:
        try:
            t = gray_test(frame, "time_days", "event_code", by, event=code, competing=3 - code)
            rows.append({"cause": label, "statistic": t.statistic, "df": t.df, "p": t.p})
        except UserError as exc:
            notes.append(f"Gray's test ({label}) not reported: {count_free(str(exc))}")
    return pd.DataFrame(rows, columns=["cause", "statistic", "df", "p"]) if rows else None


def _models(frame: pd.DataFrame, by: str | None, notes: list[str]) -> tuple[pd.DataFrame | None, str | None]:
    if by is None or frame[by].nunique() < 2:
        return None, None
    try:
        cs = fit_cause_specific_cox(frame, "time_days", "event_code", [by])
        fg = fit_fine_gray(frame, "time_days", "event_code", [by])
    except UserError as exc:
        notes.append(f"Hazard ratios not reported: {count_free(str(exc))}")
        return None, None
    columns = ["term", "hr", "hr_ci_lower", "hr_ci_upper", "p"]
    table = pd.concat(
        [t[columns].assign(model=name) for name, t in zip(HR_MODELS, (cs.terms, fg.terms), strict=True)],
        ignore_index=True,
    )
    return table[["term", "model", *columns[1:]]], cs.reference_levels.get(by)
