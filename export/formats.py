"""File formats of an exported figure, each carrying its manifest and its true size.

- SVG: width and height in mm on the root element (the drawing keeps its CSS-px ``viewBox``), the
  manifest in a ``<metadata>`` element.
- PDF: vector, fonts embedded (Chromium embeds subsets), a page of exactly the preset's width in pt
  (``mm / 25.4 * 72``), the manifest in the document information dictionary (``/AyaallManifest``).
- PNG: ``round(mm / 25.4 * dpi)`` pixels wide, the dpi in the ``pHYs`` chunk, the manifest in an
  ``iTXt`` chunk (keyword ``ayaall:manifest``).
- TIFF: the same pixels, LZW-compressed, the dpi in the resolution tags, the manifest in
  ``ImageDescription``.

Grayscale figures are written as 8-bit gray images.
"""

from __future__ import annotations

import io
import re

import plotly.graph_objects as go
from PIL import Image, PngImagePlugin
from pypdf import PdfReader, PdfWriter
from pypdf.generic import RectangleObject

from export.render import Renderer

__all__ = ["MANIFEST_KEY", "PDF_MANIFEST_KEY", "figure_bytes", "pixel_width"]

MANIFEST_KEY = "ayaall:manifest"
PDF_MANIFEST_KEY = "/AyaallManifest"
_PX_PER_MM = 96 / 25.4
_PT_PER_PX = 72 / 96


def pixel_width(width_mm: float, dpi: int) -> int:
    """The pixel width of a raster figure ``width_mm`` wide at ``dpi``."""
    return round(width_mm / 25.4 * dpi)


def figure_bytes(
    renderer: Renderer,
    fig: go.Figure,
    fmt: str,
    *,
    width_mm: float,
    dpi: int,
    grayscale: bool,
    manifest: str,
    title: str,
) -> bytes:
    """The figure as a file of format ``fmt`` (svg, pdf, png, tiff) with ``manifest`` inside it."""
    width_px = float(fig.layout.width)
    height_px = float(fig.layout.height)
    if fmt == "svg":
        return _svg(renderer.svg(fig), width_px, height_px, manifest)
    if fmt == "pdf":
        raw = renderer.pdf(_stable_ids(renderer.svg(fig)), width_px, height_px)
        return _pdf(raw, width_px * _PT_PER_PX, height_px * _PT_PER_PX, manifest, title)
    # Raster: scale so that the canvas (width x scale, truncated to whole pixels) is exactly the width.
    target = pixel_width(width_mm, dpi)
    image = _flatten(Image.open(io.BytesIO(renderer.png(fig, (target + 0.25) / width_px))), grayscale)
    if fmt == "png":
        info = PngImagePlugin.PngInfo()
        info.add_itxt(MANIFEST_KEY, manifest, zip=True)
        return _save(image, "PNG", dpi=(dpi, dpi), pnginfo=info)
    if fmt == "tiff":
        return _save(image, "TIFF", dpi=(dpi, dpi), compression="tiff_lzw", description=manifest)
    raise ValueError(f"not a figure format: {fmt}")


def _stable_ids(svg: str) -> str:
    """plotly.js names clip paths and defs after a random id per render; a fixed one makes the SVG (and the
    PDF printed from it) the same on every run."""
    found = re.search(r'id="defs-([0-9a-f]+)"', svg)
    if found is None:
        return svg
    uid = found.group(1)
    for prefix in ("defs-", "clip", "legend"):
        svg = svg.replace(prefix + uid, prefix + "ayaall")
    return svg


def _svg(svg: str, width_px: float, height_px: float, manifest: str) -> bytes:
    svg = _stable_ids(svg)
    match = re.search(r"<svg\b[^>]*>", svg)
    if match is None:
        raise RuntimeError("the renderer returned no SVG element")
    root = match.group(0)
    sized = re.sub(r'\swidth="[^"]*"', f' width="{_mm(width_px)}mm"', root, count=1)
    sized = re.sub(r'\sheight="[^"]*"', f' height="{_mm(height_px)}mm"', sized, count=1)
    if "viewBox" not in sized:
        sized = sized[:-1] + f' viewBox="0 0 {width_px} {height_px}">'
    cdata = manifest.replace("]]>", "]]]]><![CDATA[>")
    metadata = f'<metadata id="ayaall-manifest"><![CDATA[{cdata}]]></metadata>'
    body = svg[: match.start()] + sized + metadata + svg[match.end() :]
    return ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + body).encode("utf-8")


def _mm(px: float) -> str:
    return f"{px / _PX_PER_MM:.3f}".rstrip("0").rstrip(".")


def _pdf(raw: bytes, width_pt: float, height_pt: float, manifest: str, title: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(raw)))
    # Chromium rounds the paper up to 1/300 in; trim the page to the exact size (the figure is drawn from
    # the top left, so only white is cut at the right and the bottom).
    for page in writer.pages:
        top = float(page.mediabox.top)
        box = RectangleObject([0, top - height_pt, width_pt, top])
        page.mediabox = box
        page.cropbox = box
    writer.add_metadata({"/Title": title, "/Creator": "ayaall export", PDF_MANIFEST_KEY: manifest})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _flatten(image: Image.Image, grayscale: bool) -> Image.Image:
    """On white, without alpha; gray when the figure is grayscale."""
    rgba = image.convert("RGBA")
    flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat.alpha_composite(rgba)
    return flat.convert("L" if grayscale else "RGB")


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()
