"""The README documents the export as it is declared in code (datasette's test_docs habit): every preset
with its sizes, every format, every figure kind and every table of each kind, every analysis option; and
``ayaall export --help`` names every kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from export.kinds import KINDS
from export.kinds.base import ANALYSIS_OPTIONS
from export.presets import PRESETS
from export.requests import FORMATS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _row(first_cell: str) -> str:
    rows = [line for line in README.splitlines() if line.startswith(f"| {first_cell} |")]
    assert len(rows) == 1, f"README has no single table row for {first_cell}"
    return rows[0]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_every_preset_is_in_the_readme_with_its_sizes(preset):
    cells = [c.strip() for c in _row(f"`{preset.name}`").strip("|").split("|")]
    assert cells[1:] == [
        f"{preset.width_mm:g} mm",
        f"{preset.font_pt:g} pt",
        f"{preset.small_font_pt:g} pt",
        f"{preset.title_font_pt:g} pt",
        f"{preset.line_pt:g} pt",
        f"{preset.thin_line_pt:g} pt",
        f"{preset.axis_line_pt:g} pt",
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_in_the_readme(fmt):
    assert f"`{fmt}`" in README


@pytest.mark.parametrize("kind", list(KINDS.values()), ids=list(KINDS))
def test_every_kind_and_its_tables_are_in_the_readme(kind):
    row = _row(f"`{kind.name}`")
    for table in kind.tables:
        assert f"`{table.name}`" in row, table.name
    assert row.index(f"`{kind.tables[0].name}`") < min(row.index(f"`{t.name}`") for t in kind.tables[1:])


def test_the_command_line_help_names_every_kind():
    """``ayaall export --help`` lists the kinds without loading them (export.command.KIND_NAMES)."""
    import re

    from export.command import KIND_NAMES

    assert re.split(r", | or ", KIND_NAMES) == list(KINDS)


@pytest.mark.parametrize("flag", sorted(set(ANALYSIS_OPTIONS.values())))
def test_every_analysis_option_is_in_the_readme(flag):
    section = README[README.index("## Publication export") : README.index("## Loading a real extract")]
    assert f"{flag} " in section or f"`{flag}`" in section, flag
