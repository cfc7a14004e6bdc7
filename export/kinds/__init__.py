"""The figure kinds of ``ayaall export --figure``, declared once: name -> view, figure, tables, methods.

The timing page's Simon–Makuch curves and the weighting page's balance plot join as one entry each
when their view modules land.
"""

from __future__ import annotations

from ayaall.errors import UserError
from export.kinds import cif, forest, km, table1
from export.kinds.base import FigureKind, TableSpec

__all__ = ["KINDS", "FigureKind", "TableSpec", "get_kind"]

KINDS: dict[str, FigureKind] = {kind.name: kind for kind in (km.KIND, cif.KIND, forest.KIND, table1.KIND)}


def get_kind(name: str) -> FigureKind:
    """The kind called ``name``, or a ``UserError`` naming the valid ones."""
    try:
        return KINDS[name]
    except KeyError:
        raise UserError(f"--figure {name!r} is not a figure kind; choose one of {', '.join(KINDS)}.") from None
