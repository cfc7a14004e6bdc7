"""Treatment-timing view: landmark, Simon–Makuch, Mantel–Byar and time-varying Cox for an exposure that
starts after time zero (transplant, CAR-T), suppressed and display-ready.

``timing_view`` is what the Treatment timing page shows and what the publication export writes: it calls
``analyses.timing`` (validated against R), applies small-cell suppression, and returns a frozen
``TimingView`` holding no patient-level row and no count from 1 to ``min_cell - 1``. Results are cached in
the service's LRU cache under a key naming every input.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analyses.counting import start_stop_frame
from analyses.cox import fit_cox
from analyses.cox_counting import fit_cox_counting
from analyses.landmark import fit_landmark, mantel_byar_test, simon_makuch
from analyses.results import AnalysisError
from ayaall.cohort import CohortSpec
from ayaall.endpoints import endpoint_spec
from ayaall.errors import UserError
from ayaall.exposures import EXPOSURE_LABELS, EXPOSURES, post_baseline
from ayaall.records import RECORD_KEY
from ayaall.units import DAYS_PER_YEAR
from disclosure.cellkey import key_of
from disclosure.counts import count_columns, model_counts, model_keys
from disclosure.policy import ReleasePolicy, policy_for
from disclosure.treatment import (
    LandmarkTables,
    landmark_keys,
    release_landmarks,
    release_simon_makuch,
    simon_makuch_count_keys,
    simon_makuch_keys,
)
from etl.read import exposure_frame
from reports.formatting import format_days, format_p, format_time, hr_label, milestone_columns
from reports.notes import caught_notes
from reports.service import RegistryService, cohort_key

__all__ = [
    "COX_MODELS",
    "DEFAULT_LANDMARKS",
    "LANDMARK_CHOICES",
    "LANDMARK_MILESTONE_YEARS",
    "TimingView",
    "landmark_groups_in",
    "simon_makuch_display",
    "timing_view",
]

#: landmark days offered by the page (any non-negative day works in ``timing_view``)
LANDMARK_CHOICES: tuple[int, ...] = (30, 60, 90, 100, 180, 270, 365, 540, 730, 1095)
#: survival reported at these years after each landmark
LANDMARK_MILESTONE_YEARS: tuple[float, ...] = (1, 2, 3)
#: the page's landmarks until others are chosen (days from time zero)
DEFAULT_LANDMARKS: tuple[int, ...] = (180, 365)
#: the Cox models of the exposure: time-fixed (biased, model-based SE), time-varying, time-varying adjusted
#: (both with robust SE clustered on patient)
COX_MODELS: tuple[str, str, str] = ("Ever vs never (time-fixed, biased)", "Time-varying", "Time-varying, adjusted")
_NAIVE, _TV, _TV_ADJ = COX_MODELS
#: the adjustment covariate "had the exposure before time zero" (a column of the exposure frame, not of
#: analysis_patients: it depends on the time zero)
PRIOR_EXPOSURE = "prior_exposure"
PRIOR_EXPOSURE_LABEL = "The exposure before time zero"


@dataclass(frozen=True)
class TimingView:
    """A suppressed treatment-timing analysis, ready to show or export.

    Attributes
    ----------
    exposure, endpoint, origin : str
    landmarks_days : tuple of float
        Landmarks analysed, in days from time zero, sorted.
    n : int or None
        Patients with a row of the endpoint (released).
    n_exposed_at_start : int or None
        Patients exposed on the day of time zero (released): exposed from the start.
    n_prior_exposure : int or None
        Patients who had the exposure before time zero (released): a baseline fact, not the exposure
        (``etl.read.exposure_frame``); they count as exposed only from a later one. ``PRIOR_EXPOSURE``
        adjusts for it.
    release : dict
        The release parameters.
    landmark_curve : DataFrame
        landmark_days, group ("exposed"/"unexposed"), time_days (from the landmark), survival, ci_lower,
        ci_upper, censored (a flag, no count): input of ``figures.landmark.landmark_figure``.
    landmark_table : DataFrame
        One row per landmark: at risk, exposed by then, not exposed, log-rank test, note (display).
    landmark_groups : DataFrame
        Per landmark and group: patients, events, median and milestone survival after the landmark.
    landmark_tests : DataFrame
        The landmark table as numbers: landmark_days, at_risk, exposed, not_exposed (masked: None),
        statistic, df, p (log-rank), note.
    landmark_estimates : DataFrame
        Per landmark and group, as numbers: landmark_days, group, n, events (masked: None), median_days.
    landmark_milestones : DataFrame
        landmark_days, group, time_days (after the landmark), survival, ci_lower, ci_upper.
    simon_makuch : DataFrame
        group, time_days, survival, ci_lower, ci_upper (no counts): input of ``simon_makuch_figure``.
    simon_makuch_summary : DataFrame
        Per group: patients who contributed time, events, median (display).
    simon_makuch_groups : DataFrame
        The same as numbers: group, n, events (masked: None), median_days.
    mantel_byar : dict or None
        statistic, df, p, method.
    hazard_ratios : DataFrame
        term, hr, hr_ci_lower, hr_ci_upper, p, model: input of ``forest_figure``.
    cox_table : DataFrame
        Model, Term, HR (95% CI), p, Patients, Events (display).
    notes : list of str
    """

    exposure: str
    endpoint: str
    origin: str
    landmarks_days: tuple[float, ...]
    n: int | None
    n_exposed_at_start: int | None
    n_prior_exposure: int | None
    release: dict[str, Any]
    landmark_curve: pd.DataFrame
    landmark_table: pd.DataFrame
    landmark_groups: pd.DataFrame
    landmark_tests: pd.DataFrame
    landmark_estimates: pd.DataFrame
    landmark_milestones: pd.DataFrame
    simon_makuch: pd.DataFrame
    simon_makuch_summary: pd.DataFrame
    simon_makuch_groups: pd.DataFrame
    mantel_byar: dict[str, Any] | None
    hazard_ratios: pd.DataFrame
    cox_table: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def timing_view(
    service: RegistryService,
    cohort: CohortSpec,
    exposure: str,
    endpoint: str,
    origin: str,
    landmarks: Sequence[float],
    adjust: Sequence[str],
    min_cell: int,
) -> TimingView:
    """The treatment-timing analyses of ``exposure`` on ``endpoint`` from ``origin``, suppressed.

    Parameters
    ----------
    service : RegistryService
    cohort : CohortSpec
    exposure : {"hct", "car_t"}
        A transplant or a CAR-T therapy: the first one on or after time zero (``etl.read.exposure_frame``).
    endpoint, origin : str
        An (endpoint, time zero) pair of endpoints.md, e.g. ``"OS"``, ``"DX"``; the exposure must be one
        that starts after that time zero (``ayaall.exposures.post_baseline``).
    landmarks : sequence of float
        Landmark days from time zero (e.g. ``[180, 365]``).
    adjust : sequence of str
        ``analysis_patients`` columns to adjust the time-varying Cox model for (may be empty), and
        ``PRIOR_EXPOSURE``: the exposure before time zero.
    min_cell : int
        Small-cell suppression threshold (0 turns it off).

    Raises
    ------
    UserError
        An unknown or baseline exposure, no landmark, an empty cohort, or data that cannot support the
        analyses (the message says why in one sentence).
    """
    marks = tuple(sorted({policy_for(min_cell).snap_landmark(float(v)) for v in landmarks}))
    key = ("timing", cohort_key(cohort), exposure, endpoint, origin, marks, tuple(adjust), min_cell)
    return service.cached(
        key, lambda: _timing_view(service, cohort, exposure, endpoint, origin, marks, list(adjust), min_cell)
    )


def _check(exposure: str, endpoint: str, origin: str, marks: tuple[float, ...], adjust: list[str]) -> None:
    if exposure not in EXPOSURES:
        raise UserError(f"Unknown exposure {exposure!r}; expected one of {', '.join(EXPOSURES)}.")
    try:
        spec = endpoint_spec(endpoint, origin)
    except KeyError as exc:
        raise UserError(str(exc.args[0])) from exc
    if exposure not in post_baseline(origin):
        raise UserError(
            f"{EXPOSURE_LABELS[exposure]} cannot start after time zero of {spec.label}: every patient with a "
            f"{origin} row has had it by then. Choose another endpoint and time zero."
        )
    if not marks:
        raise UserError("Choose at least one landmark day.")
    if any(not np.isfinite(m) or m < 0 for m in marks):
        raise UserError("Landmarks are days from time zero: 0 or more.")
    if exposure in adjust:
        raise UserError(f"{exposure} is the exposure; it cannot also be an adjustment covariate.")


def _timing_view(
    service: RegistryService,
    cohort: CohortSpec,
    exposure: str,
    endpoint: str,
    origin: str,
    marks: tuple[float, ...],
    adjust: list[str],
    min_cell: int,
) -> TimingView:
    """The view, from three parts cached on their own: changing the landmarks refits only the landmark
    curves, changing the adjustment only the adjusted Cox model."""
    _check(exposure, endpoint, origin, marks, adjust)
    policy = policy_for(min_cell)
    spec = endpoint_spec(endpoint, origin)
    frame = _exposure_frame(service, cohort, endpoint, origin, exposure, [])
    if frame.empty:
        raise AnalysisError(f"No patient of this cohort has a {spec.label} row (the cohort or the origin is empty).")
    notes: list[str] = []
    if spec.competing_risks:
        notes.append(f"{endpoint} has a competing event ({spec.competing}), counted here as censoring.")
    later = [c for c in adjust if c in post_baseline(origin)]
    if later:
        notes.append(
            f"{', '.join(later)} {'is' if len(later) == 1 else 'are'} only known after time zero ({origin}); "
            "adjusting for it conditions on the future."
        )
    at_start = (frame["exposure_days"] <= 0) & (frame["exposure_days"] < frame["time_days"])
    early = int(at_start.sum())
    n_exposed_at_start = policy.count(early, key_of(frame, at_start))
    if early:
        shown = n_exposed_at_start
        notes.append(
            f"{f'{shown:,} patients' if shown is not None else 'A few patients'} had "
            f"{EXPOSURE_LABELS[exposure]} on the day of time zero; they count as exposed from the start."
        )
    prior = frame[PRIOR_EXPOSURE].to_numpy(dtype=bool)
    n_prior = policy.count(int(prior.sum()), key_of(frame, prior))
    if prior.any():
        who = f"{n_prior:,} patients" if n_prior is not None else "A few patients"
        advice = (
            "" if PRIOR_EXPOSURE in adjust else f"; adjust for it ({PRIOR_EXPOSURE_LABEL.lower()}) or leave them out"
        )
        notes.append(
            f"{who} had {EXPOSURE_LABELS[exposure]} before time zero ({origin}): a baseline fact, not the "
            f"exposure; they count as exposed only from a later one{advice}."
        )
    key = (cohort_key(cohort), exposure, endpoint, origin, min_cell)
    landmark = service.cached(
        ("timing-landmarks", *key, marks), lambda: _landmark_part(frame, marks, exposure, min_cell)
    )
    exposed = service.cached(("timing-exposure", *key), lambda: _exposure_part(frame, exposure, min_cell))
    fits = list(exposed.fits)
    if adjust:
        adjusted = service.cached(
            ("timing-adjusted", *key, tuple(adjust)),
            lambda: _adjusted_part(
                _exposure_frame(
                    service, cohort, endpoint, origin, exposure, [c for c in adjust if c != PRIOR_EXPOSURE]
                ),
                exposure,
                adjust,
            ),
        )
        fits += adjusted.fits
        notes += [n for n in adjusted.notes if n not in notes]
    hazard_ratios, cox_table = _cox_tables(fits, len(frame), policy)
    notes += [n for n in (*landmark.notes, *exposed.notes) if n not in notes]
    if fits:
        notes.append(
            "Time-varying models: Efron ties, robust (patient-clustered) standard errors; the time-fixed "
            "model counts exposed patients as exposed from time zero and is shown only to display the bias."
        )
    if policy.active:
        notes.append(policy.sentence())
        notes.append(f"Landmark days are on the {policy.grid_days:g}-day grid (each moved to the nearest grid day).")
    return TimingView(
        exposure=exposure,
        endpoint=endpoint,
        origin=origin,
        landmarks_days=marks,
        n=policy.count(len(frame), key_of(frame)),
        n_exposed_at_start=n_exposed_at_start,
        n_prior_exposure=n_prior,
        release=policy.to_dict(),
        landmark_curve=landmark.numbers.curve,
        landmark_table=landmark.table,
        landmark_groups=landmark.groups,
        landmark_tests=landmark.numbers.tests,
        landmark_estimates=landmark.numbers.groups,
        landmark_milestones=landmark.numbers.milestones,
        simon_makuch=exposed.curve,
        simon_makuch_summary=simon_makuch_display(exposed.groups),
        simon_makuch_groups=exposed.groups,
        mantel_byar=exposed.mantel_byar,
        hazard_ratios=hazard_ratios,
        cox_table=cox_table,
        notes=notes,
    )


@dataclass(frozen=True)
class _LandmarkPart:
    """The cached landmark piece of the view: numbers and the page's tables, suppressed."""

    numbers: LandmarkTables
    table: pd.DataFrame
    groups: pd.DataFrame
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Part:
    """One cached piece of the view (suppressed, except ``fits``: Cox terms and true counts, which
    ``_cox_tables`` masks)."""

    curve: pd.DataFrame | None = None
    groups: pd.DataFrame | None = None
    mantel_byar: dict[str, Any] | None = None
    fits: tuple[_Fit, ...] = ()
    notes: tuple[str, ...] = ()


