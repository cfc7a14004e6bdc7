"""One export, start to finish: request -> the page's suppressed view -> figure, tables, methods and
manifest -> files.

``prepare`` runs the analysis through the same view function the dashboard page calls (so an exported
figure is the page's figure) and rounds its estimates once; everything written afterwards (figure,
CSV, XLSX, methods) comes from that one rounded view. ``render`` turns it into the bytes of the
requested format, with the manifest inside where the format allows; ``write`` puts them on disk with
``FILE.manifest.json`` beside them, which lists the sha256 of everything written.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from ayaall.errors import UserError
from export.formats import figure_bytes
from export.kinds import KINDS, FigureKind, get_kind
from export.manifest import (
    build_manifest,
    database_provenance,
    embedded_copy,
    manifest_bytes,
    manifest_path,
    sha256_bytes,
    software_versions,
    utc_now,
    write_manifest,
)
from export.methods import methods_paragraph
from export.presets import get_preset, style_for
from export.render import get_renderer
from export.requests import FIGURE_FORMATS, ExportRequest
from export.tables import csv_bytes, xlsx_bytes
from reports.service import RegistryService

__all__ = ["EXTENSIONS", "ExportContent", "default_stem", "prepare", "render", "to_memory", "write"]

# File name endings each format accepts (the first is the one written by default).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "svg": (".svg",),
    "pdf": (".pdf",),
    "png": (".png",),
    "tiff": (".tiff", ".tif"),
    "csv": (".csv",),
    "xlsx": (".xlsx",),
    "txt": (".txt",),
    "zip": (".zip",),
}


@dataclass(frozen=True)
class ExportContent:
    """An export's content before it is written: the rounded view and what is made from it."""

    request: ExportRequest
    kind: FigureKind
    view: Any
    frames: Mapping[str, pd.DataFrame]
    methods: str
    manifest: dict[str, Any]  # without file hashes

    def figure(self, fmt: str | None = None) -> go.Figure:
        """The kind's figure in the request's preset and palette."""
        if self.kind.figure is None:
            raise UserError(f"--figure {self.kind.name} has no figure; use --format csv, xlsx, txt or zip.")
        style = style_for(get_preset(self.request.preset), grayscale=self.request.grayscale)
        fig = self.kind.figure(self.view, self.request, style)
        for i, trace in enumerate(fig.data):  # fixed trace ids (plotly.js would draw random ones)
            trace.uid = f"trace-{i}"
        return fig


def default_stem(request: ExportRequest) -> str:
    """A file name stem naming the analysis, e.g. ``km_OS_DX_by_lineage``, ``landmark_OS_DX_hct``,
    ``response_line1_cr_by_frontline_regimen``."""
    options = KINDS[request.figure].options if request.figure in KINDS else frozenset()
    parts: list[str | None] = [request.figure, request.endpoint, request.origin]
    if "exposure" in options:
        parts.append(request.exposure)
    if "treatment" in options:
        parts.append(request.treatment)
    if "event" in options:
        parts += [f"line{request.line}", request.event or "CRS", f"grade{request.grade}"]
    elif "line" in options:
        parts += [f"line{request.line}", request.outcome]
    if request.by:
        parts.append(f"by_{request.by}")
    return "_".join(p for p in parts if p)


