"""``ayaall export``: a publication figure, its numbers, its methods text or all of them in a bundle, with
``FILE.manifest.json`` beside it (cli.md); ``--from-manifest`` runs a recorded export again."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from ayaall.errors import UserError
from ayaall.settings import DEFAULT_MIN_CELL

__all__ = ["KIND_NAMES", "register"]

_ANALYSIS_FLAGS = (
    "figure",
    "endpoint",
    "origin",
    "by",
    "unit",
    "covariates",
    "ref",
    "variables",
    "exposure",
    "landmarks",
    "treatment",
    "levels",
    "estimand",
    "target",
    "trim",
    "truncate",
    "line",
    "outcome",
    "event",
    "grade",
    "cohort",
)
#: the figure kinds, as ``export.kinds.KINDS`` declares them (tests/test_export_docs.py keeps them in step;
#: the kinds themselves load the dashboard, which ``ayaall --help`` should not wait for)
KIND_NAMES = (
    "km, cif, forest, table1, landmark, simon-makuch, timing-cox, balance, adjusted-km, weighted-cox, response "
    "or toxicity"
)
_OUTPUT_FLAGS = ("format", "preset", "dpi", "grayscale", "table", "figure_format", "decimals", "min_cell")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``export`` to the ``ayaall`` subcommands."""
    from export.presets import DEFAULT_DPI, DEFAULT_PRESET, DPI_CHOICES, PRESETS
    from export.requests import FIGURE_FORMATS, FORMATS

    p = subparsers.add_parser(
        "export",
        help="write a publication figure, its data, methods text or a bundle, with a provenance manifest",
        description="Export a figure of the dashboard (the same view and figure builder the page uses) at a "
        "journal preset, the numbers behind it (CSV/XLSX), a methods paragraph, or all of them as a zip; "
        "FILE.manifest.json beside the output records everything needed to reproduce it.",
    )
    p.add_argument(
        "--db", help="DuckDB file written by 'ayaall load' (with --from-manifest: default, the recorded one)"
    )
    p.add_argument("--figure", help=KIND_NAMES)
    p.add_argument("--endpoint", help="OS, EFS, RFS, CIR, NRM or GRFS (every kind but table1 and response)")
    p.add_argument("--origin", help="time zero: DX, CR1, REL1, LINE2 or HCT1 (with --endpoint)")
    p.add_argument(
        "--by", help="analysis_patients column whose groups are compared (km, cif, table1, response, toxicity)"
    )
    p.add_argument("--unit", help="time axis unit: days, months (default) or years")
    p.add_argument(
        "--covariates",
        help="comma-separated covariates: of the Cox model (forest), the time-varying Cox model's adjustment "
        "(timing-cox), of the propensity model (balance, adjusted-km, weighted-cox)",
    )
    p.add_argument("--ref", action="append", metavar="COL=LEVEL", help="reference level of a covariate (forest)")
    p.add_argument("--variables", help="comma-separated Table 1 rows (table1; default as 'analyze table1')")
    p.add_argument(
        "--exposure",
        help="hct, car_t or vod_sos, a treatment or toxicity after time zero (landmark, simon-makuch, timing-cox)",
    )
    p.add_argument("--landmarks", help="comma-separated landmark days from time zero, e.g. 180,365 (landmark)")
    p.add_argument(
        "--treatment", help="analysis_patients column of the treatments compared (balance, adjusted-km, weighted-cox)"
    )
    p.add_argument(
        "--levels",
        help="comma-separated treatments compared, the first the reference (default for salvage_regimen and "
        "frontline_regimen: the Adjusted comparison page's)",
    )
    p.add_argument("--estimand", help="ATE (default; stabilized weights) or ATT")
    p.add_argument("--target", help="ATT: the treatment whose patients are the target (default: the last of --levels)")
    p.add_argument("--trim", type=float, help="drop patients with a propensity below this (e.g. 0.01)")
    p.add_argument("--truncate", type=float, help="winsorize the weights at this quantile and 1 minus it")
    p.add_argument("--line", type=int, help="line of therapy: 1 frontline (default), 2 salvage (response, toxicity)")
    p.add_argument("--outcome", help="cr (default; CR/CRi/CRh) or mrd_negative (response)")
    p.add_argument("--event", help="the toxicity the figure shows, e.g. CRS (default) or ICANS (toxicity)")
    p.add_argument("--grade", type=int, help="1 any grade (default) or 3 grade 3 or worse (toxicity)")
    p.add_argument("--cohort", help="cohort file (JSON, see cli.md)")
    p.add_argument("--format", help=f"{'|'.join(FORMATS)} (default: from --out's extension)")
    p.add_argument(
        "--preset",
        help=f"journal preset: {', '.join(f'{x.name} ({x.width_mm:g} mm)' for x in PRESETS)}; default {DEFAULT_PRESET}",
    )
    p.add_argument(
        "--dpi", type=int, help=f"png/tiff resolution: {', '.join(map(str, DPI_CHOICES))} (default {DEFAULT_DPI})"
    )
    p.add_argument("--grayscale", action="store_true", default=None, help="gray levels, dashes and markers")
    p.add_argument("--table", help="with --format csv: which table (default: the figure's main table)")
    p.add_argument("--figure-format", help=f"with --format zip: {'|'.join(FIGURE_FORMATS)} (default pdf)")
    p.add_argument("--decimals", type=int, help="round exported estimates to this many decimals (default 4)")
    p.add_argument(
        "--min-cell",
        type=int,
        help=f"small-cell suppression threshold: counts below it are masked (default {DEFAULT_MIN_CELL}; 0 turns "
        "it off)",
    )
    p.add_argument("--out", type=Path, help="output file (with --from-manifest: default, the recorded name)")
    p.add_argument("--from-manifest", type=Path, metavar="MANIFEST", help="run the export a manifest records again")
    p.add_argument(
        "--allow-other-load",
        action="store_true",
        help="with --from-manifest: export even if the database holds another load than the manifest's",
    )
    p.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    if args.from_manifest is not None:
        return _from_manifest(args)
    for flag in ("db", "figure", "out"):
        if getattr(args, flag) is None:
            raise UserError(f"--{flag} is required (or give --from-manifest).")
    if args.allow_other_load:
        raise UserError("--allow-other-load applies to --from-manifest only.")
    request, source = _request(args)
    return _write(args.db, request, args.out, source)


