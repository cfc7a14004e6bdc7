"""Tests of the synthetic registry generator (``ayaall generate``, ``synthetic_data``).

Expected values come from ``shared/spec/registry-extract.md`` (the format), ``endpoints.md`` (date
consistency), ``synthetic-calibration.md`` via ``synthetic_data.calibration.TARGETS`` (case mix) and
``truth.json`` (the recovery check, which fits lifelines' Cox model on OS from REL1).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from ayaall.cli import main
from ayaall.contract import TABLES
from ayaall.errors import UserError
from synthetic_data import TARGETS, TOXICITY_TARGETS, generate_registry
from synthetic_data.checks import consistency_problems, normalized, read_tables
from synthetic_data.defects import DEFECT_CLASSES, EXTRA_COLUMN, EXTRA_COLUMN_TABLE, RAGGED_FIELD

_EXPECTED = {"quarantine", "warning", "excluded", "accepted"}


@pytest.fixture(scope="module")
def clean_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean_csv")
    generate_registry(out, 3000, seed=11)
    return out


@pytest.fixture(scope="module")
def messy_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("messy_csv")
    generate_registry(out, 3000, seed=12, messy=0.05)
    return out


@pytest.fixture(scope="module")
def messy_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("messy_parquet")
    generate_registry(out, 3000, seed=13, messy=0.05, fmt="parquet")
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    ("fmt", "messy"),
    [("csv", 0.0), ("parquet", 0.0), ("csv", 0.1), ("parquet", 0.1)],
    ids=["csv_clean", "parquet_clean", "csv_messy", "parquet_messy"],
)
def test_same_seed_same_bytes(tmp_path: Path, fmt: str, messy: float) -> None:
    """Same arguments, same bytes, also from another process with another hash seed."""
    generate_registry(tmp_path / "a", 700, seed=5, messy=messy, fmt=fmt)
    cmd = [sys.executable, "-m", "ayaall", "generate", "--patients", "700", "--seed", "5", "--quiet"]
    cmd += ["--out", str(tmp_path / "b"), "--messy", str(messy), "--format", fmt]
    subprocess.run(cmd, check=True, env=os.environ | {"PYTHONHASHSEED": "123"})
    generate_registry(tmp_path / "c", 700, seed=6, messy=messy, fmt=fmt)
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert a == b
    assert a["manifest.json"] != c["manifest.json"]
    assert a[f"diagnoses.{fmt}"] != c[f"diagnoses.{fmt}"]


def test_every_table_written_with_contract_columns(clean_csv: Path) -> None:
    for name, spec in TABLES.items():
        with (clean_csv / f"{name}.csv").open(encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        assert tuple(header) == spec.column_names, name
    assert not (clean_csv / "defects.json").exists()


def test_manifest(clean_csv: Path) -> None:
    manifest = json.loads((clean_csv / "manifest.json").read_text())
    assert manifest["format"] == "aya-all-registry-extract"
    assert manifest["version"] == 1.1  # format 1.1: the generator writes adverse_events
    assert manifest["registry"] == "Synthetic AYA-ALL registry (seed 11)"
    assert manifest["data_cutoff"] == manifest["extract_date"] == "2026-06-30"
    assert manifest["generator"]["seed"] == 11
    assert manifest["generator"]["n_patients"] == 3000


def test_clean_extract_is_consistent(clean_csv: Path) -> None:
    """Codes in range, keys unique, one row per patient, no event before DX or after death/cutoff."""
    assert consistency_problems(clean_csv) == []


def test_clean_extract_uses_local_names_and_code_variants(clean_csv: Path) -> None:
    raw = read_tables(clean_csv)
    regimens = set(raw["treatment_lines"]["regimen"].to_list())
    local = set(raw["regimen_map"]["local_name"].to_list())
    assert regimens & local, "no local regimen names written"
    sexes = set(raw["patients"]["sex"].to_list())
    assert sexes - {"M", "F", "U"}, "no case/whitespace variants written"


def test_clinical_shape(clean_csv: Path) -> None:
    t = normalized(read_tables(clean_csv))
    lines = t["treatment_lines"]
    line2 = set(lines.filter(pl.col("line_no") == "2")["regimen"].to_list())
    assert {"SALVAGE_CHEMO", "BLINATUMOMAB", "NELARABINE"} <= line2
    assert set(lines.filter(pl.col("line_no") == "1")["regimen"].to_list()) <= set(
        ("PED_INSPIRED", "HYPER_CVAD", "ADULT_OTHER", "TKI_CHEMO", "TKI_BLIN", "BLIN_CHEMO")
    )
    dx = t["diagnoses"].select("patient_id", "lineage", "subtype")
    car_t = lines.filter(pl.col("regimen") == "CAR_T_CD19").join(dx, on="patient_id")
    assert (car_t["lineage"] == "B").all()
    tki = lines.filter(pl.col("regimen").str.starts_with("TKI")).join(dx, on="patient_id")
    assert (tki["subtype"] == "BCR_ABL1").all()
    fu = t["followup"]
    assert 0.2 < (fu["vital_status"] == "DEAD").mean() < 0.6
    causes = set(fu["cause_of_death"].drop_nulls().to_list())
    assert {"DISEASE", "INFECTION", "GVHD"} <= causes
    per_line = t["responses"].group_by("patient_id", "line_no").len()
    assert (per_line["len"] == 2).any()


@pytest.mark.parametrize("target", [t for t in TARGETS if t.scope == "case_mix"], ids=lambda t: t.name)
def test_case_mix_calibration(case_mix: dict[str, float], target) -> None:
    assert target.accepts(case_mix[target.name]), f"{target.name}: {case_mix[target.name]:.3f}"


@pytest.fixture(scope="module")
def case_mix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    """Case-mix shares of a seeded 20,000-patient extract, computed from diagnoses.csv."""
    out = tmp_path_factory.mktemp("case_mix")
    generate_registry(out, 20_000, seed=2026)
    dx = normalized(read_tables(out))["diagnoses"].with_columns(pl.col("age_at_dx").cast(pl.Float64))
    aya = dx.filter(pl.col("age_at_dx").is_between(15, 40, closed="left"))
    b, t = dx.filter(pl.col("lineage") == "B"), dx.filter(pl.col("lineage") == "T")

    def share(frame: pl.DataFrame, cond: pl.Expr) -> float:
        return frame.select(cond.mean()).item()

    age = pl.col("age_at_dx")
    return {
        "age_15_19_share_of_aya": share(aya, age < 20),
        "age_20_24_share_of_aya": share(aya, age.is_between(20, 25, closed="left")),
        "age_25_29_share_of_aya": share(aya, age.is_between(25, 30, closed="left")),
        "age_outside_15_39_share": share(dx, (age < 15) | (age >= 40)),
        "lineage_t_share": share(dx, pl.col("lineage") == "T"),
        "ph_pos_share_age_15_20": share(
            b.filter(age.is_between(15, 21, closed="left")), pl.col("subtype") == "BCR_ABL1"
        ),
        "ph_pos_share_age_21_39": share(
            b.filter(age.is_between(21, 40, closed="left")), pl.col("subtype") == "BCR_ABL1"
        ),
        "ph_like_share_b_age_21_39": share(
            b.filter(age.is_between(21, 40, closed="left")), pl.col("subtype") == "PH_LIKE"
        ),
        "etp_share_of_t": share(t, pl.col("subtype") == "ETP"),
    }


def test_truth_json_describes_the_rel1_model(clean_csv: Path) -> None:
    truth = json.loads((clean_csv / "truth.json").read_text())
    model = truth["transitions"]["death_after_first_relapse"]
    assert (model["endpoint"], model["origin"]) == ("OS", "REL1")
    assert model["reference_levels"]["salvage_regimen"] == "SALVAGE_CHEMO"
    names = {c["name"] for c in model["covariates"]}
    assert {
        "salvage_regimen=BLINATUMOMAB",
        "age_per_10y",
        "lineage=T",
        "subtype=PH_LIKE",
        "early_relapse",
        "cns_status=CNS3",
    } <= names
    blin = next(c for c in model["covariates"] if c["name"] == "salvage_regimen=BLINATUMOMAB")
    assert blin["log_hr"] == pytest.approx(-0.342, abs=0.001)  # TOWER: HR 0.71
    assert len(model["baseline"]["breaks_days"]) == len(model["baseline"]["hazard_per_day"])
    assert {"frontline", "salvage"} <= set(truth["assignment"])


def test_truth_json_records_the_toxicity_rates_of_the_published_targets(clean_csv: Path) -> None:
    """The generator draws the published rates (synthetic-calibration.md, TOXICITY_TARGETS) and says so.

    A range target ("about 5-10%") holds the rate drawn within the range; osteonecrosis by 3 years is
    drawn a little above 10% for the deaths that compete with it (its calibration is a test of its own).
    """
    rates = json.loads((clean_csv / "truth.json").read_text())["toxicity"]["rates"]
    for t in TOXICITY_TARGETS:
        key = "CAR_T_CD19_YOUNG" if t.ages == "<=25" else t.regimen
        rate = rates[key][t.event]
        drawn = rate["any_grade"] if t.min_grade == 1 else rate["grade_3_plus"]
        if t.statistic == "cif_3y":
            assert t.low <= drawn <= t.low + 0.01, t.name
        else:
            assert t.low <= drawn <= t.high, t.name
    assert rates["INOTUZUMAB"]["VOD_SOS"]["after_hct"] > rates["INOTUZUMAB"]["VOD_SOS"]["any_grade"]


def _defects(folder: Path) -> list[dict]:
    return json.loads((folder / "defects.json").read_text())


def test_messy_csv_covers_every_defect_class(messy_csv: Path) -> None:
    defects = _defects(messy_csv)
    assert {d["defect_class"] for d in defects} == set(DEFECT_CLASSES)
    assert {d["expected"] for d in defects} == _EXPECTED
    rows = [(d["table"], d["source_line"]) for d in defects if d["defect_class"] not in ("bom", "extra_column")]
    assert len(rows) == len(set(rows)), "two defects planted on one row"
    assert (messy_csv / "patients.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_messy_parquet_covers_every_class_but_csv_only_ones(messy_parquet: Path) -> None:
    classes = {d["defect_class"] for d in _defects(messy_parquet)}
    assert classes == set(DEFECT_CLASSES) - {"bom", "ragged_row"}


def test_messy_csv_line_numbers_point_at_the_rows(messy_csv: Path) -> None:
    _check_csv_defect_lines(messy_csv)


def test_multi_chunk_extracts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 400 patients: ids, row counts and defect line numbers stay right across chunks."""
    monkeypatch.setattr("synthetic_data.generate.CHUNK_SIZE", 400)
    summary = generate_registry(tmp_path / "clean", 1500, seed=21)
    assert consistency_problems(tmp_path / "clean") == []
    ids = read_tables(tmp_path / "clean")["patients"]["patient_id"]
    assert ids.to_list() == [f"P{i:07d}" for i in range(1, 1501)]
    assert summary.rows["patients"] == 1500
    generate_registry(tmp_path / "messy", 1500, seed=21, messy=0.05)
    defects = _defects(tmp_path / "messy")
    assert max(d["source_line"] or 0 for d in defects if d["table"] == "relapses") > 400
    _check_csv_defect_lines(tmp_path / "messy")


