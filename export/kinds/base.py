"""What a figure kind is: the view it computes, the figure it draws, the tables and the methods sentences.

Adding a kind (a new page's figure) is one ``FigureKind`` value in a module of ``export/kinds`` and one
entry in ``export.kinds.KINDS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ayaall.errors import UserError
from export.requests import ExportRequest
from figures.common import FigureStyle
from reports.service import RegistryService

__all__ = ["ANALYSIS_OPTIONS", "FigureKind", "TableSpec", "check_options", "require_endpoint"]

# Request fields that choose the analysis; each kind says which of them it takes.
ANALYSIS_OPTIONS: dict[str, str] = {
    "endpoint": "--endpoint",
    "origin": "--origin",
    "by": "--by",
    "covariates": "--covariates",
    "refs": "--ref",
    "variables": "--variables",
    "exposure": "--exposure",
    "landmarks": "--landmarks",
    "treatment": "--treatment",
    "levels": "--levels",
    "estimand": "--estimand",
    "target": "--target",
    "trim": "--trim",
    "truncate": "--truncate",
    "line": "--line",
    "outcome": "--outcome",
    "event": "--event",
    "grade": "--grade",
}


@dataclass(frozen=True)
class TableSpec:
    """A table an export writes (a CSV file, an XLSX sheet).

    ``counts`` are its count columns: masked by small-cell suppression (an empty cell), never below
    ``min_cell`` otherwise.
    """

    name: str
    description: str
    counts: tuple[str, ...] = ()


@dataclass(frozen=True)
class FigureKind:
    """One kind of export (``--figure NAME``).

    Attributes
    ----------
    name, label : str
    options : frozenset of str
        The analysis fields of ``ExportRequest`` it takes (others must stay unset).
    tables : tuple of TableSpec
        Its tables; the first is the main one (``--format csv`` without ``--table``).
    compute : callable (service, request) -> view
        The same view function the dashboard page calls: suppressed, display-ready.
    round : callable (view, decimals) -> view
        The view with its estimates rounded (every export shows the rounded numbers).
    figure : callable (view, request, style) -> Figure, or None
        The page's figure builder (None: tables only).
    frames : callable (view, request) -> {table name: DataFrame}
    methods : callable (view, request) -> list of str
        Sentences on the endpoint and the methods of this analysis.
    analysed : callable (view) -> int or None
        The number of patients analysed, as shown (None when masked).
    check : callable (request) -> None
        Raise ``UserError`` for a request this kind cannot run.
    method : mapping
        The fixed method choices (estimator, interval, tests), recorded in the manifest.
    resolve : callable (request) -> request, or None
        Fills the defaults a kind takes from the analysis (e.g. the treatments compared), so that the
        manifest records what was run; None: the request as given.
    """

    name: str
    label: str
    options: frozenset[str]
    tables: tuple[TableSpec, ...]
    compute: Callable[[RegistryService, ExportRequest], Any]
    round: Callable[[Any, int], Any]
    figure: Callable[[Any, ExportRequest, FigureStyle], go.Figure] | None
    frames: Callable[[Any, ExportRequest], Mapping[str, pd.DataFrame]]
    methods: Callable[[Any, ExportRequest], list[str]]
    analysed: Callable[[Any], int | None]
    check: Callable[[ExportRequest], None]
    method: Mapping[str, Any]
    resolve: Callable[[ExportRequest], ExportRequest] | None = None

    @property
    def main_table(self) -> str:
        return self.tables[0].name

    def table(self, name: str | None) -> TableSpec:
        """The table called ``name`` (None: the main one), or a ``UserError`` naming this kind's tables."""
        if name is None:
            return self.tables[0]
        for spec in self.tables:
            if spec.name == name:
                return spec
        names = ", ".join(t.name for t in self.tables)
        raise UserError(f"--figure {self.name} has no table {name!r}; its tables are {names}.")


def check_options(kind_name: str, request: ExportRequest, options: frozenset[str]) -> None:
    """A ``UserError`` when the request sets an analysis option the kind does not take."""
    defaults = ExportRequest(figure=kind_name)
    for field_name, flag in ANALYSIS_OPTIONS.items():
        if field_name not in options and getattr(request, field_name) != getattr(defaults, field_name):
            raise UserError(f"{flag} does not apply to --figure {kind_name}.")


def require_endpoint(kind_name: str, request: ExportRequest) -> None:
    """A ``UserError`` unless the request names a defined (endpoint, origin) pair."""
    from reports.analyze.common import check_endpoint

    if not request.endpoint or not request.origin:
        raise UserError(f"--figure {kind_name} needs --endpoint and --origin.")
    check_endpoint(request.endpoint, request.origin)
