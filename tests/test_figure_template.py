"""The house template carries plotly's "simple_white" defaults for scatter traces only
(``figures.common._house_template``); that is complete only while every figure is drawn with
scatter traces. This builds every export kind's figure (the page's builder) and checks it."""

from __future__ import annotations

import plotly.io as pio
import pytest

from export.kinds import KINDS
from export.requests import ExportRequest
from figures.common import SCREEN_STYLE

_TIMING = {"endpoint": "OS", "origin": "DX", "exposure": "hct"}
_WEIGHTING = {"endpoint": "OS", "origin": "LINE2", "treatment": "salvage_regimen", "covariates": ("age_at_dx",)}
REQUESTS = {
    "km": {"endpoint": "OS", "origin": "DX", "by": "lineage"},
    "cif": {"endpoint": "CIR", "origin": "CR1", "by": "lineage"},
    "forest": {"endpoint": "OS", "origin": "DX", "covariates": ("lineage", "age_at_dx")},
    "landmark": {"landmarks": (180.0, 365.0), **_TIMING},
    "simon-makuch": _TIMING,
    "timing-cox": _TIMING,
    "balance": _WEIGHTING,
    "adjusted-km": _WEIGHTING,
    "weighted-cox": _WEIGHTING,
    "response": {"line": 2, "by": "salvage_regimen"},
    "toxicity": {"line": 2, "by": "sex", "event": "ICANS"},
}


def test_every_figure_kind_is_covered():
    assert set(REQUESTS) == {name for name, kind in KINDS.items() if kind.figure is not None}


@pytest.mark.parametrize("preset", ["screen", "single"])
@pytest.mark.parametrize("name", list(REQUESTS))
def test_figure_traces_are_all_scatter_and_template_matches_simple_white(service, name, preset):
    from export.exporter import prepare

    fields = {"figure": name, **REQUESTS[name], **({} if preset == "screen" else {"preset": preset})}
    request = ExportRequest(cohort={}, min_cell=11, format="svg", **fields)
    content = prepare(service, request, cohort_source={"kind": "test"})
    fig = content.kind.figure(content.view, request, SCREEN_STYLE) if preset == "screen" else content.figure()
    assert len(fig.data) > 0
    assert {trace.type for trace in fig.data} == {"scatter"}
    simple_white = pio.templates["simple_white"]
    assert fig.layout.template.layout == simple_white.layout
    assert fig.layout.template.data.scatter == simple_white.data.scatter