def _check_csv_defect_lines(folder: Path) -> None:
    text: dict[str, list[str]] = {}
    for d in _defects(folder):
        lines = text.setdefault(d["table"], (folder / f"{d['table']}.csv").read_text("utf-8-sig").split("\n"))
        header = next(csv.reader([lines[0]]))
        row = next(csv.reader([lines[d["source_line"] - 1]]))
        if d["defect_class"] == "extra_column":
            assert header[-1] == EXTRA_COLUMN
            assert d["table"] == EXTRA_COLUMN_TABLE
            continue
        if d["defect_class"] == "bom":
            continue
        record = dict(zip(header, row, strict=False))
        if d["defect_class"] == "ragged_row":
            assert len(row) == len(header) + 1
            assert row[-1] == RAGGED_FIELD
        elif d["defect_class"] not in ("duplicate_exact",):
            assert record[d["column"]] == (d["raw_value"] or ""), d
        if d["column"] != "patient_id":
            assert record["patient_id"] == d["patient_id"], d


def test_messy_parquet_row_numbers_point_at_the_rows(messy_parquet: Path) -> None:
    tables = read_tables(messy_parquet)
    for d in _defects(messy_parquet):
        if d["source_line"] is None:
            continue
        record = tables[d["table"]].row(d["source_line"] - 1, named=True)
        if d["defect_class"] != "duplicate_exact":
            assert (record[d["column"]] or "") == (d["raw_value"] or ""), d
        if d["column"] != "patient_id":
            assert record["patient_id"] == d["patient_id"], d


