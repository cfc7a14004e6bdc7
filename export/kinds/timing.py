"""``--figure landmark``, ``simon-makuch`` and ``timing-cox``: the Treatment timing page's three figures,
from its view (``reports.timing.timing_view``) and its figure functions (``figures.views``).

The three kinds share the view; each takes only the options that change its figure. Simon–Makuch curves
and the time-varying Cox model do not depend on the landmarks, so their kinds run the view with the
page's default landmarks (the view always computes the landmark analyses too).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from ayaall.cohort import CohortSpec
from ayaall.endpoints import endpoint_spec
from ayaall.errors import UserError
from ayaall.exposures import EXPOSURES
from ayaall.units import DAYS_PER_YEAR, to_unit
from export.kinds.base import FigureKind, TableSpec, check_options, require_endpoint
from export.requests import ExportRequest
from export.rounding import round_columns, round_p
from figures.common import FigureStyle
from figures.views import landmark_page_figure, simon_makuch_page_figure, timing_cox_figure
from reports.service import RegistryService
from reports.timing import COX_MODELS, DEFAULT_LANDMARKS, TimingView, timing_view

__all__ = ["LANDMARK", "SIMON_MAKUCH", "TIMING_COX"]

_CURVE = ("survival", "ci_lower", "ci_upper")
_HR = ("hr", "hr_ci_lower", "hr_ci_upper")
_LANDMARK_OPTIONS = frozenset({"endpoint", "origin", "exposure", "landmarks"})
_SM_OPTIONS = frozenset({"endpoint", "origin", "exposure"})
_COX_OPTIONS = frozenset({"endpoint", "origin", "exposure", "covariates"})


# ------------------------------------------------------------------------------ shared
def _checker(name: str, options: frozenset[str]):
    def check(request: ExportRequest) -> None:
        check_options(name, request, options)
        require_endpoint(name, request)
        if not request.exposure:
            raise UserError(f"--figure {name} needs --exposure ({' or '.join(EXPOSURES)}).")
        if request.exposure not in EXPOSURES:
            raise UserError(f"--exposure {request.exposure!r} is not an exposure; choose {' or '.join(EXPOSURES)}.")
        if "landmarks" in options and not request.landmarks:
            raise UserError(f"--figure {name} needs --landmarks (days from time zero, e.g. 180,365).")
        if request.exposure in request.covariates:
            raise UserError(f"--covariates names {request.exposure}, the exposure.")

    return check


def _compute(service: RegistryService, request: ExportRequest) -> TimingView:
    cohort = CohortSpec.from_dict(request.cohort)
    return timing_view(
        service,
        cohort,
        str(request.exposure),
        str(request.endpoint),
        str(request.origin),
        list(request.landmarks or DEFAULT_LANDMARKS),
        list(request.covariates),
        request.min_cell,
    )


def _round(view: TimingView, decimals: int) -> TimingView:
    mantel_byar = view.mantel_byar
    if mantel_byar is not None:
        p = round_p(pd.DataFrame({"p": [mantel_byar["p"]]}))["p"].iloc[0]
        mantel_byar = {**mantel_byar, "statistic": round(float(mantel_byar["statistic"]), decimals), "p": p}
    return dataclasses.replace(
        view,
        landmark_curve=round_columns(view.landmark_curve, _CURVE, decimals),
        landmark_tests=round_p(round_columns(view.landmark_tests, ["statistic"], decimals)),
        landmark_milestones=round_columns(view.landmark_milestones, _CURVE, decimals),
        simon_makuch=round_columns(view.simon_makuch, _CURVE, decimals),
        mantel_byar=mantel_byar,
        hazard_ratios=round_p(round_columns(view.hazard_ratios, _HR, decimals)),
    )


def _days_in_unit(frame: pd.DataFrame, column: str, name: str, request: ExportRequest) -> pd.DataFrame:
    """``frame`` with ``name_<unit>`` after ``column`` (days), rounded to the request's decimals."""
    out = frame.copy()
    days = pd.to_numeric(out[column], errors="coerce").astype(float)
    out.insert(
        list(out.columns).index(column) + 1,
        f"{name}_{request.unit}",
        to_unit(days, request.unit).round(request.decimals),
    )
    return out


def _analysed(view: TimingView) -> int | None:
    return view.n


def _exposure_words(view: TimingView) -> str:
    return {
        "hct": "an allogeneic transplant (HCT)",
        "car_t": "CAR-T therapy",
        "vod_sos": "hepatic veno-occlusive disease / sinusoidal obstruction syndrome (VOD/SOS, any grade, by onset)",
    }[view.exposure]


def _competing_sentence(view: TimingView) -> list[str]:
    spec = endpoint_spec(view.endpoint, view.origin)
    if not spec.competing_risks:
        return []
    return [f"The competing event ({spec.competing}) was counted as censoring."]


def _early_sentence(view: TimingView) -> list[str]:
    return [
        f"The exposure was {_exposure_words(view)} on or after time zero; one on the day of time zero counted "
        "from the start, and one before time zero was taken as a baseline characteristic, the patient counting "
        "as exposed only from a later one."
    ]


