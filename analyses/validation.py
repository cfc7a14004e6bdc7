"""What the estimators are checked against: the R versions whose outputs are committed in ``tests/r``.

The analyses are this package's own implementations (numpy and scipy); none calls R or lifelines. Every
estimator's test compares it with R's answer on the same data, written by a script committed beside it
(``tests/r/README.md``); lifelines cross-checks the estimators it offers. A methods paragraph names these
versions, so a manuscript cites what computed its numbers and what they were validated against.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["VALIDATED_AGAINST", "Reference", "validation_sentence"]


class Reference(NamedTuple):
    """Software whose results the estimators reproduce in the test suite."""

    name: str
    version: str
    covers: str


VALIDATED_AGAINST: tuple[Reference, ...] = (
    Reference("R", "4.2.2", "the reference scripts of tests/r"),
    Reference(
        "survival",
        "3.5-3",
        "Kaplan–Meier (log-log, log and plain intervals), Nelson–Aalen, reverse Kaplan–Meier median follow-up, "
        "conditional survival, log-rank, Cox (Efron and Breslow ties, strata, weights, robust variance, global "
        "tests, concordance, cox.zph), counting-process Cox (strata), Simon–Makuch curves, Mantel–Byar, "
        "restricted mean time lost (Aalen–Johansen, infinitesimal jackknife), timefix",
    ),
    Reference("cmprsk", "2.2-11", "Aalen–Johansen cumulative incidence, Gray's test, Fine–Gray"),
)


def validation_sentence() -> str:
    """``validated against R 4.2.2 (survival 3.5-3, cmprsk 2.2-11)``."""
    r, *packages = VALIDATED_AGAINST
    return f"validated against {r.name} {r.version} ({', '.join(f'{p.name} {p.version}' for p in packages)})"
