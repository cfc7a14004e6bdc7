"""Server-side Cox models for the Cox page and the export: the adjusted model and one unadjusted model
per covariate, hazard ratios side by side, and the proportional-hazards test, suppressed.

Counts (``n``, ``events``) are released by ``disclosure.counts.model_counts``; coefficients are estimates and
are kept. Notes (the analyses' warnings, models not fitted) quote no counts (``reports.notes``).
Results are cached in the service's LRU cache.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analyses.cox import fit_cox
from analyses.results import AnalysisWarning
from ayaall.cohort import CohortSpec
from ayaall.errors import UserError
from disclosure.counts import model_counts, model_keys
from disclosure.policy import policy_for
from reports.formatting import format_p
from reports.notes import caught_notes, count_free
from reports.service import RegistryService, cohort_key

__all__ = ["CoxView", "cox_view"]


@dataclass(frozen=True)
class CoxView:
    """Suppressed Cox models, ready to show.

    Attributes
    ----------
    terms : DataFrame
        term, hr, hr_ci_lower, hr_ci_upper, p, model ("Adjusted" or "Unadjusted"), label (the HR as text).
    ph : DataFrame
        term, statistic, df, p: the adjusted model's proportional-hazards test (cox.zph, KM transform).
    n, events : int or None
        The adjusted model's patients and events (None when masked).
    reference_levels : dict
        Reference level of each text covariate in the adjusted model.
    notes : list of str
    """

    terms: pd.DataFrame
    ph: pd.DataFrame
    n: int | None
    events: int | None
    reference_levels: dict[str, str]
    notes: list[str] = field(default_factory=list)


def cox_view(
    service: RegistryService,
    cohort: CohortSpec,
    endpoint: str,
    origin: str,
    covariates: Sequence[str],
    refs: Mapping[str, str],
    min_cell: int,
) -> CoxView:
    """Adjusted and unadjusted Cox models of ``endpoint`` from ``origin`` (Efron ties), suppressed."""
    if not covariates:
        raise UserError("Choose at least one covariate.")
    cov, ref = list(covariates), dict(refs)
    key = ("cox", cohort_key(cohort), endpoint, origin, tuple(cov), tuple(sorted(ref.items())), min_cell)
    return service.cached(key, lambda: _cox_view(service, cohort, endpoint, origin, cov, ref, min_cell))


def _cox_view(
    service: RegistryService,
    cohort: CohortSpec,
    endpoint: str,
    origin: str,
    cov: list[str],
    refs: dict[str, str],
    min_cell: int,
) -> CoxView:
    frame = service.frame(cohort, endpoint, origin, cov)
    if frame.empty:
        raise UserError(f"No patient of this cohort has an {endpoint} row from {origin}.")
    rows, notes = [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        # the page and the export show the adjusted model's PH test, no concordance and no PH test of the
        # unadjusted models: those are not computed (a large cohort's fit is about a quarter faster)
        adjusted = fit_cox(frame, "time_days", "event_code", cov, ref_levels=refs, with_concordance=False)
        rows.append(_terms(adjusted, "Adjusted"))
        for c in cov:
            try:
                single = fit_cox(
                    frame,
                    "time_days",
                    "event_code",
                    [c],
                    ref_levels={k: v for k, v in refs.items() if k == c},
                    with_concordance=False,
                    with_ph_test=False,
                )
                rows.append(_terms(single, "Unadjusted"))
            except UserError as exc:
                notes.append(f"Unadjusted model for {c} not fitted: {count_free(str(exc))}")
    notes += caught_notes(caught)
    terms = pd.concat(rows, ignore_index=True)
    shown = model_counts(adjusted.n, adjusted.events, len(frame), policy_for(min_cell), _keys(frame, cov, adjusted.n))
    ph = adjusted.ph_test[["term", "statistic", "df", "p"]].copy()
    ref_note = ", ".join(f"{k} = {v}" for k, v in adjusted.reference_levels.items())
    if ref_note:
        notes.insert(0, f"Reference levels: {ref_note}.")
    return CoxView(terms, ph, shown["n"], shown["events"], dict(adjusted.reference_levels), notes)


def _terms(result: Any, model: str) -> pd.DataFrame:
    t = result.terms
    label = [
        f"{hr:.2f} ({lo:.2f}–{hi:.2f}), p {format_p(p) if format_p(p).startswith('<') else '= ' + format_p(p)}"
        for hr, lo, hi, p in zip(t["hr"], t["hr_ci_lower"], t["hr_ci_upper"], t["p"], strict=True)
    ]
    return pd.DataFrame(
        {
            "term": t["term"],
            "hr": t["hr"],
            "hr_ci_lower": t["hr_ci_lower"],
            "hr_ci_upper": t["hr_ci_upper"],
            "p": t["p"],
            "model": model,
            "label": label,
        }
    )


def _keys(frame: pd.DataFrame, columns: list[str], n: int) -> tuple[Any, Any, Any]:
    """The cell keys of a model's counts: its complete cases (rows with every column; None when the fit used
    other rows than those), their events and the rows left out."""
    used = frame[columns].notna().all(axis=1).to_numpy()
    return model_keys(frame, used) if int(used.sum()) == n else (None, None, None)
