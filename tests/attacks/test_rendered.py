"""Attack 6 on rendered figures: what an SVG's text elements, a PDF's extracted text and a PNG's or TIFF's
embedded manifest carry, against the XLSX of the same export.

A figure file must carry no count the tables do not: the KMunicate table's cells in the SVG and the PDF are
read in order and compared with the workbook's risk_table sheet as the figure formats it, and the manifest
embedded in every format is searched for count fields. Rendering needs Chromium (kaleido): marked slow.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from attacks.payloads import export_workbook

K = 11
_COUNT_KEYS = {"n", "events", "patients", "at_risk", "censored", "responders", "competing_events", "not_assessed"}


def _render(service: Any, fmt: str, cohort: dict[str, Any]) -> bytes:
    from export.exporter import prepare, render
    from export.requests import ExportRequest

    request = ExportRequest(
        format=fmt,
        figure="km",
        endpoint="OS",
        origin="DX",
        by="sex",
        unit="days",
        cohort={"filters": cohort},
        dpi=300 if fmt in ("png", "tiff") else 600,
    )
    content = prepare(service, request, cohort_source={}, exported_at="2026-01-01T00:00:00Z")
    return render(content, f"attack.{fmt}")[f"attack.{fmt}"]


def _cell(value: Any) -> str:
    from figures.km import format_count

    return format_count(None if value is None or value != value else int(value))


def _count_fields(node: Any, path: str = "") -> list[str]:
    """Paths of manifest fields named like a count that hold a number."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _COUNT_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
                out.append(f"{path}/{key}={value}")
            out += _count_fields(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _count_fields(value, f"{path}[{i}]")
    return out


@pytest.mark.slow
def test_rendered_figures_carry_no_other_count(attack_service, cohorts, scoreboard) -> None:
    """SVG text, PDF text, PNG and TIFF metadata of a Kaplan–Meier export by sex of a random cohort."""
    from export_support import image_info, pdf_info, svg_info
    from pypdf import PdfReader

    from attacks.harness import Score

    cohort = cohorts[3]
    book = export_workbook(
        attack_service, figure="km", endpoint="OS", origin="DX", by="sex", unit="days", cohort={"filters": cohort}
    )
    risk = book["risk_table"]
    expected = [
        _cell(v)
        for g in dict.fromkeys(risk["group"])
        for col in ("at_risk", "censored", "events")
        for v in risk.loc[risk["group"] == g, col]
    ]
    problems: list[str] = []
    svg = _render(attack_service, "svg", cohort)
    if svg_info(svg)["textpoints"] != expected:
        problems.append(f"SVG risk table {svg_info(svg)['textpoints']} != workbook {expected}")
    pdf = _render(attack_service, "pdf", cohort)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    found = [t for t in re.split(r"\s+", text) if re.fullmatch(r"[\d,]+|—", t)]
    if not _subsequence(expected, found):
        problems.append(f"PDF text {found} does not hold the workbook's risk table {expected}")
    manifests = {"svg": svg_info(svg)["manifest"], "pdf": pdf_info(pdf)["manifest"]}
    for fmt in ("png", "tiff"):
        manifests[fmt] = image_info(_render(attack_service, fmt, cohort))["manifest"]
    for fmt, manifest in manifests.items():
        fields = _count_fields(manifest)
        if fields:
            problems.append(f"{fmt} manifest holds counts: {fields[:5]}")
    score = Score("rendered figures (SVG, PDF, PNG, TIFF) beyond the workbook", K)
    score.tried = len(expected) + len(manifests)
    scoreboard(score)
    assert not problems, "; ".join(problems)


def _subsequence(small: list[str], large: list[str]) -> bool:
    it = iter(large)
    return all(any(x == y for y in it) for x in small)