def test_duplicates_follow_their_original(messy_csv: Path) -> None:
    tables = read_tables(messy_csv)
    for d in _defects(messy_csv):
        if d["defect_class"] == "duplicate_exact":
            frame = tables[d["table"]]
            copy, original = frame.row(d["source_line"] - 2), frame.row(d["source_line"] - 3)
            assert copy == original


def test_messy_fraction_is_roughly_honoured(messy_csv: Path) -> None:
    rows = sum(read_tables(messy_csv)[t].height for t in TABLES if t != "regimen_map")
    assert 0.03 < len(_defects(messy_csv)) / rows < 0.08


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_patients": 0}, "--patients"),
        ({"seed": -1}, "--seed"),
        ({"messy": 0.5}, "--messy"),
        ({"fmt": "xlsx"}, "--format"),
        ({"first_dx_year": 2030}, "--first-dx-year"),
    ],
    ids=["no_patients", "negative_seed", "too_messy", "bad_format", "dx_year_after_cutoff"],
)
def test_bad_arguments_are_user_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    args = {"n_patients": 10, "seed": 1} | kwargs
    with pytest.raises(UserError, match=message):
        generate_registry(tmp_path / "x", **args)


def test_out_dir_that_is_a_file_is_a_user_error(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(UserError, match="is an existing file"):
        generate_registry(target, 10, seed=1)


def test_cli_writes_the_same_extract_as_the_api(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(
        [
            "generate",
            "--patients",
            "300",
            "--seed",
            "9",
            "--out",
            str(tmp_path / "cli"),
            "--format",
            "parquet",
            "--data-cutoff",
            "2025-12-31",
            "--first-dx-year",
            "2005",
        ]
    )
    assert code == 0
    assert "Wrote 300 patients" in capsys.readouterr().out
    generate_registry(tmp_path / "api", 300, 9, fmt="parquet", data_cutoff=date(2025, 12, 31), first_dx_year=2005)
    assert _files(tmp_path / "cli") == _files(tmp_path / "api")
    manifest = json.loads((tmp_path / "cli" / "manifest.json").read_text())
    assert manifest["data_cutoff"] == "2025-12-31"
    assert consistency_problems(tmp_path / "cli") == []


def test_cli_user_error_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["generate", "--patients", "10", "--seed", "1", "--out", str(tmp_path), "--messy", "2", "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("ayaall generate: --messy")
    assert err.count("\n") == 1


def test_switching_format_leaves_one_file_per_table(tmp_path: Path) -> None:
    generate_registry(tmp_path, 50, 1, messy=0.1)
    generate_registry(tmp_path, 50, 1, fmt="parquet")
    assert not list(tmp_path.glob("*.csv"))
    assert not (tmp_path / "defects.json").exists()


@pytest.mark.slow
def test_cox_on_os_from_rel1_recovers_truth(tmp_path: Path) -> None:
    """A Cox model of OS from REL1 on the truth.json covariates recovers the true log-HRs.

    Endpoint per endpoints.md, derived here directly from the tables (the ETL test does the same
    through ``time_to_event``): REL1 = first relapse date, CR1 = first remission assessment before it,
    death or last contact as the end. lifelines ``CoxPHFitter`` (Efron ties), every estimate within
    4 standard errors of its true value.
    """
    from lifelines import CoxPHFitter

    generate_registry(tmp_path, 80_000, seed=4242)
    t = normalized(read_tables(tmp_path))
    day = pl.col
    rel = t["relapses"].group_by("patient_id").agg(day("relapse_date").str.to_date().min().alias("r1"))
    rem = t["responses"].filter(day("response").is_in(["CR", "CRI", "CRH"]))
    cr1 = (
        rem.select("patient_id", day("assessment_date").str.to_date().alias("a"))
        .join(rel, on="patient_id")
        .filter(day("a") < day("r1"))
        .group_by("patient_id")
        .agg(day("a").min().alias("cr1"))
    )
    line2 = t["treatment_lines"].filter(day("line_no") == "2").select("patient_id", day("regimen").alias("salvage"))
    fu = t["followup"].select(
        "patient_id", day("death_date").str.to_date().alias("death"), day("last_contact_date").str.to_date().alias("lc")
    )
    frame = (
        rel.join(cr1, on="patient_id")
        .join(line2, on="patient_id")
        .join(fu, on="patient_id")
        .join(t["diagnoses"], on="patient_id")
    )
    truth = json.loads((tmp_path / "truth.json").read_text())["transitions"]["death_after_first_relapse"]
    levels = [c["level"] for c in truth["covariates"] if c["column"] == "salvage_regimen"]
    x = frame.select(
        time=(pl.coalesce("death", "lc") - day("r1")).dt.total_days(),
        event=day("death").is_not_null().cast(pl.Int8),
        age_per_10y=(day("age_at_dx").cast(pl.Float64) - 25) / 10,
        early_relapse=((day("r1") - day("cr1")).dt.total_days() < 365).cast(pl.Int8),
        **{
            "lineage=T": (day("lineage") == "T").cast(pl.Int8),
            "subtype=PH_LIKE": (day("subtype") == "PH_LIKE").cast(pl.Int8),
            "cns_status=CNS3": (day("cns_status") == "CNS3").cast(pl.Int8),
        },
        **{f"salvage_regimen={lv}": (day("salvage") == lv).cast(pl.Int8) for lv in levels},
    )
    fit = CoxPHFitter().fit(x.to_pandas(), "time", "event").summary
    for cov in truth["covariates"]:
        est, se = fit.loc[cov["name"], "coef"], fit.loc[cov["name"], "se(coef)"]
        assert abs(est - cov["log_hr"]) < 4 * se, (cov["name"], est, cov["log_hr"], se)
