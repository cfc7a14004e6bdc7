"""The methods paragraph of an export, ready to paste into a manuscript.

Built from pieces: the cohort and its size, the endpoint and its time zero with the censoring rules,
the kind's methods (``export.kinds``), disclosure control and rounding, the software with versions
and the code revision, and the data cut-off. Every value comes from the export's request and its
provenance (``export.manifest``), so the paragraph says what was actually run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from analyses.validation import validation_sentence
from ayaall.endpoints import ENDPOINT_NAMES, ORIGIN_NAMES, endpoint_spec
from ayaall.filters import FILTERS
from disclosure.policy import policy_for

__all__ = ["cohort_description", "endpoint_sentences", "methods_paragraph"]

_LABELS = {f.column: f.label for f in FILTERS}


def cohort_description(cohort: Mapping[str, Any]) -> str:
    """The cohort's filters in words: ``lineage B; diagnosis year 2015 to 2020``."""
    parts = []
    for column, value in (cohort.get("filters") or {}).items():
        label = _LABELS.get(column, column).lower()
        if isinstance(value, Mapping):
            lo, hi = value.get("min"), value.get("max")
            text = (
                f"{lo} to {hi}" if lo is not None and hi is not None else (f"≥ {lo}" if lo is not None else f"≤ {hi}")
            )
            parts.append(f"{label} {text}")
        else:
            values = [("yes" if v else "no") if isinstance(v, bool) else str(v) for v in value]
            parts.append(f"{label} {' or '.join(values) if values else '(none)'}")
    return "; ".join(parts)


def endpoint_sentences(endpoint: str, origin: str, data_cutoff: str | None) -> list[str]:
    """What the endpoint is, from when it is measured, and how follow-up is censored (endpoints.md)."""
    spec = endpoint_spec(endpoint, origin)
    event = f"the event was {spec.event}"
    if spec.competing:
        event += f", with {spec.competing} as a competing event"
    cutoff = f" ({data_cutoff})" if data_cutoff else ""
    return [
        f"The endpoint was {ENDPOINT_NAMES[endpoint].lower()} ({endpoint}) measured from "
        f"{ORIGIN_NAMES[origin]} (time zero); {event}.",
        "Patients without an event were censored at the end of follow-up: death, otherwise the later of "
        f"the last contact and the last observed event, capped at the data cut-off{cutoff}; events after "
        "the cut-off were not counted.",
    ]


def _cohort_sentence(cohort: Mapping[str, Any], analysed: int | None, database: Mapping[str, Any]) -> str:
    described = cohort_description(cohort)
    selection = f"restricted to {described}" if described else "with no further selection"
    load = database.get("load_id")
    source = f"the registry extract loaded as {load}" if load else "the registry extract"
    size = f"{analysed:,} patients" if analysed is not None else "patients (their number withheld by suppression)"
    return (
        f"The analysis included {size} of {source}, {selection}; patients whose records contradicted "
        "themselves (no diagnosis or follow-up, events before diagnosis or after death) were excluded "
        "beforehand."
    )


def _disclosure_sentence(min_cell: int, decimals: int) -> str:
    rounding = f"Estimates are rounded to {decimals} decimal places and p-values to four significant digits."
    return policy_for(min_cell).sentence() + " " + rounding


def _software_sentence(software: Mapping[str, Any], figure: bool) -> str:
    revision = software.get("git_revision")
    code = f" (code revision {revision[:12]})" if revision else ""
    libs = ", ".join(
        f"{name} {software[key]}"
        for key, name in (("numpy", "NumPy"), ("pandas", "pandas"), ("scipy", "SciPy"))
        if software.get(key)
    )
    sentence = (
        f"The estimates were computed by the AYA-ALL Outcomes Explorer {software.get('ayaall')}{code}, whose "
        f"estimators are {validation_sentence()}, on Python {software.get('python')} with {libs}; the data "
        f"were read with DuckDB {software.get('duckdb')}"
    )
    if figure:
        sentence += (
            f"; the figure was drawn with plotly {software.get('plotly')} and rendered by kaleido "
            f"{software.get('kaleido')} in Chromium"
        )
    return sentence + "."


def methods_paragraph(
    kind_sentences: Sequence[str],
    *,
    endpoint: tuple[str, str] | None,
    cohort: Mapping[str, Any],
    analysed: int | None,
    min_cell: int,
    decimals: int,
    database: Mapping[str, Any],
    software: Mapping[str, Any],
    figure: bool,
) -> str:
    """The paragraph: cohort, endpoint and censoring, the kind's methods, disclosure control (the release
    policy's sentence), software, cut-off."""
    cutoff = database.get("data_cutoff")
    sentences = [
        _cohort_sentence(cohort, analysed, database),
        *(endpoint_sentences(*endpoint, cutoff) if endpoint else []),
        *kind_sentences,
        _disclosure_sentence(min_cell, decimals),
        _software_sentence(software, figure),
    ]
    if cutoff:
        sentences.append(f"Data cut-off: {cutoff}.")
    return " ".join(sentences)
