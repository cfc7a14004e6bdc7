"""``ayaall export`` on the command line: what a user gets wrong is one sentence on stderr with exit code 2
(cli.md), and a machine without Chromium is told how to install it, not sent to download a browser."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ayaall.cli import main

ROOT = Path(__file__).resolve().parents[1]
KM = ["--figure", "km", "--endpoint", "OS", "--origin", "DX"]
SALVAGE = ["--figure", "balance", "--endpoint", "OS", "--origin", "LINE2", "--treatment", "salvage_regimen"]
SALVAGE += ["--covariates", "age_at_dx"]


def _err(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--figure", "pie"], "'pie' is not a figure kind", id="unknown_figure"),
        pytest.param([*KM, "--preset", "a4"], "'a4' is not a preset", id="bad_preset"),
        pytest.param([*KM, "--dpi", "72"], "--dpi 72 is not offered", id="bad_dpi"),
        pytest.param([*KM, "--format", "gif"], "'gif' is not a format", id="bad_format"),
        pytest.param([*KM, "--by", "shoe_size"], "shoe_size", id="unknown_by_column"),
        pytest.param(
            ["--figure", "km", "--endpoint", "OS", "--origin", "CR1"], "not a defined endpoint", id="bad_pair"
        ),
        pytest.param(["--figure", "km"], "needs --endpoint and --origin", id="no_endpoint"),
        pytest.param(
            [*KM, "--covariates", "lineage"], "--covariates does not apply to --figure km", id="foreign_option"
        ),
        pytest.param(["--figure", "forest", "--endpoint", "OS", "--origin", "DX"], "needs --covariates", id="no_cov"),
        pytest.param([*KM, "--table", "nope", "--format", "csv"], "has no table 'nope'", id="unknown_table"),
        pytest.param(["--figure", "table1", "--by", "lineage", "--format", "pdf"], "has no figure", id="table1_pdf"),
        pytest.param(
            ["--figure", "cif", "--endpoint", "OS", "--origin", "DX"], "has no competing event", id="cif_without_cr"
        ),
        pytest.param(["--figure", "landmark", *KM[2:], "--landmarks", "180"], "needs --exposure", id="no_exposure"),
        pytest.param(
            ["--figure", "landmark", *KM[2:], "--exposure", "hct"], "needs --landmarks", id="landmark_no_landmarks"
        ),
        pytest.param(
            ["--figure", "landmark", *KM[2:], "--exposure", "hct", "--landmarks", "day1"],
            "--landmarks must be comma-separated numbers",
            id="landmarks_not_numbers",
        ),
        pytest.param(
            ["--figure", "simon-makuch", *KM[2:], "--exposure", "hct", "--landmarks", "180"],
            "--landmarks does not apply to --figure simon-makuch",
            id="sm_landmarks",
        ),
        pytest.param(
            ["--figure", "simon-makuch", "--endpoint", "OS", "--origin", "HCT1", "--exposure", "hct"],
            "cannot start after time zero",
            id="exposure_before_time_zero",
        ),
        pytest.param([*KM, "--exposure", "hct"], "--exposure does not apply to --figure km", id="km_exposure"),
        pytest.param(
            ["--figure", "balance", *KM[2:], "--covariates", "age_at_dx"], "needs --treatment", id="no_treatment"
        ),
        pytest.param(
            ["--figure", "weighted-cox", *KM[2:], "--treatment", "lineage", "--covariates", "age_at_dx"],
            "needs --levels",
            id="no_levels",
        ),
        pytest.param(
            ["--figure", "adjusted-km", "--endpoint", "OS", "--origin", "LINE2", "--treatment", "salvage_regimen"],
            "needs --covariates",
            id="no_propensity_covariates",
        ),
        pytest.param(
            [*SALVAGE, "--target", "INOTUZUMAB"],
            "--target applies to --estimand ATT only",
            id="target_with_ate",
        ),
        pytest.param(
            [*SALVAGE, "--trim", "0.7"],
            "--trim is a fraction between 0 and 0.5",
            id="trim_too_large",
        ),
        pytest.param(["--figure", "response", "--line", "3"], "--line must be 1", id="bad_line"),
        pytest.param(["--figure", "response", "--outcome", "os"], "'os' is not an outcome", id="bad_outcome"),
        pytest.param(
            ["--figure", "response", "--endpoint", "OS", "--origin", "DX"],
            "--endpoint does not apply to --figure response",
            id="response_endpoint",
        ),
    ],
)
def test_bad_requests_are_one_sentence_and_exit_2(demo_db, tmp_path, capsys, args, message):
    fmt = args[args.index("--format") + 1] if "--format" in args and "gif" not in args else "pdf"
    out = tmp_path / f"x.{fmt}"
    code, err = _err(capsys, "export", "--db", str(demo_db), *args, "--out", str(out))
    assert code == 2
    assert message in err
    assert err.strip().count("\n") == 0
    assert "Traceback" not in err
    assert not out.exists()


def test_unknown_cohort_column_names_it(demo_db, tmp_path, capsys):
    cohort = tmp_path / "c.json"
    cohort.write_text('{"filters": {"shoe_size": [42]}}')
    code, err = _err(
        capsys, "export", "--db", str(demo_db), *KM, "--cohort", str(cohort), "--out", str(tmp_path / "x.csv")
    )
    assert code == 2
    assert "shoe_size" in err


def test_missing_database_is_one_sentence(tmp_path, capsys):
    code, err = _err(capsys, "export", "--db", str(tmp_path / "none.duckdb"), *KM, "--out", str(tmp_path / "x.csv"))
    assert code == 2
    assert "does not exist" in err


def test_out_extension_must_match_the_format(demo_db, tmp_path, capsys):
    code, err = _err(capsys, "export", "--db", str(demo_db), *KM, "--format", "pdf", "--out", str(tmp_path / "x.png"))
    assert code == 2
    assert "should end in .pdf" in err


def test_format_is_taken_from_the_extension(demo_db, tmp_path, capsys):
    code, err = _err(capsys, "export", "--db", str(demo_db), *KM, "--out", str(tmp_path / "methods.txt"))
    assert code == 0, err
    assert "Kaplan–Meier" in (tmp_path / "methods.txt").read_text()


def test_no_browser_says_how_to_install_chromium(monkeypatch):
    from ayaall.errors import UserError
    from export.render import find_browser

    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    with pytest.raises(UserError) as info:
        find_browser()
    text = str(info.value)
    assert "apt-get install chromium" in text
    assert "BROWSER_PATH" in text
    assert text.count(".") == 1  # one sentence


def test_no_browser_on_the_command_line_exits_2_and_downloads_nothing(demo_db, tmp_path):
    """A clean process with an empty PATH: the export stops before rendering, with the sentence."""
    env = {k: v for k, v in os.environ.items() if k not in {"BROWSER_PATH"}}
    env |= {"PATH": "", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "ayaall", "export", "--db", str(demo_db), *KM, "--out", str(tmp_path / "km.pdf")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert out.returncode == 2, out.stderr
    assert "apt-get install chromium" in out.stderr
    assert out.stderr.strip().count("\n") == 0
    assert not (tmp_path / ".local" / "share" / "choreographer").exists()  # no browser was fetched
    # Data exports need no browser at all.
    ok = subprocess.run(
        [sys.executable, "-m", "ayaall", "export", "--db", str(demo_db), *KM, "--out", str(tmp_path / "km.csv")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr


def test_from_manifest_takes_no_other_options(tmp_path, capsys):
    code, err = _err(capsys, "export", "--from-manifest", str(tmp_path / "m.json"), "--preset", "double")
    assert code == 2
    assert "--preset cannot be combined with --from-manifest" in err
