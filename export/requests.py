"""What to export, as plain values: ``ExportRequest``.

A request names the analysis (figure kind, endpoint, grouping, covariates, cohort, ``min_cell``) and
how to write it (format, preset, dpi, grayscale, table, rounding). It is what the command line parses,
what a dashboard download builds from the page's controls and what a manifest records, so
``ayaall export --from-manifest`` can run it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ayaall.errors import UserError
from ayaall.settings import DEFAULT_MIN_CELL
from export.presets import DEFAULT_DPI, DEFAULT_PRESET, DPI_CHOICES, get_preset

__all__ = ["DATA_FORMATS", "FIGURE_FORMATS", "FORMATS", "ExportRequest"]

FIGURE_FORMATS: tuple[str, ...] = ("svg", "pdf", "png", "tiff")
DATA_FORMATS: tuple[str, ...] = ("csv", "xlsx")
FORMATS: tuple[str, ...] = (*FIGURE_FORMATS, *DATA_FORMATS, "txt", "zip")
_MAX_DECIMALS = 10


@dataclass(frozen=True)
class ExportRequest:
    """One export: the analysis and how to write it.

    Attributes
    ----------
    figure : str
        The figure kind (``export.kinds.KINDS``), e.g. km, cif, forest, table1, landmark, balance, response.
    endpoint, origin : str or None
        The endpoint and its time zero (every kind with curves or hazard ratios).
    by : str or None
        Grouping column (km, cif, response; table1's columns).
    unit : str
        Time axis unit: days, months or years.
    covariates : tuple of str
        Cox covariates (forest), the time-varying Cox model's adjustment (timing-cox) or the propensity
        model's covariates (balance, adjusted-km, weighted-cox).
    refs : tuple of (column, level)
        Reference levels of text covariates (forest).
    variables : tuple of str
        Table 1 rows (default: ``analyze table1``'s).
    exposure : str or None
        A treatment that starts after time zero, ``hct`` or ``car_t`` (landmark, simon-makuch, timing-cox).
    landmarks : tuple of float
        Landmark days from time zero (landmark).
    treatment : str or None
        The ``analysis_patients`` column whose treatments are compared by weighting (balance, adjusted-km,
        weighted-cox).
    levels : tuple of str
        The treatments compared, the first the reference (default for a treatment the Adjusted
        comparison page knows: its default comparison).
    estimand : str
        ``ATE`` (stabilized weights) or ``ATT``.
    target : str or None
        ATT: the treatment whose patients are the target population (default: the last of ``levels``).
    trim, truncate : float or None
        Drop patients with a propensity below ``trim``; winsorize the weights at the ``truncate`` and
        ``1 - truncate`` quantiles.
    line : int
        Line of therapy, 1 (frontline) or 2 (salvage) (response).
    outcome : str
        ``cr`` (CR/CRi/CRh) or ``mrd_negative`` (response).
    event : str or None
        The toxicity the figure shows (toxicity; default CRS); the tables hold every toxicity.
    grade : int
        The grade threshold of the figure's cumulative incidence: 1 any grade, 3 grade 3 or worse (toxicity).
    cohort : dict
        The cohort file's content (``{"filters": {...}}``); empty filters = the whole registry.
    min_cell : int
        Small-cell suppression threshold (0 = off).
    format : str
        One of ``FORMATS``.
    preset : str
        A journal preset (``export.presets.PRESETS``).
    dpi : int
        Raster resolution for png and tiff.
    grayscale : bool
    table : str or None
        For csv: which table (default: the kind's main table).
    figure_format : str
        For zip: the figure's format.
    decimals : int
        Estimates are rounded to this many decimals in every export.
    """

    figure: str
    endpoint: str | None = None
    origin: str | None = None
    by: str | None = None
    unit: str = "months"
    covariates: tuple[str, ...] = ()
    refs: tuple[tuple[str, str], ...] = ()
    variables: tuple[str, ...] = ()
    exposure: str | None = None
    landmarks: tuple[float, ...] = ()
    treatment: str | None = None
    levels: tuple[str, ...] = ()
    estimand: str = "ATE"
    target: str | None = None
    trim: float | None = None
    truncate: float | None = None
    line: int = 1
    outcome: str = "cr"
    event: str | None = None
    grade: int = 1
    cohort: Mapping[str, Any] = field(default_factory=lambda: {"filters": {}})
    min_cell: int = DEFAULT_MIN_CELL
    format: str = "pdf"
    preset: str = DEFAULT_PRESET
    dpi: int = DEFAULT_DPI
    grayscale: bool = False
    table: str | None = None
    figure_format: str = "pdf"
    decimals: int = 4

    def check(self) -> None:
        """Raise ``UserError`` (one sentence) for a value no export can take; the figure kind checks the rest."""
        if self.format not in FORMATS:
            raise UserError(f"--format {self.format!r} is not a format; choose one of {', '.join(FORMATS)}.")
        if self.figure_format not in FIGURE_FORMATS:
            raise UserError(
                f"--figure-format {self.figure_format!r} is not a figure format; "
                f"choose one of {', '.join(FIGURE_FORMATS)}."
            )
        get_preset(self.preset)
        if self.dpi not in DPI_CHOICES:
            raise UserError(f"--dpi {self.dpi} is not offered; choose one of {', '.join(map(str, DPI_CHOICES))}.")
        from ayaall.units import TIME_UNITS

        if self.unit not in TIME_UNITS:
            raise UserError(f"--unit {self.unit!r} is not a time unit; choose one of {', '.join(TIME_UNITS)}.")
        if self.min_cell < 0:
            raise UserError(f"--min-cell must be 0 or more, not {self.min_cell}.")
        if not 0 <= self.decimals <= _MAX_DECIMALS:
            raise UserError(f"--decimals must be between 0 and {_MAX_DECIMALS}, not {self.decimals}.")

    def to_dict(self) -> dict[str, Any]:
        """The request as JSON-ready values (tuples become lists)."""
        out = asdict(self)
        out["covariates"] = list(self.covariates)
        out["refs"] = [list(r) for r in self.refs]
        out["variables"] = list(self.variables)
        out["landmarks"] = list(self.landmarks)
        out["levels"] = list(self.levels)
        out["cohort"] = dict(self.cohort)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExportRequest:
        """The request a manifest recorded (``to_dict``'s output); unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"the manifest's request has unknown field {unknown[0]!r}; was it written by ayaall?")
        values = dict(data)
        for key in ("covariates", "variables", "levels"):
            values[key] = tuple(values.get(key) or ())
        values["landmarks"] = tuple(float(v) for v in values.get("landmarks") or ())
        values["refs"] = tuple((str(c), str(v)) for c, v in values.get("refs") or ())
        try:
            return cls(**values)
        except TypeError as exc:
            raise UserError(f"the manifest's request is incomplete ({exc}).") from exc
