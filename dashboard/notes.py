"""Notes under a result: the analyses' warnings, made safe to show and told once.

An ``AnalysisWarning`` may quote a count (``fit_cox`` says "Only 0.8 events per coefficient (3 events,
4 coefficients)"), which small-cell suppression forbids sending to the browser. ``safe_note`` replaces
such sentences by count-free ones; ``caught_notes`` collects the warnings of a block of analysis calls.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable

from analyses.results import AnalysisWarning

__all__ = ["caught_notes", "safe_note", "suppression_note"]

# warning pattern -> count-free replacement
_COUNTING = (
    (
        re.compile(r"^Only [\d.]+ events per coefficient.*$", re.DOTALL),
        "Fewer than 10 events per coefficient: the hazard ratios may be unstable.",
    ),
)


def safe_note(text: str) -> str:
    """``text`` with any sentence that quotes a patient or event count replaced by a count-free one."""
    for pattern, replacement in _COUNTING:
        if pattern.match(text):
            return replacement
    return text


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
