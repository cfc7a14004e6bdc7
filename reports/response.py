"""Response view: remission (CR/CRi/CRh) and MRD-negativity rates by group with Wilson intervals,
suppressed and display-ready.

``response_view`` is what the Response page shows and what the publication export writes. It calls
``analyses.response`` (the rates and intervals are R's ``prop.test(correct = FALSE)``) the way
``ayaall analyze response`` does and returns a frozen ``ResponseView`` holding no patient-level row and
no count from 1 to ``min_cell - 1``. Results are cached in the service's LRU cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analyses.response import response_rates
from analyses.results import AnalysisError
from ayaall.cohort import CohortSpec
from ayaall.errors import UserError
from ayaall.records import RECORD_KEY
from disclosure.cellkey import key_of
from disclosure.groups import combine_groups
from disclosure.policy import policy_for
from disclosure.response import release_response_rates, response_keys, response_totals
from etl.read import response_frame
from reports.formatting import percent_with_ci
from reports.service import RegistryService, cohort_key

__all__ = ["LINES", "OUTCOMES", "ResponseView", "response_view"]

#: line of therapy -> label
LINES = {1: "Frontline (line 1)", 2: "Salvage (line 2)"}
#: outcome (a column of ``analyses.response.response_frame``) -> label
OUTCOMES = {"cr": "Complete remission (CR/CRi/CRh)", "mrd_negative": "MRD-negative remission"}
_DEFINITIONS = {
    "cr": "at least one observed assessment of the line with CR, CRi or CRh",
    "mrd_negative": "at least one such remission assessment with MRD negative",
}


@dataclass(frozen=True)
class ResponseView:
    """Suppressed response rates of one outcome, ready to show or export.

    Attributes
    ----------
    line : int
    outcome : str
    by : str or None
    rates : DataFrame
        group, n, responders (None when masked), rate, ci_lower, ci_upper (NaN when masked): input of
        ``figures.response.response_figure``.
    table : DataFrame
        Group, Patients, Responders, Rate (95% CI) (display).
    n, responders, not_assessed : int or None
        Patients who started the line, responders and patients without an assessment of the line
        (None when masked).
    notes : list of str
    """

    line: int
    outcome: str
    by: str | None
    rates: pd.DataFrame
    table: pd.DataFrame
    n: int | None
    responders: int | None
    not_assessed: int | None
    notes: list[str] = field(default_factory=list)


def response_view(
    service: RegistryService, cohort: CohortSpec, line: int, outcome: str, by: str | None, min_cell: int
) -> ResponseView:
    """``outcome`` rates of the cohort's patients who started ``line``, by ``by``, suppressed.

    Parameters
    ----------
    service : RegistryService
    cohort : CohortSpec
    line : {1, 2}
        Frontline or salvage therapy.
    outcome : {"cr", "mrd_negative"}
        Any CR/CRi/CRh; or an MRD-negative remission (see ``analyses.response``).
    by : str or None
        An ``analysis_patients`` column whose groups are compared (None: all patients).
    min_cell : int
        Small-cell suppression threshold (0 turns it off).

    Raises
    ------
    UserError
        An unknown line or outcome, or no patient who started the line.
    """
    key = ("response", cohort_key(cohort), int(line), outcome, by, min_cell)
    return service.cached(key, lambda: _response_view(service, cohort, int(line), outcome, by, min_cell))


def _response_view(
    service: RegistryService, cohort: CohortSpec, line: int, outcome: str, by: str | None, min_cell: int
) -> ResponseView:
    if line not in LINES:
        raise UserError(f"The line must be 1 (frontline) or 2 (salvage), not {line}.")
    if outcome not in OUTCOMES:
        raise UserError(f"Unknown outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}.")
    frame = _frame(service, cohort, line, by)
    if frame.empty:
        raise AnalysisError(f"No patient in this cohort started line {line}, so there are no rates to report.")
    policy = policy_for(min_cell)
    if by is not None:
        frame = frame[frame[by].notna()]
        frame = frame.assign(**{by: combine_groups(frame[by].astype(str), policy, keys=frame.get(RECORD_KEY))[0]})
    rates = release_response_rates(response_rates(frame, outcome, by), policy, response_keys(frame, outcome, by))
    notes = [
        f"{OUTCOMES[outcome]}: {_DEFINITIONS[outcome]}. Denominator: patients who started the line; a patient "
        "with no assessment counts as a non-responder (intention to treat). 95% Wilson score intervals.",
    ]
    if policy.active:
        notes.append(policy.sentence())
    table = pd.DataFrame(
        {
            "Group": rates["group"],
            "Patients": rates["n"],
            "Responders": rates["responders"],
            "Rate (95% CI)": [
                percent_with_ci(r, lo, hi)
                for r, lo, hi in zip(rates["rate"], rates["ci_lower"], rates["ci_upper"], strict=True)
            ],
        }
    )
    return ResponseView(
        line=line,
        outcome=outcome,
        by=by,
        rates=rates,
        table=table,
        **response_totals(
            len(frame),
            int(frame[outcome].sum()),
            int(frame["not_assessed"].sum()),
            policy,
            (
                key_of(frame),
                key_of(frame, frame[outcome].astype(bool)),
                key_of(frame, frame["not_assessed"].astype(bool)),
            ),
        ),
        notes=notes,
    )


def _frame(service: RegistryService, cohort: CohortSpec, line: int, by: str | None) -> pd.DataFrame:
    """``analyses.response.response_frame`` on the service's connection, cached (server side only)."""

    def compute() -> pd.DataFrame:
        with service.reading() as cur:
            return response_frame(cur, cohort, line, [by] if by else [], keys=True)

    return service.cached(("response_frame", cohort_key(cohort), line, by), compute)
