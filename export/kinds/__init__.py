"""The figure kinds of ``ayaall export --figure``, declared once: name -> view, figure, tables, methods.

One kind per figure of the dashboard: the Survival (km), Competing risks (cif) and Cox (forest) pages,
the cohort page's Table 1 (table1), the Treatment timing page (landmark, simon-makuch, timing-cox), the
Adjusted comparison page (balance, adjusted-km, weighted-cox), the Response page (response) and the
Toxicity page (toxicity).
"""

from __future__ import annotations

from ayaall.errors import UserError
from export.kinds import cif, forest, km, response, table1, timing, toxicity, weighting
from export.kinds.base import FigureKind, TableSpec

__all__ = ["KINDS", "FigureKind", "TableSpec", "get_kind"]

KINDS: dict[str, FigureKind] = {
    kind.name: kind
    for kind in (
        km.KIND,
        cif.KIND,
        forest.KIND,
        table1.KIND,
        timing.LANDMARK,
        timing.SIMON_MAKUCH,
        timing.TIMING_COX,
        weighting.BALANCE,
        weighting.ADJUSTED_KM,
        weighting.WEIGHTED_COX,
        response.KIND,
        toxicity.KIND,
    )
}


def get_kind(name: str) -> FigureKind:
    """The kind called ``name``, or a ``UserError`` naming the valid ones."""
    try:
        return KINDS[name]
    except KeyError:
        raise UserError(f"--figure {name!r} is not a figure kind; choose one of {', '.join(KINDS)}.") from None
