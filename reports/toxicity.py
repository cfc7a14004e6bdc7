"""Toxicity view: the toxicities of a line of therapy by group, released and display-ready.

``toxicity_view`` is what the Toxicity page shows, what ``ayaall analyze toxicity`` prints and what the
``toxicity`` export writes: ``analyses.toxicity.analyze_toxicity`` on the cohort's patients who started
the line (``etl.read.load_toxicity_frame``, with record keys), released by
``disclosure.toxicity.release_toxicity``. The frozen ``ToxicityView`` holds no patient-level row and no
count a release did not pass. Results are cached in the service's LRU cache.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analyses.results import AnalysisError, AnalysisWarning
from analyses.toxicity import analyze_toxicity
from ayaall.cohort import CohortSpec
from ayaall.contract import AE_EVENTS
from ayaall.errors import UserError
from ayaall.records import RECORD_KEY
from ayaall.units import DAYS_PER_YEAR, nice_ticks_days
from disclosure.cellkey import key_of
from disclosure.curves import counts_at
from disclosure.groups import OTHER_GROUPS, combine_groups
from disclosure.policy import ReleasePolicy, policy_for
from disclosure.toxicity import ReleasedToxicity, coarse_incidence, release_toxicity, toxicity_keys
from etl.read import load_toxicity_frame
from reports.notes import caught_notes, count_free
from reports.service import RegistryService, cohort_key

__all__ = [
    "ASTCT_EVENTS",
    "DEFAULT_BY",
    "EVENTS",
    "GRADES",
    "LINES",
    "MILESTONE_DAYS",
    "ToxicityView",
    "event_label",
    "milestone_label",
    "toxicity_view",
]

#: line of therapy -> label
LINES = {1: "Frontline (line 1)", 2: "First salvage (line 2)"}
#: grade threshold -> label
GRADES = {1: "Any grade", 3: "Grade 3 or worse"}
#: the toxicities of the extract (``ayaall.contract.AE_EVENTS``)
EVENTS: tuple[str, ...] = AE_EVENTS
#: toxicities graded by the ASTCT 2019 consensus (the others by CTCAE v5.0)
ASTCT_EVENTS = ("CRS", "ICANS")
#: the default grouping: the line's own regimen (a column of the toxicity rows)
DEFAULT_BY = "regimen"
_LABELS = {
    "CRS": "Cytokine release syndrome",
    "ICANS": "ICANS",
    "NEUROTOXICITY": "Neurotoxicity",
    "VOD_SOS": "VOD/SOS",
    "INFECTION": "Infection",
    "FEBRILE_NEUTROPENIA": "Febrile neutropenia",
    "TLS": "Tumour lysis syndrome",
    "PANCREATITIS": "Pancreatitis",
    "THROMBOSIS": "Thrombosis",
    "HEPATOTOXICITY": "Hepatotoxicity",
    "OSTEONECROSIS": "Osteonecrosis",
    "OTHER": "Other toxicity",
}


#: the days at which the cumulative incidence of a toxicity is reported: the conventional day 30 and day 100
#: (CRS, ICANS, VOD/SOS, early infections) and one year
MILESTONE_DAYS: tuple[float, ...] = (30.0, 100.0, DAYS_PER_YEAR)
#: the shortest time axis of a toxicity's curves
MIN_AXIS_DAYS = 30.0


def milestone_label(days: float) -> str:
    """A milestone in words: "Day 30", "Day 100", "1 year"."""
    years = days / DAYS_PER_YEAR
    if days >= DAYS_PER_YEAR and abs(years - round(years)) < 1e-9:
        return f"{round(years)} year" + ("s" if round(years) > 1 else "")
    return f"Day {days:g}"


def event_label(event: str) -> str:
    """A toxicity's label (its code where none is defined)."""
    return _LABELS.get(event, event)


@dataclass(frozen=True)
class ToxicityView:
    """A released toxicity analysis of one line, ready to show or export.

    Attributes
    ----------
    line : int
    by : str or None
    events : tuple of str
        The toxicities analysed.
    released : ReleasedToxicity
        Every released table (``disclosure.toxicity``).
    risk_table : DataFrame
        event, min_grade, group, time_days, at_risk, events, competing_events, censored at
        ``ticks_days`` (cumulative, as shown).
    ticks_days : dict
        Toxicity -> the days of its time axis ticks (and of its risk table).
    n : int or None
        Patients who started the line (released).
    release : dict
    combined : list of str
        Groups combined into ``disclosure.groups.OTHER_GROUPS``.
    notes : list of str
    """

    line: int
    by: str | None
    events: tuple[str, ...]
    released: ReleasedToxicity
    risk_table: pd.DataFrame
    ticks_days: dict[str, list[float]]
    n: int | None
    release: dict[str, Any]
    combined: list[str]
    notes: list[str] = field(default_factory=list)


