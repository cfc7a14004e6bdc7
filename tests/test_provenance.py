"""Truthful provenance: the methods text names what computed the numbers (this package's estimators) and
what they are validated against (the R versions whose outputs tests/r holds), not lifelines."""

from __future__ import annotations

from pathlib import Path

from analyses.validation import VALIDATED_AGAINST, validation_sentence
from export.manifest import software_versions
from export.methods import methods_paragraph

ROOT = Path(__file__).resolve().parent.parent


def test_methods_text_names_the_estimators_and_their_validation() -> None:
    text = methods_paragraph(
        ["Survival was estimated with the Kaplan–Meier method."],
        endpoint=("OS", "DX"),
        cohort={"filters": {}},
        analysed=100,
        min_cell=11,
        decimals=4,
        database={"data_cutoff": "2026-06-30"},
        software=software_versions(),
        figure=False,
    )
    assert "computed by the AYA-ALL Outcomes Explorer" in text
    assert validation_sentence() in text
    assert "validated against R 4.2.2 (survival 3.5-3, cmprsk 2.2-11)" in text
    assert "lifelines" not in text


def test_the_r_versions_are_those_of_the_committed_references() -> None:
    """tests/r/README.md says which R versions wrote the committed outputs; VALIDATED_AGAINST repeats them."""
    readme = (ROOT / "tests" / "r" / "README.md").read_text(encoding="utf-8")
    for ref in VALIDATED_AGAINST:
        assert f"{ref.name} {ref.version}" in readme or f"{ref.name} ({ref.version})" in readme, ref
    manifest = software_versions()
    assert manifest["validated_against"] == {r.name: r.version for r in VALIDATED_AGAINST}
    assert "lifelines" not in manifest