def _request(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    from ayaall.cohort import CohortSpec
    from export.exporter import EXTENSIONS
    from export.requests import ExportRequest

    fmt = args.format or next((f for f, exts in EXTENSIONS.items() if args.out.suffix.lower() in exts), None)
    if fmt is None:
        raise UserError(f"give --format: the extension of --out {args.out} does not name one.")
    source: dict[str, Any] = {"kind": "none"}
    cohort: dict[str, Any] = {"filters": {}}
    if args.cohort:
        path = Path(args.cohort)
        spec = CohortSpec.from_file(path)  # checks the file, naming it on error
        raw = path.read_bytes()
        cohort = spec.to_dict()
        source = {
            "kind": "file",
            "path": str(path.resolve()),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "content": json.loads(raw),
        }
    values: dict[str, Any] = {
        "figure": args.figure,
        "endpoint": args.endpoint,
        "origin": args.origin,
        "by": args.by,
        "covariates": tuple(c.strip() for c in (args.covariates or "").split(",") if c.strip()),
        "refs": _refs(args.ref or []),
        "variables": tuple(v.strip() for v in (args.variables or "").split(",") if v.strip()),
        "exposure": args.exposure,
        "landmarks": _landmarks(args.landmarks),
        "treatment": args.treatment,
        "levels": tuple(v.strip() for v in (args.levels or "").split(",") if v.strip()),
        "target": args.target,
        "trim": args.trim,
        "truncate": args.truncate,
        "cohort": cohort,
        "format": fmt,
    }
    if args.estimand is not None:
        values["estimand"] = args.estimand.upper()
    for name in (
        "unit",
        "line",
        "outcome",
        "event",
        "grade",
        "preset",
        "dpi",
        "grayscale",
        "table",
        "figure_format",
        "decimals",
        "min_cell",
    ):
        value = getattr(args, name)
        if value is not None:
            values[name] = value
    return ExportRequest(**values), source


def _landmarks(text: str | None) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in (text or "").split(",") if v.strip())
    except ValueError:
        raise UserError(f"--landmarks must be comma-separated numbers of days, not {text!r}.") from None


def _refs(items: list[str]) -> tuple[tuple[str, str], ...]:
    refs: dict[str, str] = {}
    for item in (part for arg in items for part in arg.split(",") if part.strip()):
        if "=" not in item:
            raise UserError(f"--ref takes COLUMN=LEVEL, not {item!r}.")
        col, level = item.split("=", 1)
        refs[col.strip()] = level.strip()
    return tuple(refs.items())


def _write(db: str, request: Any, out: Path, source: dict[str, Any], extra: dict[str, Any] | None = None) -> int:
    from export.exporter import write
    from reports.service import RegistryService

    service = RegistryService(db)
    try:
        paths = write(service, request, out, cohort_source=source, extra=extra)
    finally:
        service.close()
    print("\n".join(str(p) for p in paths))
    return 0


def _from_manifest(args: argparse.Namespace) -> int:
    from export.manifest import database_provenance, read_manifest
    from export.requests import ExportRequest
    from reports.service import RegistryService

    set_flags = [f for f in (*_ANALYSIS_FLAGS, *_OUTPUT_FLAGS) if getattr(args, f) is not None]
    if set_flags:
        flag = "--" + set_flags[0].replace("_", "-")
        raise UserError(f"{flag} cannot be combined with --from-manifest (the manifest fixes the export).")
    manifest = read_manifest(args.from_manifest)
    request = ExportRequest.from_dict(manifest["request"])
    db = args.db or manifest.get("database", {}).get("path")
    if not db:
        raise UserError(f"{args.from_manifest} records no database path; give --db.")
    recorded = manifest.get("database", {}).get("load_id")
    service = RegistryService(db)
    try:
        current = database_provenance(service).get("load_id")
    finally:
        service.close()
    if current != recorded:
        if not args.allow_other_load:
            raise UserError(
                f"{db} holds load {current}, not the manifest's load {recorded}, so the export would not reproduce "
                "it; pass --allow-other-load to export from this load anyway."
            )
        print(
            f"ayaall export: warning: exporting from load {current}, not the manifest's load {recorded}.",
            file=sys.stderr,
        )
    recorded_name = manifest.get("export", {}).get("outputs", {}).get("file")
    if args.out is None and not recorded_name:
        raise UserError(f"{args.from_manifest} records no output file name; give --out.")
    out = args.out or args.from_manifest.parent / recorded_name
    raw = args.from_manifest.read_bytes()
    extra = {
        "reproduces": {
            "manifest": str(args.from_manifest.resolve()),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "exported_at": manifest.get("exported_at"),
            "load_id": recorded,
        }
    }
    return _write(db, request, Path(out), manifest.get("cohort") or {"kind": "none"}, extra)