def prepare(
    service: RegistryService,
    request: ExportRequest,
    *,
    cohort_source: Mapping[str, Any],
    outputs: Mapping[str, str] | None = None,
    exported_at: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ExportContent:
    """Check the request, run the view, round it, and build the tables, methods text and manifest."""
    request.check()
    kind = get_kind(request.figure)
    kind.check(request)
    if kind.resolve is not None:
        request = kind.resolve(request)
    if request.format == "csv":
        kind.table(request.table)
    elif request.table is not None:
        raise UserError("--table applies to --format csv only (xlsx and zip hold every table).")
    if kind.figure is None and request.format in FIGURE_FORMATS:
        raise UserError(f"--figure {kind.name} has no figure; use --format csv, xlsx, txt or zip.")
    view = kind.round(kind.compute(service, request), request.decimals)
    frames = kind.frames(view, request)
    database = database_provenance(service)
    software = software_versions()
    methods = methods_paragraph(
        kind.methods(view, request),
        endpoint=(request.endpoint, request.origin) if request.endpoint and request.origin else None,
        cohort=request.cohort,
        analysed=kind.analysed(view),
        min_cell=request.min_cell,
        decimals=request.decimals,
        database=database,
        software=software,
        figure=kind.figure is not None,
    )
    parameters = {name: request.to_dict()[name] for name in sorted(kind.options)}
    parameters |= {"unit": request.unit, **kind.method}
    manifest = build_manifest(
        request,
        kind_label=kind.label,
        parameters=parameters,
        cohort_source=cohort_source,
        database=database,
        software=software,
        exported_at=exported_at or utc_now(),
        outputs=outputs or {},
    )
    manifest |= dict(extra or {})
    return ExportContent(request, kind, view, frames, methods, manifest)


def render(content: ExportContent, name: str) -> dict[str, bytes]:
    """The files of the export, by name: one file named ``name`` (a zip for the bundle)."""
    request = content.request
    fmt = request.format
    if fmt == "zip":
        return {name: _bundle(content, Path(name).stem)}
    return {name: _single(content, fmt, request.table)}


def _single(content: ExportContent, fmt: str, table: str | None) -> bytes:
    request, kind = content.request, content.kind
    embedded = embedded_copy(content.manifest)
    if fmt in FIGURE_FORMATS:
        fig = content.figure()
        return figure_bytes(
            get_renderer(),
            fig,
            fmt,
            width_mm=get_preset(request.preset).width_mm,
            dpi=request.dpi,
            grayscale=request.grayscale,
            manifest=embedded,
            title=f"{kind.label}: {default_stem(request)}",
        )
    if fmt == "csv":
        spec = kind.table(table)
        return csv_bytes(content.frames[spec.name], spec)
    if fmt == "xlsx":
        return xlsx_bytes(
            content.frames,
            kind.tables,
            methods=content.methods,
            manifest={**content.manifest, "embedded": True},
            exported_at=content.manifest["exported_at"],
        )
    if fmt == "txt":
        return (content.methods + "\n").encode("utf-8")
    raise UserError(f"--format {fmt!r} is not a format.")


def _bundle(content: ExportContent, stem: str) -> bytes:
    """figure + every table as CSV + the XLSX + methods.txt + manifest.json, in a folder ``stem/``."""
    kind = content.kind
    files: dict[str, bytes] = {}
    if kind.figure is not None:
        ext = EXTENSIONS[content.request.figure_format][0]
        files[f"{stem}{ext}"] = _single(content, content.request.figure_format, None)
    for spec in kind.tables:
        files[f"{stem}_{spec.name}.csv"] = _single(content, "csv", spec.name)
    files[f"{stem}.xlsx"] = _single(content, "xlsx", None)
    files[f"{stem}_methods.txt"] = _single(content, "txt", None)
    inner = {**content.manifest, "files": _hashes(files)}
    files["manifest.json"] = manifest_bytes(inner)
    stamp = _zip_time(content.manifest["exported_at"])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in files.items():
            info = zipfile.ZipInfo(f"{stem}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            bundle.writestr(info, data)
    return out.getvalue()


def _zip_time(exported_at: str) -> tuple[int, int, int, int, int, int]:
    from datetime import datetime

    t = datetime.fromisoformat(exported_at.replace("Z", "+00:00"))
    return (t.year, t.month, t.day, t.hour, t.minute, t.second)


def _hashes(files: Mapping[str, bytes]) -> list[dict[str, Any]]:
    return [{"path": name, "sha256": sha256_bytes(data), "bytes": len(data)} for name, data in files.items()]


def to_memory(
    service: RegistryService,
    request: ExportRequest,
    name: str,
    *,
    cohort_source: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """The export's file (named ``name``) and its manifest, which lists the file's sha256 (and, for a
    bundle, every file inside it)."""
    allowed = EXTENSIONS.get(request.format, ())
    if allowed and Path(name).suffix.lower() not in allowed:
        raise UserError(f"--out {name} should end in {' or '.join(allowed)} for --format {request.format}.")
    content = prepare(service, request, cohort_source=cohort_source, outputs={"file": name}, extra=extra)
    data = render(content, name)[name]
    files = _hashes({name: data})
    if request.format == "zip":
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            files += [
                {"path": f"{name}!/{i.filename}", "sha256": sha256_bytes(bundle.read(i)), "bytes": i.file_size}
                for i in bundle.infolist()
            ]
    return data, {**content.manifest, "files": files}


def write(
    service: RegistryService,
    request: ExportRequest,
    out: Path,
    *,
    cohort_source: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Export ``request`` to ``out`` and ``out.manifest.json`` beside it; returns the paths written.

    ``extra`` adds top-level manifest fields (``--from-manifest`` records the manifest it reproduces).
    """
    if not out.parent.is_dir():
        raise UserError(f"the folder of --out {out} does not exist.")
    data, manifest = to_memory(service, request, out.name, cohort_source=cohort_source, extra=extra)
    out.write_bytes(data)
    sidecar = manifest_path(out)
    write_manifest(sidecar, manifest)
    return [out, sidecar]
