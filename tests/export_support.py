"""Helpers shared by the export tests: run an export in memory or to disk, and read what each file
format says about itself (size, dpi, embedded manifest), with the libraries a journal's checker uses
(pypdf, Pillow, an XML parser)."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from PIL import Image
from pypdf import PdfReader

SVG_NS = "{http://www.w3.org/2000/svg}"


def svg_info(data: bytes) -> dict[str, Any]:
    """Width and height (mm), the embedded manifest and the text of the risk table's cells."""
    root = ET.fromstring(data)
    assert root.tag == f"{SVG_NS}svg"
    meta = root.find(f"{SVG_NS}metadata")
    texts = [
        "".join(t.itertext())
        for g in root.iter(f"{SVG_NS}g")
        if "textpoint" in (g.get("class") or "")
        for t in g.iter(f"{SVG_NS}text")
    ]
    return {
        "width": root.get("width"),
        "height": root.get("height"),
        "viewBox": root.get("viewBox"),
        "manifest": json.loads(meta.text) if meta is not None and meta.text else None,
        "textpoints": texts,
        "all_text": ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")],
    }


def pdf_info(data: bytes) -> dict[str, Any]:
    """Page size (pt), whether every font is embedded, and the embedded manifest."""
    reader = PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    fonts = []
    resources = page["/Resources"]
    for _, ref in (resources.get("/Font") or {}).items():
        font = ref.get_object()
        subtype = font.get("/Subtype")
        if subtype == "/Type3":  # glyphs drawn by procedures inside the file: embedded by definition
            fonts.append((font.get("/BaseFont"), True))
            continue
        target = font["/DescendantFonts"][0].get_object() if subtype == "/Type0" else font
        descriptor = target["/FontDescriptor"].get_object()
        embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        fonts.append((font.get("/BaseFont"), embedded))
    box = page.mediabox
    meta = reader.metadata or {}
    return {
        "pages": len(reader.pages),
        "width_pt": float(box.width),
        "height_pt": float(box.height),
        "fonts": fonts,
        "manifest": json.loads(meta["/AyaallManifest"]) if "/AyaallManifest" in meta else None,
    }


def image_info(data: bytes) -> dict[str, Any]:
    """Format, pixel size, dpi, mode and the embedded manifest of a PNG or TIFF."""
    image = Image.open(io.BytesIO(data))
    # PNG: the iTXt chunk; TIFF: ImageDescription (tag 270).
    manifest = image.text.get("ayaall:manifest") if image.format == "PNG" else image.tag_v2.get(270)  # type: ignore[attr-defined]
    return {
        "format": image.format,
        "size": image.size,
        "dpi": tuple(round(float(d), 2) for d in image.info.get("dpi", (0, 0))),
        "mode": image.mode,
        "manifest": json.loads(manifest) if manifest else None,
    }


def export_file(service: Any, tmp: Path, name: str, **fields: Any) -> tuple[bytes, dict[str, Any]]:
    """Export ``ExportRequest(**fields)`` to ``tmp/name``; the file's bytes and its manifest beside it."""
    from export.exporter import write
    from export.requests import ExportRequest

    out = tmp / name
    write(service, ExportRequest(**fields), out, cohort_source={"kind": "test"})
    manifest = json.loads((tmp / f"{name}.manifest.json").read_text(encoding="utf-8"))
    return out.read_bytes(), manifest


# The new pages' figure kinds, each with the options its page starts with (Treatment timing: transplant,
# OS from diagnosis, landmarks 180 and 365; Adjusted comparison: the salvage regimens from LINE2;
# Response: salvage CR by regimen).
_TIMING = {"endpoint": "OS", "origin": "DX", "exposure": "hct"}
_WEIGHTING = {
    "endpoint": "OS",
    "origin": "LINE2",
    "treatment": "salvage_regimen",
    "covariates": ("age_at_dx", "cns_status", "mrd_eoi"),
}
TREATMENT_KINDS: dict[str, dict[str, Any]] = {
    "landmark": {"figure": "landmark", "landmarks": (180.0, 365.0), **_TIMING},
    "simon-makuch": {"figure": "simon-makuch", **_TIMING},
    "timing-cox": {"figure": "timing-cox", **_TIMING, "covariates": ("age_at_dx",)},
    "balance": {"figure": "balance", **_WEIGHTING},
    "adjusted-km": {"figure": "adjusted-km", **_WEIGHTING},
    "weighted-cox": {"figure": "weighted-cox", **_WEIGHTING},
    "response": {"figure": "response", "line": 2, "outcome": "cr", "by": "salvage_regimen"},
}