# ------------------------------------------------------------------------------ landmark
def _landmark_figure(view: TimingView, request: ExportRequest, style: FigureStyle) -> Any:
    fig = landmark_page_figure(view, request.unit, style)
    if fig is None:
        raise UserError("No landmark has a curve to draw (too few patients at risk after every landmark).")
    return fig


def _landmark_frames(view: TimingView, request: ExportRequest) -> dict[str, pd.DataFrame]:
    curve = view.landmark_curve
    curve_table = _days_in_unit(
        pd.DataFrame(
            {
                "landmark_days": curve["landmark_days"].astype(float),
                "group": curve["group"],
                "time_days": curve["time_days"].astype(float),
                "survival": curve["survival"],
                "ci_lower": curve["ci_lower"],
                "ci_upper": curve["ci_upper"],
                "has_censoring": curve["censored"].fillna(False).astype(bool),
            }
        ),
        "time_days",
        "time",
        request,
    )
    groups = _days_in_unit(view.landmark_estimates, "median_days", "median", request)
    ms = view.landmark_milestones
    milestones = pd.DataFrame(
        {
            "landmark_days": ms["landmark_days"].astype(float),
            "group": ms["group"],
            "years_after_landmark": (ms["time_days"].astype(float) / DAYS_PER_YEAR).round(2),
            "survival": ms["survival"],
            "ci_lower": ms["ci_lower"],
            "ci_upper": ms["ci_upper"],
        }
    )
    return {"curve": curve_table, "tests": view.landmark_tests, "groups": groups, "milestones": milestones}


def _landmark_methods(view: TimingView, request: ExportRequest) -> list[str]:
    marks = ", ".join(f"{m:g}" for m in view.landmarks_days)
    return [
        "To avoid immortal-time bias, survival by exposure was compared with landmark analyses (Anderson, Cain "
        f"and Gelber, J Clin Oncol 1983) at day{'s' if len(view.landmarks_days) > 1 else ''} {marks} from time "
        "zero: at each landmark, patients still event-free and in follow-up were grouped by whether they had "
        f"received {_exposure_words(view)} on or before that day (a later exposure counts as not exposed), and "
        "follow-up was re-based to the landmark.",
        "Survival after each landmark was estimated with the Kaplan–Meier method, with pointwise 95% confidence "
        "intervals on the log(−log) scale, and the groups were compared with the log-rank test; medians and "
        "survival 1, 2 and 3 years after the landmark are reported.",
        *_competing_sentence(view),
        *_early_sentence(view),
    ]


LANDMARK = FigureKind(
    name="landmark",
    label="Landmark Kaplan–Meier curves by exposure",
    options=_LANDMARK_OPTIONS,
    tables=(
        TableSpec("curve", "per landmark: survival after the landmark with 95% CI by exposure status, censoring flag"),
        TableSpec(
            "tests",
            "per landmark: at risk, exposed by then, not exposed, log-rank test",
            ("at_risk", "exposed", "not_exposed"),
        ),
        TableSpec("groups", "per landmark and group: patients, events, median after the landmark", ("n", "events")),
        TableSpec("milestones", "per landmark and group: survival (95% CI) 1, 2 and 3 years after the landmark"),
    ),
    compute=_compute,
    round=_round,
    figure=_landmark_figure,
    frames=_landmark_frames,
    methods=_landmark_methods,
    analysed=_analysed,
    check=_checker("landmark", _LANDMARK_OPTIONS),
    method={
        "design": "landmark (Anderson, Cain & Gelber 1983)",
        "estimator": "Kaplan–Meier",
        "conf_level": 0.95,
        "conf_type": "log-log",
        "test": "log-rank",
        "milestone_years_after_landmark": [1, 2, 3],
    },
)


# ------------------------------------------------------------------------------ Simon–Makuch
def _sm_figure(view: TimingView, request: ExportRequest, style: FigureStyle) -> Any:
    fig = simon_makuch_page_figure(view, request.unit, style)
    if fig is None:
        raise UserError("No Simon–Makuch curve can be drawn (too few patients at risk in each group).")
    return fig


def _mantel_byar_table(view: TimingView) -> pd.DataFrame:
    columns = ["test", "statistic", "df", "p", "variance"]
    mb = view.mantel_byar
    if mb is None:
        return pd.DataFrame(columns=columns)
    variance = "Breslow" if "breslow" in str(mb["method"]).lower() else str(mb["method"])
    return pd.DataFrame(
        [{"test": "Mantel–Byar", "statistic": mb["statistic"], "df": mb["df"], "p": mb["p"], "variance": variance}],
        columns=columns,
    )


def _sm_frames(view: TimingView, request: ExportRequest) -> dict[str, pd.DataFrame]:
    curve = view.simon_makuch
    curve_table = _days_in_unit(
        pd.DataFrame(
            {
                "group": curve["group"],
                "time_days": curve["time_days"].astype(float),
                "survival": curve["survival"],
                "ci_lower": curve["ci_lower"],
                "ci_upper": curve["ci_upper"],
            }
        ),
        "time_days",
        "time",
        request,
    )
    groups = _days_in_unit(view.simon_makuch_groups, "median_days", "median", request)
    return {"curve": curve_table, "groups": groups, "mantel_byar": _mantel_byar_table(view)}


