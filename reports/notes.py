"""Notes under a result: the analyses' warnings, made safe to show and told once.

Small-cell suppression forbids sending a patient or event count to the browser in a note. The analyses
word their warnings without counts (``fit_cox``: "Fewer than 10 events per coefficient (4 coefficients);
estimates may be unstable."); the few sentences that still quote one (``analyses.cif``'s warnings about
left-out patients and one-patient groups, the input errors "Column 'x' has 3 missing values.") are
reworded by :func:`count_free`, the rewriting ``ayaall analyze`` applies to its notes too.
``caught_notes`` collects the warnings of a block of analysis calls.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable

from analyses.results import AnalysisWarning

__all__ = ["caught_notes", "count_free", "suppression_note"]


# Sentences of the analyses that still quote a count (not yet worded count-free at the source:
# analyses.cif's warnings, analyses.results' and analyses.cif's input errors) -> count-free wording.
_COUNTING = (
    (
        re.compile(r"\b\d+ of \d+ patients have a missing value in (.+?) and were left out\."),
        r"Patients with a missing value in \1 were left out.",
    ),
    (re.compile(r"\bhas only one patient;"), "has very few patients;"),
    (
        re.compile(r"\bhas \d+ (missing values|missing event codes|missing or non-numeric times|negative times)\b"),
        r"has \1",
    ),
)


def count_free(text: str) -> str:
    """``text`` with every sentence of the analyses that quotes a patient count worded without it.

    ``ayaall analyze``'s notes and the pages' use the same rewriting.
    """
    for pattern, replacement in _COUNTING:
        text = pattern.sub(replacement, text)
    return text


def caught_notes(caught: Iterable[warnings.WarningMessage]) -> list[str]:
    """The distinct ``AnalysisWarning`` messages of ``warnings.catch_warnings(record=True)``, made safe."""
    return list(dict.fromkeys(count_free(str(w.message)) for w in caught if issubclass(w.category, AnalysisWarning)))


def suppression_note(min_cell: int) -> str | None:
    """The sentence saying how counts are suppressed (None when suppression is off)."""
    if not min_cell:
        return None
    return (
        f"Small-cell suppression: counts of 1 to {min_cell - 1}, and counts that would reveal them, are shown "
        f"as —; curves are drawn only where at least {min_cell} patients are at risk."
    )
