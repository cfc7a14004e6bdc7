"""The Survival page's numbers, released: Kaplan–Meier curves, risk table, medians, milestones and tests.

``survival_view`` is what the Survival page shows, what ``ayaall export --figure km`` writes and what
``ayaall analyze km`` prints. The curves and every count come from ``disclosure`` (``release_km``: curves
estimated from rounded counts on the time grid); the log-rank and pairwise tests, the medians (put on the
grid) and the median follow-up are computed on the exact data. Nothing returned holds a patient-level row.
Results are cached in the service's LRU cache, keyed by everything they depend on.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analyses.followup import median_follow_up
from analyses.km import KMResult, fit_km
from analyses.logrank import logrank_test, pairwise_logrank
from analyses.results import AnalysisError, AnalysisWarning
from ayaall.cohort import CohortSpec
from ayaall.endpoints import endpoint_spec
from ayaall.errors import UserError
from ayaall.records import RECORD_KEY
from ayaall.units import DAYS_PER_YEAR, nice_ticks_days, to_unit
from disclosure.cellkey import curve_keys, key_of
from disclosure.curves import counts_at, release_km
from disclosure.groups import OTHER_GROUPS, combine_groups
from disclosure.policy import ReleasePolicy, policy_for
from reports.formatting import NOT_REACHED, percent_with_ci
from reports.notes import caught_notes
from reports.service import RegistryService, cohort_key

__all__ = ["MILESTONE_YEARS", "SurvivalView", "parse_endpoint", "survival_view"]

MILESTONE_YEARS: tuple[float, ...] = (1, 2, 3, 5)
MILESTONE_DAYS: tuple[float, ...] = tuple(y * DAYS_PER_YEAR for y in MILESTONE_YEARS)


def parse_endpoint(value: str | None) -> tuple[str, str]:
    """``"OS/DX"`` -> ``("OS", "DX")``, or raise ``UserError`` naming the valid pairs."""
    endpoint, _, origin = (value or "").partition("/")
    try:
        endpoint_spec(endpoint, origin)
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from exc
    return endpoint, origin


@dataclass(frozen=True)
class SurvivalView:
    """A released Kaplan–Meier analysis, ready to show.

    Attributes
    ----------
    km : KMResult
        The released curves (``disclosure.curves.ReleasedKM.km``): curve rows with a censoring flag and no
        count; summary with released patients and events, medians on the grid; milestones.
    counts : DataFrame
        group, time_days, at_risk, events, censored: the released per-time counts (cumulative events and
        censorings) behind the curves.
    risk_table : DataFrame
        group, time_days, at_risk, censored, events at ``ticks_days`` (cumulative censorings and events),
        as shown (None where masked).
    ticks_days : list of float
    summary, milestones : DataFrame
        The page's display tables.
    logrank : dict or None
        statistic, df, p, method (exact data).
    pairwise : DataFrame or None
        group1, group2, statistic, df, p, p_adjusted, note.
    n, events : int or None
        Released totals.
    follow_up : DataFrame
        group, median_days, ci_lower, ci_upper: median follow-up by reverse Kaplan–Meier, on the grid.
    by : str or None
    combined : list of str
        Groups combined into ``disclosure.groups.OTHER_GROUPS``.
    release : dict
        The release parameters (``ReleasePolicy.to_dict``).
    notes : list of str
    """

    km: KMResult
    counts: pd.DataFrame
    risk_table: pd.DataFrame
    ticks_days: list[float]
    summary: pd.DataFrame
    milestones: pd.DataFrame
    logrank: dict[str, Any] | None
    pairwise: pd.DataFrame | None
    n: int | None
    events: int | None
    follow_up: pd.DataFrame
    by: str | None
    combined: list[str]
    release: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def survival_view(
    service: RegistryService,
    cohort: CohortSpec,
    endpoint: str,
    origin: str,
    by: str | None,
    unit: str,
    min_cell: int,
    *,
    milestone_days: Sequence[float] = MILESTONE_DAYS,
    strata: str | None = None,
    rmst_horizon: float | None = None,
) -> SurvivalView:
    """The released Kaplan–Meier analysis of ``endpoint`` from ``origin`` by ``by`` (None: all patients).

    ``unit`` sets the risk table's ticks; ``strata`` stratifies the log-rank test (the curves are by
    ``by``); ``milestone_days`` are the milestones reported; ``rmst_horizon`` adds the restricted mean
    survival time (exact data) to that day.
    """
    marks = tuple(float(d) for d in milestone_days)
    key = ("survival", cohort_key(cohort), endpoint, origin, by, unit, min_cell, marks, strata, rmst_horizon)
    options = (marks, strata, rmst_horizon)
    return service.cached(
        key, lambda: _survival_view(service, cohort, endpoint, origin, by, unit, policy_for(min_cell), *options)
    )


def _survival_view(
    service: RegistryService,
    cohort: CohortSpec,
    endpoint: str,
    origin: str,
    by: str | None,
    unit: str,
    policy: ReleasePolicy,
    marks: tuple[float, ...],
    strata: str | None,
    rmst_horizon: float | None,
) -> SurvivalView:
    spec = endpoint_spec(endpoint, origin)
    frame = service.frame(cohort, endpoint, origin, [c for c in (by, strata) if c])
    if frame.empty:
        raise AnalysisError(f"No patient of this cohort has a {spec.label} row (the cohort or the origin is empty).")
    notes: list[str] = []
    combined: list[str] = []
    if by is not None:
        frame = frame[frame[by].notna()]
        labels, combined = combine_groups(frame[by].astype(str), policy, keys=frame.get(RECORD_KEY))
        frame = frame.assign(**{by: labels})
        if combined:
            notes.append(f"The smallest groups ({', '.join(combined)}) are combined as '{OTHER_GROUPS}'.")
    if spec.competing_risks:
        notes.append(
            f"{endpoint} has a competing event ({spec.competing}), counted here as censoring; the "
            "Competing risks page shows the cumulative incidence."
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        exact = fit_km(frame, "time_days", "event_code", by, times=marks, rmst_horizon=rmst_horizon)
        coarse_frame = policy.coarsen_frame(frame, ("time_days",))
        coarse = fit_km(coarse_frame, "time_days", "event_code", by, times=())
        follow = median_follow_up(frame, "time_days", "event_code", by)
    notes += caught_notes(caught)
    events_mask = frame["event_code"].to_numpy() == 1
    keys = curve_keys(coarse_frame, by, "time_days", {"events": events_mask, "censored": ~events_mask})
    released = release_km(coarse, exact, policy, marks, keys)
    # the axis and its risk table span the drawn curves (released curves stop well before the last patient)
    drawn_to = released.km.curve["time_days"]
    ticks = nice_ticks_days(float(drawn_to.max()) if len(drawn_to) else float(frame["time_days"].max()), unit)
    logrank, pairwise = _tests(frame, by, strata, len(exact.summary), notes)
    hidden = [g for g, shown in released.drawn.items() if not shown]
    if hidden:
        notes.append(
            f"Curves are drawn for groups of at least {policy.curve_min_n} patients; not drawn: {', '.join(hidden)}."
        )
    if policy.active:
        notes.append(policy.sentence())
    return SurvivalView(
        km=released.km,
        counts=released.counts,
        risk_table=counts_at(released.counts, ticks, policy)[["group", "time_days", "at_risk", "censored", "events"]],
        ticks_days=ticks,
        summary=_summary_table(released.km, unit),
        milestones=_milestone_table(released.km),
        logrank=logrank,
        pairwise=pairwise,
        n=policy.count(len(frame), key_of(frame)),
        events=policy.count(int(events_mask.sum()), key_of(frame, events_mask)),
        follow_up=_follow_up(follow, policy),
        by=by,
        combined=combined,
        release=policy.to_dict(),
        notes=notes,
    )


def _follow_up(follow: pd.DataFrame, policy: ReleasePolicy) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": follow["group"],
            "median_days": [policy.time(v) for v in follow["median_days"]],
            "ci_lower": [policy.time(v) for v in follow["ci_lower"]],
            "ci_upper": [policy.time(v) for v in follow["ci_upper"]],
        }
    )


def _tests(
    frame: pd.DataFrame, by: str | None, strata: str | None, n_groups: int, notes: list[str]
) -> tuple[dict[str, Any] | None, pd.DataFrame | None]:
    if by is None or n_groups < 2:
        return None, None
    try:
        test = logrank_test(frame, "time_days", "event_code", by, strata_col=strata)
    except AnalysisError as exc:
        notes.append(f"Log-rank test not reported: {exc}")
        return None, None
    result = {"statistic": test.statistic, "df": test.df, "p": test.p, "method": test.method, "strata": strata}
    pairwise = None
    if n_groups > 2:
        try:
            pairwise = pairwise_logrank(frame, "time_days", "event_code", by, strata_col=strata)
        except AnalysisError as exc:
            notes.append(f"Pairwise tests not reported: {exc}")
    return result, pairwise


def _fmt_time(days: Any, unit: str) -> str:
    if days is None or (isinstance(days, float) and math.isnan(days)):
        return NOT_REACHED
    return f"{to_unit(float(days), unit):.1f}"


def _summary_table(km: KMResult, unit: str) -> pd.DataFrame:
    s = km.summary
    return pd.DataFrame(
        {
            "Group": s["group"],
            "Patients": s["n"],
            "Events": s["events"],
            f"Median ({unit})": [_fmt_time(v, unit) for v in s["median_days"]],
            "95% CI": [
                f"{_fmt_time(lo, unit)} – {_fmt_time(hi, unit)}"
                for lo, hi in zip(s["median_ci_lower"], s["median_ci_upper"], strict=True)
            ],
        }
    )


def _milestone_table(km: KMResult) -> pd.DataFrame:
    ms = km.milestones
    rows = []
    for group in km.summary["group"]:
        row: dict[str, Any] = {"Group": group}
        for _, m in ms[ms["group"] == group].iterrows():
            years = float(m["time_days"]) / DAYS_PER_YEAR
            row[f"{years:g}-year"] = percent_with_ci(m["survival"], m["ci_lower"], m["ci_upper"])
        rows.append(row)
    return pd.DataFrame(rows)
