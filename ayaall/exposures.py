"""What is known at time zero, declared once: the variables that start after each origin, and the warning.

Comparing patients by something that only happens after time zero (a transplant, CAR-T, the salvage
regimen, a relapse, a remission) credits that group with the time its patients had to survive for it
to happen: immortal-time bias. Which ``analysis_patients`` columns start after which origin is answered
here, once, for every caller: the dashboard's warning when a page groups by such a column, the Cox,
competing-risks and adjusted-comparison pages and ``ayaall analyze km|cox|cif|iptw`` (a warning in their
notes; a propensity covariate or a treatment is refused), and the methods text.

References
----------
Suissa S (2008). Immortal time bias in pharmacoepidemiology. Am J Epidemiol 167:492–499.
Anderson JR, Cain KC, Gelber RD (1983). Analysis of survival by tumor response. J Clin Oncol 1:710–719.
"""

from __future__ import annotations

from ayaall.endpoints import ORIGINS
from ayaall.errors import UserError

__all__ = [
    "EXPOSURES",
    "EXPOSURE_LABELS",
    "immortal_time_warning",
    "is_post_baseline",
    "post_baseline",
]

#: an exposure -> its name in words; its keys are the exposures that start after time zero (where each is
#: dated: ``etl.read.exposure_frame``, which reads every occurrence)
EXPOSURE_LABELS: dict[str, str] = {"hct": "Transplant (HCT)", "car_t": "CAR-T", "vod_sos": "VOD/SOS"}
EXPOSURES: tuple[str, ...] = tuple(EXPOSURE_LABELS)
_TOXICITY_EXPOSURES = frozenset({"vod_sos"})  # can follow any time zero: a toxicity of any line

# analysis_patients columns that are only known after time zero, per origin (endpoints.md)
_RELAPSE_FACTS = frozenset({"relapse_site", "cr1_months", "early_relapse"})  # known from the first relapse
_POST_BASELINE: dict[str, frozenset[str]] = {
    "DX": frozenset({"cr1", "mrd_eoi", "induction_failure", "relapsed", "hct", "car_t", "salvage_regimen"})
    | _RELAPSE_FACTS
    | {"dx_to_salvage_months"},
    "CR1": frozenset({"relapsed", "hct", "car_t", "salvage_regimen"}) | _RELAPSE_FACTS | {"dx_to_salvage_months"},
    "REL1": frozenset({"hct", "car_t", "salvage_regimen", "dx_to_salvage_months"}),
    "LINE2": frozenset({"hct", "car_t"}),
    "HCT1": frozenset({"relapsed", "car_t"}) | _RELAPSE_FACTS | {"dx_to_salvage_months"},
}
# the event dates themselves are known only when they happen, whatever the origin
_DATE_COLUMNS = frozenset({"cr1_date", "relapse1_date", "line2_date", "hct1_date", "car_t1_date", "death_date"})
_POST_BASELINE = {origin: known | _TOXICITY_EXPOSURES for origin, known in _POST_BASELINE.items()}
assert set(_POST_BASELINE) == set(ORIGINS), "every origin of endpoints.md says what is known at it"

# What a post-baseline column records, in words (the warning's subject).
_WHAT = {
    "hct": "transplant",
    "car_t": "CAR-T",
    "salvage_regimen": "salvage therapy",
    "relapsed": "relapse",
    "cr1": "remission (CR1)",
    "mrd_eoi": "end-of-induction MRD",
    "induction_failure": "induction failure",
    "relapse_site": "the first relapse",
    "cr1_months": "the first relapse (the duration of CR1)",
    "early_relapse": "the first relapse (early or late)",
    "dx_to_salvage_months": "salvage therapy (its start)",
    "vod_sos": "VOD/SOS",
}


def post_baseline(origin: str) -> frozenset[str]:
    """The ``analysis_patients`` columns whose value is only known after time zero ``origin``.

    Raises
    ------
    UserError
        ``origin`` is not an origin of endpoints.md.
    """
    try:
        return _POST_BASELINE[origin] | _DATE_COLUMNS
    except KeyError:
        raise UserError(f"Unknown origin {origin!r}; expected one of {', '.join(ORIGINS)}.") from None


def is_post_baseline(column: str | None, origin: str) -> bool:
    """True when grouping, modelling or weighting by ``column`` from ``origin`` conditions on the future."""
    return column is not None and origin in _POST_BASELINE and column in post_baseline(origin)


def immortal_time_warning(column: str | None, origin: str) -> str | None:
    """The immortal-time warning for using ``column`` as a group, covariate or treatment from ``origin``,
    else None. Each caller adds where to go instead (a page link, an ``ayaall analyze`` command)."""
    if not is_post_baseline(column, origin):
        return None
    what = _WHAT.get(str(column), str(column))
    return (
        f"{what[0].upper()}{what[1:]} is only known after time zero ({origin}): patients grouped by it had to "
        "survive, event-free, until it happened, so comparing groups by it from this time zero is biased in "
        "its favour (immortal-time bias)."
    )
