"""Each export format opens and is what it claims: SVG parses with its width in mm, the PDF's page is the
preset's width in pt and embeds every font, PNG and TIFF carry the dpi asked for and the preset's pixel
width; every figure file holds its manifest. The full format x preset matrix is run on the Kaplan–Meier
figure and on the response figure; the other figures of the Survival, Competing risks and Cox pages in
one format each, those of the Treatment timing and Adjusted comparison pages in every figure format at one
preset each, and every new kind's data formats (csv, xlsx, zip).

Expected sizes come from the presets (``export.presets.PRESETS``): width_mm / 25.4 * 72 pt for PDF,
round(width_mm / 25.4 * dpi) px for rasters (1 in = 25.4 mm = 72 pt).
"""

from __future__ import annotations

import pytest
from export_support import TREATMENT_KINDS, export_file, image_info, pdf_info, svg_info

from export.presets import PRESETS

KM = {"figure": "km", "endpoint": "OS", "origin": "DX", "by": "lineage", "unit": "years"}
MATRIX = [(fmt, p.name) for fmt in ("svg", "pdf", "png", "tiff") for p in PRESETS]


def _check_manifest(manifest, fmt: str, preset: str | None, *, embedded: bool) -> None:
    assert manifest is not None, "no manifest in the file"
    assert manifest["schema"] == "ayaall-export-manifest/1"
    assert manifest["export"]["format"] == fmt
    assert manifest["export"]["preset"] == preset
    assert manifest["embedded"] is embedded
    assert manifest["database"]["load_id"].startswith("L0001-")
    assert manifest["min_cell"] == 11


def _check_figure_file(service, tmp_path, fields, fmt: str, preset: str) -> None:
    """Export ``fields`` as ``fmt`` at ``preset`` (300 dpi) and check the file's size, fonts and manifests."""
    spec = next(p for p in PRESETS if p.name == preset)
    data, sidecar = export_file(service, tmp_path, f"fig.{fmt}", **fields, format=fmt, preset=preset, dpi=300)
    _check_manifest(sidecar, fmt, preset, embedded=False)
    assert sidecar["files"][0]["path"] == f"fig.{fmt}"
    if fmt == "svg":
        info = svg_info(data)
        assert info["width"] == f"{spec.width_mm:g}mm"
        assert info["height"].endswith("mm")
        assert float(info["height"][:-2]) > 0
        assert info["viewBox"].startswith("0 0 ")
        embedded = info["manifest"]
    elif fmt == "pdf":
        info = pdf_info(data)
        assert info["pages"] == 1
        assert info["width_pt"] == pytest.approx(spec.width_mm / 25.4 * 72, abs=0.01)
        assert info["fonts"], "the PDF has no text fonts"
        assert all(embedded for _, embedded in info["fonts"]), info["fonts"]
        embedded = info["manifest"]
    else:
        info = image_info(data)
        assert info["format"] == {"png": "PNG", "tiff": "TIFF"}[fmt]
        assert info["size"][0] == round(spec.width_mm / 25.4 * 300)
        assert info["dpi"] == pytest.approx((300, 300), abs=0.01)
        assert info["mode"] == "RGB"
        embedded = info["manifest"]
    _check_manifest(embedded, fmt, preset, embedded=True)
    assert embedded["files"] is None  # a file cannot hold its own hash
    assert {k: v for k, v in embedded.items() if k not in ("files", "embedded")} == {
        k: v for k, v in sidecar.items() if k not in ("files", "embedded")
    }
    assert embedded["request"]["figure"] == fields["figure"]


@pytest.mark.parametrize(("fmt", "preset"), MATRIX, ids=[f"{f}-{p}" for f, p in MATRIX])
def test_km_figure_in_every_format_and_preset(service, tmp_path, fmt, preset):
    _check_figure_file(service, tmp_path, KM, fmt, preset)


@pytest.mark.parametrize(("fmt", "preset"), MATRIX, ids=[f"{f}-{p}" for f, p in MATRIX])
def test_response_figure_in_every_format_and_preset(service, tmp_path, fmt, preset):
    _check_figure_file(service, tmp_path, TREATMENT_KINDS["response"], fmt, preset)


