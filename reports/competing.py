"""Server-side competing-risks analysis for the Competing risks page and the export: cumulative
incidence (Aalen–Johansen), Gray's test, cause-specific and Fine–Gray hazard ratios, suppressed.

Everything returned is display-ready and holds no patient-level row: curves keep times and estimates
only and stop where fewer than ``min_cell`` remain at risk (``disclosure.display.suppress_cif``);
counts follow ``disclosure.suppression``'s rules; notes quote no counts (``reports.notes``). Tests and
hazard ratios are computed on all the data and returned as numbers (the page formats them). Results are
cached in the service's LRU cache.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import pandas as pd

from analyses.competing import cumulative_incidence, fit_cause_specific_cox, fit_fine_gray, gray_test
from analyses.results import AnalysisWarning
from ayaall.cohort import CohortSpec
from ayaall.endpoints import endpoint_spec
from ayaall.errors import UserError
from disclosure.display import suppress_cif
from reports.notes import caught_notes, count_free
from reports.service import RegistryService, cohort_key

__all__ = ["GRAY_CAUSES", "HR_MODELS", "CompetingView", "competing_view"]

GRAY_CAUSES: tuple[tuple[int, str], ...] = ((1, "event of interest"), (2, "competing event"))
HR_MODELS: tuple[str, str] = ("Cause-specific HR", "Fine–Gray subdistribution HR")


@dataclass(frozen=True)
class CompetingView:
    """A suppressed competing-risks analysis, ready to show.

    Attributes
    ----------
    curve : DataFrame
        group, time_days, cif_event, ci_lower_event, ci_upper_event, cif_competing, ci_lower_competing,
        ci_upper_competing (estimates only).
    summary : DataFrame
        group, n, events (None when masked).
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
    gray: pd.DataFrame | None
    hazard_ratios: pd.DataFrame | None
    reference_level: str | None
    notes: list[str] = field(default_factory=list)


def competing_view(
    service: RegistryService, cohort: CohortSpec, endpoint: str, origin: str, by: str | None, min_cell: int
) -> CompetingView:
    """The competing-risks analysis of ``endpoint`` from ``origin`` by ``by``, suppressed at ``min_cell``.

    Raises ``UserError`` for an endpoint without a competing event or an empty cohort.
    """
    spec = endpoint_spec(endpoint, origin)
    if not spec.competing_risks:
        raise UserError(f"{spec.label} has no competing event; use the Survival page.")
    key = ("competing", cohort_key(cohort), endpoint, origin, by, min_cell)
    return service.cached(key, lambda: _competing_view(service, cohort, endpoint, origin, by, min_cell))


def _competing_view(
    service: RegistryService, cohort: CohortSpec, endpoint: str, origin: str, by: str | None, min_cell: int
) -> CompetingView:
    frame = service.frame(cohort, endpoint, origin, [by] if by else [])
    if frame.empty:
        raise UserError(f"No patient of this cohort has a {endpoint} row from {origin}.")
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        cif = cumulative_incidence(frame, "time_days", "event_code", by)
        gray = _gray(frame, by, notes)
        hazard_ratios, reference = _models(frame, by, notes)
    notes += caught_notes(caught)
    curve, summary = suppress_cif(cif.curve, cif.summary, min_cell)
    return CompetingView(curve, summary, gray, hazard_ratios, reference, notes)


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
