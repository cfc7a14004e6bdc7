"""A manifest reproduces its export: ``ayaall export --from-manifest`` runs the recorded request again and
gives the same tables (byte for byte), the same figure (its plotly JSON) and the same SVG apart from the
manifest's time; a database holding another load stops it with one sentence unless allowed. Every figure
kind of the Treatment timing, Adjusted comparison and Response pages reproduces from its manifest."""

from __future__ import annotations

import json
import re
import shutil
import zipfile

import pytest
from export_support import TREATMENT_KINDS

from ayaall.cli import main

KM_ARGS = ["--figure", "km", "--endpoint", "OS", "--origin", "DX", "--by", "lineage", "--unit", "years"]


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _strip_metadata(svg: str) -> str:
    return re.sub(r"<metadata id=\"ayaall-manifest\">.*?</metadata>", "", svg, flags=re.S)


@pytest.mark.parametrize("fmt", ["svg", "csv", "zip"])
def test_from_manifest_reproduces_the_export(demo_db, tmp_path, capsys, fmt):
    cohort = tmp_path / "cohort.json"
    cohort.write_text(json.dumps({"filters": {"dx_year": {"min": 2005, "max": 2020}}}))
    first = tmp_path / f"first.{fmt}"
    code, out, err = _run(
        capsys, "export", "--db", str(demo_db), *KM_ARGS, "--cohort", str(cohort), "--out", str(first)
    )
    assert code == 0, err
    assert out.split() == [str(first), f"{first}.manifest.json"]
    manifest = json.loads((tmp_path / f"first.{fmt}.manifest.json").read_text())
    assert manifest["cohort"]["kind"] == "file"
    assert manifest["cohort"]["content"] == {"filters": {"dx_year": {"min": 2005, "max": 2020}}}
    cohort.write_text('{"filters": {}}')  # the manifest keeps the cohort; the file may change afterwards
    again = tmp_path / f"again.{fmt}"
    code, _, err = _run(capsys, "export", "--from-manifest", f"{first}.manifest.json", "--out", str(again))
    assert code == 0, err
    redo = json.loads((tmp_path / f"again.{fmt}.manifest.json").read_text())
    assert redo["request"] == manifest["request"]
    assert redo["reproduces"]["exported_at"] == manifest["exported_at"]
    if fmt == "svg":  # compared without pytest's diff of two long strings
        same = _strip_metadata(again.read_text()) == _strip_metadata(first.read_text())
        assert same, "the SVGs differ beyond the manifest"
    elif fmt == "csv":
        assert again.read_bytes() == first.read_bytes()
    else:
        with zipfile.ZipFile(first) as a, zipfile.ZipFile(again) as b:
            names = [n.replace("first", "STEM") for n in a.namelist()]
            assert names == [n.replace("again", "STEM") for n in b.namelist()]
            for na, nb in zip(a.namelist(), b.namelist(), strict=True):
                if na.endswith(".csv") or na.endswith("_methods.txt"):
                    assert a.read(na) == b.read(nb), na


def test_reproduced_figure_json_is_identical(demo_db):
    from export.exporter import prepare
    from export.requests import ExportRequest
    from reports.service import RegistryService

    service = RegistryService(demo_db)
    try:
        request = ExportRequest(figure="cif", endpoint="CIR", origin="CR1", by="lineage", format="pdf")
        first = prepare(service, request, cohort_source={"kind": "test"})
        again = prepare(service, ExportRequest.from_dict(first.manifest["request"]), cohort_source={"kind": "test"})
        assert first.figure().to_json() == again.figure().to_json()
    finally:
        service.close()


def test_without_out_the_recorded_file_name_is_used(demo_db, tmp_path, capsys):
    first = tmp_path / "km.csv"
    assert _run(capsys, "export", "--db", str(demo_db), *KM_ARGS, "--out", str(first))[0] == 0
    before = first.read_bytes()
    first.unlink()
    code, _, err = _run(capsys, "export", "--from-manifest", f"{first}.manifest.json")
    assert code == 0, err
    assert first.read_bytes() == before


def test_another_load_stops_the_reproduction_unless_allowed(demo_db, demo_extract, tmp_path, capsys):
    from etl import load_extract

    first = tmp_path / "km.csv"
    assert _run(capsys, "export", "--db", str(demo_db), *KM_ARGS, "--out", str(first))[0] == 0
    other = tmp_path / "other.duckdb"
    shutil.copy(demo_db, other)
    load_extract(demo_extract, other)  # a second load: its load id is L0002-...
    manifest = f"{first}.manifest.json"
    code, _, err = _run(
        capsys, "export", "--from-manifest", manifest, "--db", str(other), "--out", str(tmp_path / "x.csv")
    )
    assert code == 2
    assert "L0002-" in err
    assert "L0001-" in err
    assert "--allow-other-load" in err
    assert err.strip().count("\n") == 0
    code, _, err = _run(
        capsys,
        "export",
        "--from-manifest",
        manifest,
        "--db",
        str(other),
        "--out",
        str(tmp_path / "x.csv"),
        "--allow-other-load",
    )
    assert code == 0
    assert "warning" in err
    assert (tmp_path / "x.csv").read_bytes() == first.read_bytes()  # same extract, same numbers


def test_a_file_that_is_not_a_manifest_is_one_sentence(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    code, _, err = _run(capsys, "export", "--from-manifest", str(bad))
    assert code == 2
    assert "not an ayaall export manifest" in err


def _cli_args(fields: dict) -> list[str]:
    """``ayaall export`` options for an ``ExportRequest``'s fields (tuples comma-separated)."""
    args: list[str] = []
    for name, value in fields.items():
        text = (
            ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) if isinstance(value, tuple) else value
        )
        args += [f"--{name}", str(text)]
    return args


@pytest.mark.parametrize("name", list(TREATMENT_KINDS))
def test_from_manifest_reproduces_each_new_kind(demo_db, tmp_path, capsys, name):
    """The main table byte for byte, the methods text, and the figure's plotly JSON, from the manifest alone."""
    from export.exporter import prepare
    from export.requests import ExportRequest
    from reports.service import RegistryService

    first = tmp_path / f"{name}.csv"
    code, _, err = _run(capsys, "export", "--db", str(demo_db), *_cli_args(TREATMENT_KINDS[name]), "--out", str(first))
    assert code == 0, err
    manifest = json.loads((tmp_path / f"{name}.csv.manifest.json").read_text())
    assert manifest["request"]["figure"] == name
    again = tmp_path / f"again_{name}.csv"
    code, _, err = _run(capsys, "export", "--from-manifest", f"{first}.manifest.json", "--out", str(again))
    assert code == 0, err
    assert again.read_bytes() == first.read_bytes()
    redo = json.loads((tmp_path / f"again_{name}.csv.manifest.json").read_text())
    assert redo["request"] == manifest["request"]
    assert redo["analysis"] == manifest["analysis"]
    service = RegistryService(demo_db)
    try:
        request = ExportRequest.from_dict({**manifest["request"], "format": "svg"})
        one = prepare(service, request, cohort_source={"kind": "test"})
        two = prepare(service, ExportRequest.from_dict(one.manifest["request"]), cohort_source={"kind": "test"})
        assert one.figure().to_json() == two.figure().to_json()
        assert one.methods == two.methods
    finally:
        service.close()