# The other new kinds in every figure format, the presets taking turns.
_NEW = [name for name in TREATMENT_KINDS if name != "response"]
NEW_KIND_FORMATS = [
    (name, fmt, PRESETS[(i + j) % len(PRESETS)].name)
    for i, name in enumerate(_NEW)
    for j, fmt in enumerate(("svg", "pdf", "png", "tiff"))
]


@pytest.mark.parametrize(
    ("name", "fmt", "preset"), NEW_KIND_FORMATS, ids=[f"{n}-{f}-{p}" for n, f, p in NEW_KIND_FORMATS]
)
def test_treatment_page_figures_in_every_format(service, tmp_path, name, fmt, preset):
    _check_figure_file(service, tmp_path, TREATMENT_KINDS[name], fmt, preset)


@pytest.mark.parametrize("name", list(TREATMENT_KINDS))
def test_treatment_page_kinds_export_their_data(service, tmp_path, name):
    """CSV (the main table), XLSX (every table, Methods, Provenance) and the bundle (figure, every table,
    the XLSX, methods and manifest) of each new kind."""
    import io
    import zipfile

    import pandas as pd
    from openpyxl import load_workbook

    from export.kinds import KINDS

    kind = KINDS[name]
    fields = TREATMENT_KINDS[name]
    csv, manifest = export_file(service, tmp_path, "t.csv", **fields, format="csv")
    table = pd.read_csv(io.BytesIO(csv))
    assert len(table) > 0
    assert manifest["export"]["table"] is None  # the main table
    _check_manifest(manifest, "csv", None, embedded=False)
    xlsx, _ = export_file(service, tmp_path, "t.xlsx", **fields, format="xlsx")
    book = load_workbook(io.BytesIO(xlsx), read_only=True)
    assert book.sheetnames == [*(t.name for t in kind.tables), "Methods", "Provenance"]
    first = list(book[kind.tables[0].name].iter_rows(values_only=True))
    assert list(first[0]) == list(table.columns)
    assert len(first) - 1 == len(table)
    bundle, manifest = export_file(service, tmp_path, "t.zip", **fields, format="zip", figure_format="svg")
    names = zipfile.ZipFile(io.BytesIO(bundle)).namelist()
    assert names == [
        "t/t.svg",
        *(f"t/t_{spec.name}.csv" for spec in kind.tables),
        "t/t.xlsx",
        "t/t_methods.txt",
        "t/manifest.json",
    ]
    assert [f["path"] for f in manifest["files"]] == ["t.zip", *(f"t.zip!/{n}" for n in names)]


@pytest.mark.parametrize("dpi", [600, 1200])
@pytest.mark.parametrize("fmt", ["png", "tiff"])
def test_raster_dpi_is_recorded_and_sets_the_pixel_width(service, tmp_path, fmt, dpi):
    data, _ = export_file(service, tmp_path, f"km.{fmt}", **KM, format=fmt, preset="single", dpi=dpi)
    info = image_info(data)
    assert info["size"][0] == round(85 / 25.4 * dpi)  # 85 mm at dpi
    assert info["dpi"] == pytest.approx((dpi, dpi), abs=0.01)


def test_grayscale_raster_is_an_8_bit_gray_image(service, tmp_path):
    data, manifest = export_file(service, tmp_path, "km.png", **KM, format="png", dpi=300, grayscale=True)
    assert image_info(data)["mode"] == "L"
    assert manifest["export"]["grayscale"] is True


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"figure": "cif", "endpoint": "CIR", "origin": "CR1", "by": "lineage"}, id="cif"),
        pytest.param(
            {"figure": "forest", "endpoint": "OS", "origin": "DX", "covariates": ("lineage", "age_at_dx")},
            id="forest",
        ),
    ],
)
def test_other_figures_export_as_pdf_with_embedded_fonts(service, tmp_path, fields):
    data, manifest = export_file(service, tmp_path, "fig.pdf", **fields, format="pdf", preset="onehalf")
    info = pdf_info(data)
    assert info["width_pt"] == pytest.approx(114 / 25.4 * 72, abs=0.01)
    assert info["fonts"]
    assert all(e for _, e in info["fonts"])
    assert info["manifest"]["request"]["figure"] == fields["figure"]
    assert manifest["files"][0]["bytes"] == len(data)


def test_sidecar_hash_is_the_files_hash(service, tmp_path):
    import hashlib

    data, manifest = export_file(service, tmp_path, "km.svg", **KM, format="svg")
    assert manifest["files"] == [{"path": "km.svg", "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}]