def _sm_methods(view: TimingView, request: ExportRequest) -> list[str]:
    sentences = [
        f"Survival by {_exposure_words(view)} as a time-varying exposure was shown with Simon–Makuch curves "
        "(Simon and Makuch, Stat Med 1984): product-limit estimates from counting-process data in which a "
        "patient is at risk in the unexposed group until the exposure and in the exposed group from then on, "
        "with Greenwood standard errors and pointwise 95% confidence intervals on the log(−log) scale (as R "
        "survival's survfit(Surv(start, stop, event) ~ exposed)). The exposed curve starts once enough "
        "patients have been exposed.",
    ]
    if view.mantel_byar is not None:
        sentences.append(
            "The groups were compared with the Mantel–Byar test (Mantel and Byar, JASA 1974), the log-rank "
            "score test with time-dependent group membership, with Breslow's variance (the score test of "
            'coxph(Surv(start, stop, event) ~ exposed, ties = "breslow")).'
        )
    return [*sentences, *_competing_sentence(view), *_early_sentence(view)]


SIMON_MAKUCH = FigureKind(
    name="simon-makuch",
    label="Simon–Makuch curves with the Mantel–Byar test",
    options=_SM_OPTIONS,
    tables=(
        TableSpec("curve", "survival with 95% CI by exposure as a time-varying state"),
        TableSpec("groups", "per group: patients who contributed time, events, median", ("n", "events")),
        TableSpec("mantel_byar", "the Mantel–Byar test: statistic, df, p, variance"),
    ),
    compute=_compute,
    round=_round,
    figure=_sm_figure,
    frames=_sm_frames,
    methods=_sm_methods,
    analysed=_analysed,
    check=_checker("simon-makuch", _SM_OPTIONS),
    method={
        "estimator": "Simon–Makuch (product-limit, time-dependent groups)",
        "conf_level": 0.95,
        "conf_type": "log-log",
        "test": "Mantel–Byar (Breslow variance)",
    },
)


# ------------------------------------------------------------------------------ time-varying Cox
def _cox_figure(view: TimingView, request: ExportRequest, style: FigureStyle) -> Any:
    fig = timing_cox_figure(view, style)
    if fig is None:
        raise UserError("No Cox model of the exposure could be fitted (see the Treatment timing page's notes).")
    return fig


def _cox_frames(view: TimingView, request: ExportRequest) -> dict[str, pd.DataFrame]:
    hrs = view.hazard_ratios[["model", "term", *_HR, "p"]]
    time_fixed, _, adjusted = COX_MODELS
    rows = []
    for model, table in view.cox_table.groupby("Model", sort=False):
        first = table.iloc[0]
        rows.append(
            {
                "model": model,
                "n": first["Patients"],
                "events": first["Events"],
                "ties": "efron",
                "standard_errors": "model-based" if model == time_fixed else "robust (clustered on patient)",
                "adjusted_for": ", ".join(request.covariates) if model == adjusted else "",
            }
        )
    models = pd.DataFrame(rows, columns=["model", "n", "events", "ties", "standard_errors", "adjusted_for"])
    return {"hazard_ratios": hrs, "models": models}


def _cox_methods(view: TimingView, request: ExportRequest) -> list[str]:
    what = _exposure_words(view)
    adjusted = f", unadjusted and adjusted for {', '.join(request.covariates)}" if request.covariates else ""
    return [
        f"Hazard ratios for {what} were estimated with Cox models in counting-process (start, stop] form with "
        f"the exposure as a time-varying covariate{adjusted} (Efron's method for ties; robust standard errors "
        "clustered on patient, as R survival's coxph(Surv(start, stop, event) ~ exposed, cluster = id)).",
        "A time-fixed model that counts patients ever exposed as exposed from time zero is shown for comparison "
        "only: it credits the exposed with the time they had to survive to be exposed (immortal-time bias).",
        *_competing_sentence(view),
    ]


TIMING_COX = FigureKind(
    name="timing-cox",
    label="Time-varying Cox hazard ratios of a post-baseline exposure",
    options=_COX_OPTIONS,
    tables=(
        TableSpec("hazard_ratios", "time-fixed (biased), time-varying and adjusted hazard ratios with 95% CI and p"),
        TableSpec("models", "each model's patients, events, ties, standard errors and adjustment", ("n", "events")),
    ),
    compute=_compute,
    round=_round,
    figure=_cox_figure,
    frames=_cox_frames,
    methods=_cox_methods,
    analysed=_analysed,
    check=_checker("timing-cox", _COX_OPTIONS),
    method={
        "model": "Cox, counting process (start, stop], exposure time-varying",
        "ties": "efron",
        "standard_errors": "robust, clustered on patient",
        "conf_level": 0.95,
        "comparison": "time-fixed ever vs never (biased; model-based SE)",
    },
)