_SURVIVAL_COLUMNS = ("time_days", "event_code", "exposure_days")


def _columns(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """``columns`` and the record key when the frame has it (``disclosure`` needs it for the cell keys)."""
    return list(dict.fromkeys([*columns, *([RECORD_KEY] if RECORD_KEY in frame.columns else [])]))


def _landmark_part(frame: pd.DataFrame, marks: tuple[float, ...], exposure: str, min_cell: int) -> _LandmarkPart:
    policy = policy_for(min_cell)
    milestones = [y * DAYS_PER_YEAR for y in LANDMARK_MILESTONE_YEARS]
    columns = ("time_days", "exposure_days")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        args = ("time_days", "event_code", "exposure_days", list(marks))
        exact = fit_landmark(frame, *args, times=milestones)
        coarse_frame = policy.coarsen_frame(frame, columns)
        coarse = fit_landmark(coarse_frame, *args, times=())
    numbers = release_landmarks(coarse, exact, exposure, policy, milestones, landmark_keys(coarse_frame, marks))
    table, groups = landmark_display(numbers)
    return _LandmarkPart(numbers=numbers, table=table, groups=groups, notes=tuple(caught_notes(caught)))


def _exposure_part(frame: pd.DataFrame, exposure: str, min_cell: int) -> _Part:
    """Simon–Makuch curves, the Mantel–Byar test, and the time-fixed and time-varying Cox models."""
    notes: list[str] = []
    frame = frame[_columns(frame, _SURVIVAL_COLUMNS)]  # no patient_id nor event text: not copied per row
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        counting = start_stop_frame(frame, "time_days", "event_code", "exposure_days")
        sm = simon_makuch(counting)
        mantel_byar = None
        try:
            mb = mantel_byar_test(counting)
            mantel_byar = {"statistic": mb.statistic, "df": mb.df, "p": mb.p, "method": mb.method}
        except AnalysisError as exc:
            notes.append(f"Mantel–Byar test not reported: {exc}")
        naive = frame.assign(ever_exposed=frame["exposure_days"].notna().astype(int))
        fits = [
            _fit(
                _NAIVE,
                lambda: fit_cox(  # the page shows its hazard ratio only
                    naive, "time_days", "event_code", ["ever_exposed"], with_concordance=False, with_ph_test=False
                ),
                "ever_exposed",
                exposure,
                notes,
                model_keys(frame, np.ones(len(frame), dtype=bool)),
            ),
            _fit(
                _TV,
                lambda: fit_cox_counting(counting, "start", "stop", "event", ["exposed"], cluster_col="row_id"),
                "exposed",
                exposure,
                notes,
                model_keys(frame, np.ones(len(frame), dtype=bool)),
            ),
        ]
    policy = policy_for(min_cell)
    coarse = policy.coarsen_frame(frame, ("time_days", "exposure_days"))
    coarse_counting = start_stop_frame(coarse, "time_days", "event_code", "exposure_days")
    coarse_sm = simon_makuch(coarse_counting)
    curve, groups = release_simon_makuch(
        coarse_sm, sm, policy, simon_makuch_keys(coarse_counting), simon_makuch_count_keys(counting)
    )
    hidden = sorted(set(sm.summary["group"]) - set(curve["group"]))
    if hidden:
        notes.append(
            f"Simon–Makuch curves are drawn for groups of at least {policy.curve_min_n} patients; not drawn: "
            f"{', '.join(hidden)}."
        )
    notes += [n for n in caught_notes(caught) if n not in notes]
    return _Part(
        curve=curve,
        groups=groups,
        mantel_byar=mantel_byar,
        fits=tuple(f for f in fits if f is not None),
        notes=tuple(notes),
    )


def _adjusted_part(frame: pd.DataFrame, exposure: str, adjust: list[str]) -> _Part:
    notes: list[str] = []
    frame = frame[_columns(frame, (*_SURVIVAL_COLUMNS, *adjust))]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        counting = start_stop_frame(frame, "time_days", "event_code", "exposure_days")
        fit = _fit(
            _TV_ADJ,
            lambda: fit_cox_counting(counting, "start", "stop", "event", ["exposed", *adjust], cluster_col="row_id"),
            "exposed",
            exposure,
            notes,
            model_keys(frame, frame[adjust].notna().all(axis=1).to_numpy()),  # the complete cases it fits
        )
    notes += [n for n in caught_notes(caught) if n not in notes]
    return _Part(fits=() if fit is None else (fit,), notes=tuple(notes))


def _exposure_frame(
    service: RegistryService, cohort: CohortSpec, endpoint: str, origin: str, exposure: str, columns: list[str]
) -> pd.DataFrame:
    """``analyses.timing.exposure_frame`` on the service's connection, without the text columns (the
    analyses need neither patient_id nor event_desc), cached (server side only)."""

    def compute() -> pd.DataFrame:
        with service.reading() as cur:
            return exposure_frame(cur, cohort, endpoint, origin, exposure, columns, identifiers=False, keys=True)

    key = ("exposure_frame", cohort_key(cohort), endpoint, origin, exposure, tuple(columns), "no identifiers")
    return service.cached(key, compute)


# ------------------------------------------------------------------------------ Cox tables
#: a fitted model as the view keeps it: name, terms, patients, events, the cell keys of its counts
_Fit = tuple[str, pd.DataFrame, int, int, tuple[Any, Any, Any]]


def _fit(
    model: str, fit: Callable[[], Any], term: str, exposure: str, notes: list[str], keys: tuple[Any, Any, Any]
) -> _Fit | None:
    """(model, terms with the exposure's term named in words, patients, events, the cell keys of the
    patients it used, their events and those left out: ``disclosure.counts.model_keys``), or None with a
    note."""
    try:
        result = fit()
    except AnalysisError as exc:
        notes.append(f"{model} Cox model not reported: {exc}")
        return None
    label = f"{EXPOSURE_LABELS[exposure]}: exposed vs not"
    terms = result.terms.assign(term=result.terms["term"].replace({term: label}))
    n = result.n_patients if hasattr(result, "n_patients") else result.n
    return model, terms, int(n), int(result.events), keys


def _cox_tables(fits: list[_Fit], n_all: int, policy: ReleasePolicy) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The forest plot's input and the display table; counts are ``disclosure.counts.model_counts``, as
    the Cox page's."""
    rows, table = [], []
    for model, terms, n, events, keys in fits:
        shown = model_counts(n, events, n_all, policy, keys)
        for _, t in terms.iterrows():
            rows.append({k: t[k] for k in ("term", "hr", "hr_ci_lower", "hr_ci_upper", "p")} | {"model": model})
            table.append(
                {
                    "Model": model,
                    "Term": t["term"],
                    "HR (95% CI)": hr_label(t["hr"], t["hr_ci_lower"], t["hr_ci_upper"]),
                    "p": format_p(t["p"]),
                    "Patients": shown["n"],
                    "Events": shown["events"],
                }
            )
    columns = ["term", "hr", "hr_ci_lower", "hr_ci_upper", "p", "model"]
    cox_table = pd.DataFrame(table, columns=["Model", "Term", "HR (95% CI)", "p", "Patients", "Events"])
    return pd.DataFrame(rows, columns=columns), count_columns(cox_table, ["Patients", "Events"])


# ------------------------------------------------------------------------------ display tables
def landmark_display(tables: LandmarkTables) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The page's landmark table (at risk, exposed, not exposed, log-rank) and per-group table."""
    rows = [
        {
            "Landmark (days)": f"{t['landmark_days']:g}",
            "At risk": t["at_risk"],
            "Exposed by then": t["exposed"],
            "Not exposed": t["not_exposed"],
            "Log-rank χ²": None if pd.isna(t["statistic"]) else f"{t['statistic']:.2f}",
            "p": format_p(t["p"]),
            "Note": t["note"],
        }
        for _, t in tables.tests.iterrows()
    ]
    landmark_table = count_columns(pd.DataFrame(rows), ["At risk", "Exposed by then", "Not exposed"])
    groups = [
        _landmark_group_rows(
            float(mark), summary, tables.milestones[tables.milestones["landmark_days"].astype(float) == float(mark)]
        )
        for mark, summary in tables.groups.groupby("landmark_days", sort=False)
    ]
    group_table = pd.concat(groups, ignore_index=True) if groups else pd.DataFrame(columns=["Patients", "Events"])
    return landmark_table, count_columns(group_table, ["Patients", "Events"])


def landmark_groups_in(view: TimingView, unit: str) -> pd.DataFrame:
    """``view.landmark_groups`` with its medians in ``unit`` (the page's time unit; the view keeps days)."""
    table = view.landmark_groups
    if not len(table):
        return table
    medians = {
        (f"{float(r['landmark_days']):g}", str(r["group"])): r["median_days"]
        for r in view.landmark_estimates.to_dict("records")
    }
    days_column = "Median (days after landmark)"
    shown = [
        format_time(medians.get((str(mark), str(group))), unit)
        for mark, group in zip(table["Landmark (days)"], table["Group"], strict=True)
    ]
    out = table.assign(**{days_column: shown})
    return out.rename(columns={days_column: f"Median ({unit} after landmark)"})


def _landmark_group_rows(mark: float, summary: pd.DataFrame, milestones: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, s in summary.iterrows():
        row: dict[str, Any] = {
            "Landmark (days)": f"{mark:g}",
            "Group": s["group"],
            "Patients": s["n"],
            "Events": s["events"],
            "Median (days after landmark)": format_days(s["median_days"]),
        }
        row.update(milestone_columns(milestones[milestones["group"] == s["group"]], "after landmark"))
        rows.append(row)
    return pd.DataFrame(rows)


def simon_makuch_display(groups: pd.DataFrame, unit: str = "days") -> pd.DataFrame:
    """The page's Simon–Makuch table from ``disclosure.treatment.release_simon_makuch``' groups, medians in
    ``unit``."""
    table = pd.DataFrame(
        {
            "Group": groups["group"],
            "Patients (contributing time)": groups["n"],
            "Events": groups["events"],
            f"Median ({unit})": [format_time(m, unit) for m in groups["median_days"]],
        }
    )
    return count_columns(table, ["Patients (contributing time)", "Events"])
