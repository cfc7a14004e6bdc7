"""Endpoint definitions (``shared/spec/endpoints.md``; the GVHD endpoints of format 1.1) declared once as data.

The SQL in ``etl/sql`` derives these rows; the dashboard, the command line and the exports take the
list of valid (endpoint, origin) pairs, their wording and the event codes from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

__all__ = [
    "DEFAULT_AGE_BREAKS",
    "DEFAULT_ERA_BREAKS",
    "ENDPOINTS",
    "ENDPOINT_NAMES",
    "EVENT_DESCRIPTIONS",
    "ORIGINS",
    "ORIGIN_NAMES",
    "EndpointSpec",
    "age_group_labels",
    "endpoint_spec",
]

ENDPOINT_NAMES = {
    "OS": "Overall survival",
    "EFS": "Event-free survival",
    "RFS": "Relapse-free survival",
    "CIR": "Cumulative incidence of relapse",
    "NRM": "Non-relapse mortality",
    "GRFS": "GVHD-free, relapse-free survival",
    "AGVHD24": "Cumulative incidence of grade II-IV acute GVHD",
    "AGVHD34": "Cumulative incidence of grade III-IV acute GVHD",
    "CGVHD": "Cumulative incidence of moderate or severe chronic GVHD",
}

ORIGINS = ("DX", "CR1", "REL1", "LINE2", "HCT1")
ORIGIN_NAMES = {
    "DX": "diagnosis",
    "CR1": "first complete remission",
    "REL1": "first relapse",
    "LINE2": "start of first salvage line",
    "HCT1": "first allogeneic transplant",
}

EVENT_DESCRIPTIONS = (
    "CENSORED",
    "DEATH",
    "RELAPSE",
    "INDUCTION_FAILURE",
    "SALVAGE_FAILURE",
    "AGVHD_2_4",
    "AGVHD_3_4",
    "CGVHD_MOD_SEV",
    "DEATH_WITHOUT_RELAPSE",
)


@dataclass(frozen=True)
class EndpointSpec:
    """One (endpoint, origin) pair of ``time_to_event`` and how it is defined."""

    endpoint: str
    origin: str
    event: str
    competing: str | None = None

    @property
    def competing_risks(self) -> bool:
        """True for CIR, NRM and the GVHD endpoints, whose rows carry event_code 2 for the competing event."""
        return self.competing is not None

    @property
    def label(self) -> str:
        return f"{self.endpoint} from {ORIGIN_NAMES[self.origin]}"


ENDPOINTS: tuple[EndpointSpec, ...] = (
    EndpointSpec("OS", "DX", "death from any cause"),
    EndpointSpec("EFS", "DX", "earliest of induction failure (at time 0), first relapse, death"),
    EndpointSpec("RFS", "CR1", "earliest of first relapse, death"),
    EndpointSpec("CIR", "CR1", "first relapse", competing="death without relapse"),
    EndpointSpec("NRM", "CR1", "death without relapse", competing="first relapse"),
    EndpointSpec("OS", "REL1", "death from any cause"),
    EndpointSpec("OS", "LINE2", "death from any cause"),
    EndpointSpec(
        "EFS",
        "LINE2",
        "earliest of salvage failure (at time 0), first relapse after the first line-2 remission, death",
    ),
    EndpointSpec("OS", "HCT1", "death from any cause"),
    EndpointSpec(
        "GRFS",
        "HCT1",
        "earliest of grade III-IV acute GVHD, moderate/severe chronic GVHD, relapse after transplant, death",
    ),
    EndpointSpec("CIR", "HCT1", "first relapse after transplant", competing="death without relapse"),
    EndpointSpec("NRM", "HCT1", "death without relapse after transplant", competing="relapse after transplant"),
    EndpointSpec(
        "AGVHD24",
        "HCT1",
        "grade II-IV acute GVHD",
        competing="relapse after transplant or death, whichever comes first without acute GVHD II-IV",
    ),
    EndpointSpec(
        "AGVHD34",
        "HCT1",
        "grade III-IV acute GVHD",
        competing="relapse after transplant or death, whichever comes first without acute GVHD III-IV",
    ),
    EndpointSpec(
        "CGVHD",
        "HCT1",
        "moderate or severe chronic GVHD",
        competing="relapse after transplant or death, whichever comes first without chronic GVHD",
    ),
)


def endpoint_spec(endpoint: str, origin: str) -> EndpointSpec:
    """Return the definition of an (endpoint, origin) pair, or raise ``KeyError`` naming the valid ones."""
    for spec in ENDPOINTS:
        if spec.endpoint == endpoint and spec.origin == origin:
            return spec
    valid = ", ".join(f"{s.endpoint}/{s.origin}" for s in ENDPOINTS)
    raise KeyError(f"{endpoint} from {origin} is not a defined endpoint; valid pairs: {valid}")


# SEER five-year bands used for AYAs: <15, 15-19, 20-24, 25-29, 30-39, 40+.
DEFAULT_AGE_BREAKS: tuple[int, ...] = (15, 20, 25, 30, 40)
#: the first diagnosis year of each era after the first: <2010 (chemotherapy), 2010-2014 (TKIs and the
#: first immunotherapies in trials), 2015+ (blinatumomab, inotuzumab and CD19 CAR-T approved); configurable
#: like the age bands (``ayaall load --era-bands``), labelled by ``age_group_labels``' rule
DEFAULT_ERA_BREAKS: tuple[int, ...] = (2010, 2015)


def age_group_labels(breaks: tuple[int, ...] = DEFAULT_AGE_BREAKS) -> tuple[str, ...]:
    """Labels of the age groups cut at ``breaks`` (lower bounds inclusive), youngest first."""
    if len(breaks) < 1 or list(breaks) != sorted(set(breaks)):
        raise ValueError(f"age breaks must be strictly increasing, got {breaks}")
    labels = [f"<{breaks[0]}"]
    labels += [f"{lo}-{hi - 1}" for lo, hi in pairwise(breaks)]
    labels.append(f"{breaks[-1]}+")
    return tuple(labels)
