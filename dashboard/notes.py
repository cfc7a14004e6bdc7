"""Notes under a result: the analyses' warnings, made safe to show and told once.

Small-cell suppression forbids sending a patient or event count to the browser in a note. The analyses
word their warnings without counts (``fit_cox``: "Fewer than 10 events per coefficient (4 coefficients);
estimates may be unstable."); the few sentences that still quote one (``analyses.cif``'s warnings about
left-out patients and one-patient groups, the input errors "Column 'x' has 3 missing values.") are
reworded by ``analyses.commands._shared.count_free``, the rewriting ``ayaall analyze`` applies to its notes
too. ``caught_notes`` collects the warnings of a block of analysis calls.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from analyses.commands._shared import count_free
from analyses.results import AnalysisWarning

__all__ = ["caught_notes", "safe_note", "suppression_note"]


def safe_note(text: str) -> str:
    """``text`` with any sentence that quotes a patient or event count worded without it."""
    return count_free(text)


def caught_notes(caught: Iterable[warnings.WarningMessage]) -> list[str]:
    """The distinct ``AnalysisWarning`` messages of ``warnings.catch_warnings(record=True)``, made safe."""
    return list(dict.fromkeys(safe_note(str(w.message)) for w in caught if issubclass(w.category, AnalysisWarning)))


def suppression_note(min_cell: int) -> str | None:
    """The sentence saying how counts are suppressed (None when suppression is off)."""
    if not min_cell:
        return None
    return (
        f"Small-cell suppression: counts of 1 to {min_cell - 1}, and counts that would reveal them, are shown "
        f"as —; curves are drawn only where at least {min_cell} patients are at risk."
    )