def toxicity_view(
    service: RegistryService,
    cohort: CohortSpec,
    line: int,
    by: str | None,
    min_cell: int,
    events: Sequence[str] | None = None,
    unit: str = "months",
) -> ToxicityView:
    """The toxicities ``events`` (default: all) of the cohort's patients who started ``line``, by ``by``.

    Parameters
    ----------
    line : {1, 2}
        Frontline or first salvage therapy.
    by : str or None
        ``"regimen"`` (the line's regimen), an ``analysis_patients`` column, or None (all patients).
    min_cell : int
        The release threshold (``disclosure.policy``; 0 turns disclosure control off).

    Raises
    ------
    UserError
        An unknown line, toxicity or column, or no patient who started the line.
    """
    if isinstance(line, bool) or line not in LINES:
        raise UserError(f"The line must be 1 (frontline) or 2 (first salvage), not {line!r}.")
    chosen = tuple(EVENTS if events is None else dict.fromkeys(events))
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown or not chosen:
        raise UserError(
            f"{', '.join(map(repr, unknown)) or 'No toxicity'} is not a toxicity of the extract; choose among "
            f"{', '.join(EVENTS)}."
        )
    if min_cell < 0:
        raise UserError(f"The minimum cell size must be 0 or more, not {min_cell}.")
    key = ("toxicity", cohort_key(cohort), int(line), by, min_cell, chosen, unit)
    policy = policy_for(min_cell)
    return service.cached(key, lambda: _toxicity_view(service, cohort, int(line), by, policy, chosen, unit))


def _toxicity_view(
    service: RegistryService,
    cohort: CohortSpec,
    line: int,
    by: str | None,
    policy: ReleasePolicy,
    events: tuple[str, ...],
    unit: str,
) -> ToxicityView:
    frame = _frame(service, cohort, line, by)
    frame = frame[frame["event"].isin(events)]
    if frame.empty:
        raise AnalysisError(f"No patient in this cohort started line {line}, so there is no toxicity to report.")
    notes = [
        "Toxicities attributed to the line from its start to the start of the next line or the end of follow-up, "
        "whichever comes first; death before the toxicity is a competing event. CRS and ICANS are graded by the "
        "ASTCT 2019 consensus, the others by CTCAE v5.0; 'any grade' includes an unknown grade. Proportions "
        "among the patients who started the line, with 95% Wilson score intervals.",
    ]
    combined: list[str] = []
    if by is not None:
        frame = frame[frame[by].notna()]
        patients = frame.drop_duplicates("patient_id")
        labels, combined = combine_groups(
            patients[by].astype(str),
            policy,
            keys=patients.get(RECORD_KEY),  # one row per patient
        )
        mapping = dict(zip(patients["patient_id"], labels, strict=True))
        frame = frame.assign(**{by: frame["patient_id"].map(mapping)})
        if combined:
            notes.append(f"The smallest groups ({', '.join(combined)}) are combined as '{OTHER_GROUPS}'.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AnalysisWarning)
        result = analyze_toxicity(frame, by, times=MILESTONE_DAYS)
        coarse = coarse_incidence(frame, by, policy, times=MILESTONE_DAYS)
    notes += caught_notes(caught) + [count_free(n) for n in result.notes]
    released = release_toxicity(result, policy, toxicity_keys(frame, by, policy), coarse)
    ticks = _ticks(released, events, float(frame["time_days"].max()), unit)
    if policy.active:
        notes.append(policy.sentence())
    patients = frame.drop_duplicates("patient_id")
    return ToxicityView(
        line=line,
        by=by,
        events=events,
        released=released,
        risk_table=_risk_table(released, ticks, policy),
        ticks_days=ticks,
        n=policy.count(len(patients), key_of(patients)),
        release=policy.to_dict(),
        combined=combined,
        notes=list(dict.fromkeys(notes)),
    )


def _ticks(released: ReleasedToxicity, events: Sequence[str], longest: float, unit: str) -> dict[str, list[float]]:
    """Each toxicity's time axis ticks: to the last day its cumulative incidence rises (either threshold),
    at least ``MIN_AXIS_DAYS``, so that a CRS curve, complete within days, is not drawn against years of
    deaths; the same axis whether one toxicity or all are shown. Without any toxicity, ``MIN_AXIS_DAYS``."""
    out = {}
    for event in events:
        cif = released.cif[released.cif["event"] == event]
        rising = []
        for _, curve in cif.groupby(["min_grade", "group"], sort=False):
            values = curve["cif_event"].astype(float).to_numpy()
            steps = curve["time_days"].astype(float).to_numpy()[1:][values[1:] > values[:-1]]
            rising.extend(steps[-1:])
        end = max([MIN_AXIS_DAYS, *rising]) if len(cif) else MIN_AXIS_DAYS
        ticks = nice_ticks_days(end, unit)
        while len(ticks) < 3 and end < longest:  # at least two steps of the unit (a month is 30 days)
            end *= 2
            ticks = nice_ticks_days(end, unit)
        out[event] = ticks
    return out


def _risk_table(released: ReleasedToxicity, ticks: dict[str, list[float]], policy: ReleasePolicy) -> pd.DataFrame:
    columns = ["event", "min_grade", "group", "time_days", "at_risk", "events", "competing_events", "censored"]
    parts = []
    counts = released.cif_counts
    if not len(counts):
        return pd.DataFrame(columns=columns)
    for (event, grade), cell in counts.groupby(["event", "min_grade"], sort=True):
        table = counts_at(cell.drop(columns=["event", "min_grade"]), ticks[str(event)], policy)
        parts.append(table.assign(event=event, min_grade=int(grade)))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return out[columns]


def _frame(service: RegistryService, cohort: CohortSpec, line: int, by: str | None) -> pd.DataFrame:
    """The cohort's toxicity rows of ``line`` with record keys (server side only), cached."""
    columns = [by] if by and by != DEFAULT_BY else []

    def compute() -> pd.DataFrame:
        with service.reading() as cur:
            return load_toxicity_frame(cur, cohort, line, columns=columns, keys=True)

    return service.cached(("toxicity_frame", cohort_key(cohort), line, tuple(columns)), compute)
