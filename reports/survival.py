"""Server-side analysis runs for the pages: call ``analyses/``, suppress, and return display-ready tables.

Everything returned here is already suppressed (``disclosure.suppression`` and ``disclosure.display``)
and holds no patient-level row, so a callback can hand it to a figure builder or a table without
further thought. Results are cached in the service's LRU cache, keyed by everything they depend on.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analyses.km import KMResult, fit_km
from analyses.logrank import logrank_test, pairwise_logrank
from analyses.results import AnalysisError, AnalysisWarning
from ayaall.cohort import CohortSpec
from ayaall.endpoints import endpoint_spec
from ayaall.errors import UserError
from ayaall.units import DAYS_PER_YEAR, nice_ticks_days
from disclosure.display import curve_for_display
from disclosure.suppression import km_risk_table, mask_count, suppress_km
from reports.service import RegistryService, cohort_key

__all__ = ["MILESTONE_YEARS", "SurvivalView", "parse_endpoint", "survival_view"]

MILESTONE_YEARS: tuple[float, ...] = (1, 2, 3, 5)


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
    """A suppressed Kaplan–Meier analysis, ready to show."""

    km: KMResult  # suppressed
    risk_table: pd.DataFrame  # suppressed
    ticks_days: list[float]
    summary: pd.DataFrame  # display table
    milestones: pd.DataFrame  # display table
    logrank: dict[str, Any] | None
    pairwise: pd.DataFrame | None
    n: int | None
    events: int | None
    notes: list[str] = field(default_factory=list)


def survival_view(
    service: RegistryService, cohort: CohortSpec, endpoint: str, origin: str, by: str | None, unit: str, min_cell: int
) -> SurvivalView:
    key = ("survival", cohort_key(cohort), endpoint, origin, by, unit, min_cell)
    return service.cached(key, lambda: _survival_view(service, cohort, endpoint, origin, by, unit, min_cell))


def _survival_view(
    service: RegistryService, cohort: CohortSpec, endpoint: str, origin: str, by: str | None, unit: str, min_cell: int
) -> SurvivalView:
    spec = endpoint_spec(endpoint, origin)
    frame = service.frame(cohort, endpoint, origin, [by] if by else [])
    if frame.empty:
        raise AnalysisError(f"No patient of this cohort has a {spec.label} row (the cohort or the origin is empty).")
    if by is not None and frame[by].isna().any():
        frame = frame[frame[by].notna()]
    notes: list[str] = []
    if spec.competing_risks:
        notes.append(
            f"{endpoint} has a competing event ({spec.competing}), counted here as censoring; the "
            "Competing risks page shows the cumulative incidence."
        )
    ticks = nice_ticks_days(float(frame["time_days"].max()), unit)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        # one fit: the milestones are its times; the risk table at the ticks is read off its curve
        km = fit_km(frame, "time_days", "event_code", by, times=[y * DAYS_PER_YEAR for y in MILESTONE_YEARS])
    notes += [str(w.message) for w in caught if issubclass(w.category, AnalysisWarning)]
    shown, hide = suppress_km(km, min_cell)
    logrank, pairwise = _tests(frame, by, len(km.summary), notes)
    if min_cell:
        notes.append(
            f"Small-cell suppression: counts of 1 to {min_cell - 1}, and counts that would reveal them, "
            f"are shown as —; each curve stops at the last time with at least {min_cell} patients at risk."
        )
    return SurvivalView(
        km=curve_for_display(shown, km),
        risk_table=km_risk_table(km, ticks, min_cell),
        ticks_days=ticks,
        summary=_summary_table(shown, unit),
        milestones=_milestone_table(shown),
        logrank=logrank,
        pairwise=pairwise,
        n=None if hide["n"] else mask_count(len(frame), min_cell),
        events=None if hide["events"] else mask_count(int((frame["event_code"] == 1).sum()), min_cell),
        notes=notes,
    )


def _tests(
    frame: pd.DataFrame, by: str | None, n_groups: int, notes: list[str]
) -> tuple[dict[str, Any] | None, pd.DataFrame | None]:
    if by is None or n_groups < 2:
        return None, None
    try:
        test = logrank_test(frame, "time_days", "event_code", by)
    except AnalysisError as exc:
        notes.append(f"Log-rank test not reported: {exc}")
        return None, None
    result = {"statistic": test.statistic, "df": test.df, "p": test.p, "method": test.method}
    pairwise = None
    if n_groups > 2:
        try:
            pairwise = pairwise_logrank(frame, "time_days", "event_code", by)
        except AnalysisError as exc:
            notes.append(f"Pairwise tests not reported: {exc}")
    return result, pairwise


def _fmt_time(days: Any, unit: str) -> str:
    from ayaall.units import to_unit

    if days is None or (isinstance(days, float) and math.isnan(days)):
        return "NR"
    return f"{to_unit(float(days), unit):.1f}"


def _summary_table(shown: KMResult, unit: str) -> pd.DataFrame:
    s = shown.summary
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


def _pct(v: Any) -> str:
    return "–" if v is None or pd.isna(v) else f"{float(v):.1%}"


def _milestone_table(shown: KMResult) -> pd.DataFrame:
    ms = shown.milestones
    rows = []
    for group in shown.summary["group"]:
        row: dict[str, Any] = {"Group": group}
        for _, m in ms[ms["group"] == group].iterrows():
            years = float(m["time_days"]) / DAYS_PER_YEAR
            row[f"{years:g}-year"] = (
                f"{_pct(m['survival'])} ({_pct(m['ci_lower'])}–{_pct(m['ci_upper'])})"
                if pd.notna(m["survival"])
                else "–"
            )
        rows.append(row)
    return pd.DataFrame(rows)
