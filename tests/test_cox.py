"""Cox regression against R's coxph / cox.zph (survival 3.5-3; tests/r/cox_reference.R outputs)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cox_support import SPECS, fit_case, r_term

from analyses.cox import fit_cox
from analyses.results import AnalysisError, AnalysisWarning

R_DIR = Path(__file__).parent / "r"
TERMS = pd.read_csv(R_DIR / "cox_terms.csv")
FITS = pd.read_csv(R_DIR / "cox_fit.csv")
ZPH = pd.read_csv(R_DIR / "cox_zph.csv")


@pytest.mark.parametrize("case", list(SPECS), ids=list(SPECS))
def test_coefficients_match_r(case: str) -> None:
    """R: the coxph call in SPECS[case] (tests/r/cox_reference.R -> cox_terms.csv, summary(fit)$coef):
    coef, se(coef), robust se to 1e-5; z and p follow."""
    expected = TERMS[TERMS["case"] == case].reset_index(drop=True)
    terms = fit_case(case).terms
    assert [r_term(t) for t in terms["term"]] == list(expected["term"])
    np.testing.assert_allclose(terms["coef"], expected["coef"], atol=1e-5, rtol=0)
    np.testing.assert_allclose(terms["se"], expected["se"], atol=1e-5, rtol=0)
    if expected["robust_se"].notna().all():
        np.testing.assert_allclose(terms["robust_se"], expected["robust_se"], atol=1e-5, rtol=0)
    else:
        assert terms["robust_se"].isna().all()
    np.testing.assert_allclose(terms["z"], expected["z"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(terms["p"], expected["p"], rtol=1e-4, atol=1e-10)


@pytest.mark.parametrize("case", list(SPECS), ids=list(SPECS))
def test_fit_statistics_match_r(case: str) -> None:
    """R: fit$n, fit$nevent, fit$loglik[2], fit$concordance['concordance'] (cox_fit.csv)."""
    expected = FITS[FITS["case"] == case].iloc[0]
    result = fit_case(case)
    assert result.n == expected["n"]
    assert result.events == expected["events"]
    assert result.loglik == pytest.approx(expected["loglik"], abs=1e-6)
    assert result.concordance == pytest.approx(expected["concordance"], abs=1e-8)
    assert result.loglik_null < result.loglik


@pytest.mark.parametrize("case", list(SPECS), ids=list(SPECS))
def test_ph_test_matches_r_3x_cox_zph(case: str) -> None:
    """R: cox.zph(fit, transform = "km", terms = FALSE)$table (survival 3.5-3 algorithm; cox_zph.csv)
    to 1e-4 (chisq) per coefficient and GLOBAL."""
    expected = ZPH[ZPH["case"] == case].reset_index(drop=True)
    ph = fit_case(case).ph_test
    assert [r_term(t) for t in ph["term"]] == list(expected["term"])
    np.testing.assert_allclose(ph["statistic"], expected["chisq"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(ph["df"], expected["df"])
    np.testing.assert_allclose(ph["p"], expected["p"], atol=1e-5, rtol=0)


@pytest.mark.parametrize("case", list(SPECS), ids=list(SPECS))
@pytest.mark.parametrize(
    ("concordance", "ph_test"), [(False, True), (True, False), (False, False)], ids=["no_c", "no_ph", "neither"]
)
def test_skipping_concordance_or_ph_test_changes_nothing_else(case: str, concordance: bool, ph_test: bool) -> None:
    """fit_cox(with_concordance=False / with_ph_test=False): the skipped statistic is NaN / an empty
    table with the same columns; every other number is bitwise the default fit's (which matches R above)."""
    full = fit_case(case)
    data = pd.read_csv(R_DIR / f"cox_data_{case}.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        part = fit_cox(data, "time", "status", **SPECS[case][0], with_concordance=concordance, with_ph_test=ph_test)
    pd.testing.assert_frame_equal(part.terms, full.terms, check_exact=True)
    pd.testing.assert_frame_equal(part.vcov, full.vcov, check_exact=True)
    if full.robust_vcov is not None:
        pd.testing.assert_frame_equal(part.robust_vcov, full.robust_vcov, check_exact=True)
    assert (part.loglik, part.loglik_null, part.n, part.events, part.iterations) == (
        full.loglik,
        full.loglik_null,
        full.n,
        full.events,
        full.iterations,
    )
    if concordance:
        assert part.concordance == full.concordance
    else:
        assert np.isnan(part.concordance)
    if ph_test:
        pd.testing.assert_frame_equal(part.ph_test, full.ph_test, check_exact=True)
    else:
        assert part.ph_test.empty
        assert list(part.ph_test.columns) == list(full.ph_test.columns)
        assert list(part.ph_test.dtypes) == list(full.ph_test.dtypes)


def test_terms_and_reference_levels() -> None:
    """Text covariates coded against the first sorted level unless told otherwise (R's default)."""
    result = fit_case("veteran_celltype")
    assert result.reference_levels == {"trt": "arm1", "celltype": "adeno"}
    assert list(result.terms["term"]) == [
        "trt=arm2",
        "celltype=large",
        "celltype=smallcell",
        "celltype=squamous",
        "karno",
    ]
    assert result.terms["level"].iloc[-1] is None
    np.testing.assert_allclose(result.terms["hr"], np.exp(result.terms["coef"]))
    assert (result.terms["hr_ci_lower"] < result.terms["hr"]).all()


def test_weights_of_one_equal_unweighted() -> None:
    """Invariant: weights all 1 give exactly the unweighted fit (R: same as lung_efron)."""
    data = pd.read_csv(R_DIR / "cox_data_lung_efron.csv").assign(one=1.0)
    a = fit_cox(data, "time", "status", ["age", "sex", "ecog", "wt.loss"])
    b = fit_cox(data, "time", "status", ["age", "sex", "ecog", "wt.loss"], weights_col="one")
    np.testing.assert_allclose(a.terms["coef"], b.terms["coef"], atol=1e-12)


def test_missing_covariates_are_dropped_like_r() -> None:
    """R's na.omit: a row with a missing covariate is dropped and counted."""
    data = pd.read_csv(R_DIR / "cox_data_lung_efron.csv")
    data.loc[[0, 5], "age"] = np.nan
    result = fit_cox(data, "time", "status", ["age", "sex"])
    assert result.n == len(data) - 2
    assert result.n_dropped == 2


def test_few_events_per_variable_warns() -> None:
    """Fewer than 10 events per coefficient -> AnalysisWarning."""
    data = pd.read_csv(R_DIR / "cox_data_lung_efron.csv").head(40)
    with pytest.warns(AnalysisWarning, match="events per coefficient"):
        fit_cox(data, "time", "status", ["age", "sex", "ecog", "wt.loss"])


def _lung() -> pd.DataFrame:
    return pd.read_csv(R_DIR / "cox_data_lung_efron.csv")


EDGE = {
    "empty": (lambda: _lung().head(0), ["age"], "no rows"),
    "no_events": (lambda: _lung().assign(status=0), ["age"], "no events"),
    "all_censored": (lambda: _lung().assign(status=2), ["age"], "no events"),
    "single_group": (lambda: _lung().assign(sex="F"), ["age", "sex"], "single level"),
    "collinear": (
        lambda: _lung().assign(age2=lambda d: 2 * d["age"] + 1),
        ["age", "sex", "age2"],
        "'age2' is a linear combination of 'age'",
    ),
    "collinear_dummies": (
        lambda: _lung().assign(female=lambda d: (d["sex"] == "F").astype(float)),
        ["sex", "female"],
        "'female' is a linear combination of 'sex=M'",
    ),
    "nonconvergence": (
        lambda: (
            _lung()
            .assign(sep=lambda d: np.where(d["status"] == 1, "dead", "alive"))
            .assign(time=lambda d: np.where(d["sep"] == "dead", 1, d["time"] + 10))
        ),
        ["sep"],
        "did not converge",
    ),
}


@pytest.mark.parametrize(("make", "covariates", "message"), EDGE.values(), ids=EDGE.keys())
def test_unfittable_data_raises_a_sentence(make, covariates, message) -> None:
    """Each failure is an AnalysisError naming the problem, never a LinAlgError or NaN table."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        with pytest.raises(AnalysisError, match=message):
            fit_cox(make(), "time", "status", covariates)


def test_time_zero_events_fit() -> None:
    """[time_zero_events]: events at time 0 are ordinary tied events (no error, finite estimates)."""
    data = _lung()
    data.loc[:9, "time"] = 0
    data.loc[:9, "status"] = 1
    result = fit_cox(data, "time", "status", ["age", "sex"])
    assert np.isfinite(result.terms["coef"]).all()


# ------------------------------------------------------------------------------ ayaall analyze cox
@pytest.fixture(scope="module")
def cox_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.test_km import _make_db

    data = pd.read_csv(R_DIR / "cox_data_lung_robust.csv")
    cols = {
        "age_at_dx": data["age"].astype(float),
        "sex": data["sex"],
        "ecog": data["ecog"],
        "center_id": data["inst"].astype(int).astype(str),
    }
    return _make_db(tmp_path_factory.mktemp("cox") / "lung.duckdb", data, cols)


def _cli(capsys: pytest.CaptureFixture[str], *args: str):
    import json

    from ayaall.cli import main

    code = main(["analyze", "cox", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def test_cli_cox_json_matches_r(cox_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """R: coxph(Surv(time, status) ~ age + sex + ecog, data = lung2, robust = TRUE) (case lung_robust in
    cox_terms.csv) and its cox.zph (cox_zph.csv); cli.md fields."""
    code, out, _ = _cli(
        capsys,
        "--db",
        str(cox_db),
        "--endpoint",
        "OS",
        "--origin",
        "DX",
        "--covariates",
        "age_at_dx,sex,ecog",
        "--robust",
        "--min-cell",
        "0",
        "--json",
    )
    assert code == 0
    assert {"endpoint", "origin", "n", "events", "ties", "terms", "reference_levels", "ph_test"} <= set(out)
    assert (out["n"], out["events"], out["ties"]) == (212, 150, "efron")
    assert out["reference_levels"] == {"sex": "F", "ecog": "ecog0"}
    ref = TERMS[TERMS["case"] == "lung_robust"]
    assert [t["term"] for t in out["terms"]] == ["age_at_dx", "sex=M", "ecog=ecog1", "ecog=ecog2"]
    np.testing.assert_allclose([t["coef"] for t in out["terms"]], ref["coef"], atol=1e-5)
    np.testing.assert_allclose([t["robust_se"] for t in out["terms"]], ref["robust_se"], atol=1e-5)
    assert all(len(t["hr_ci"]) == 2 for t in out["terms"])
    zph = ZPH[ZPH["case"] == "lung_robust"]
    np.testing.assert_allclose([p["statistic"] for p in out["ph_test"]], zph["chisq"][:-1], atol=1e-4)
    assert out["ph_test_global"]["statistic"] == pytest.approx(zph["chisq"].iloc[-1], abs=1e-4)


def test_cli_cox_ref_and_strata(cox_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--ref sex=M codes sex against M (R: relevel, case lung_ref_m); --strata is accepted."""
    code, out, _ = _cli(
        capsys,
        "--db",
        str(cox_db),
        "--endpoint",
        "OS",
        "--origin",
        "DX",
        "--covariates",
        "age_at_dx,sex",
        "--ref",
        "sex=M",
        "--min-cell",
        "0",
        "--json",
    )
    assert code == 0
    ref = TERMS[TERMS["case"] == "lung_ref_m"]
    np.testing.assert_allclose([t["coef"] for t in out["terms"]], ref["coef"], atol=1e-5)
    code, out, _ = _cli(
        capsys,
        "--db",
        str(cox_db),
        "--endpoint",
        "OS",
        "--origin",
        "DX",
        "--covariates",
        "age_at_dx,sex",
        "--strata",
        "ecog",
        "--json",
    )
    assert code == 0
    assert out["strata"] == ["ecog"]


@pytest.mark.parametrize(
    "extra",
    [
        ["--covariates", "nonexistent"],
        ["--covariates", "sex", "--ref", "sex=X"],
        ["--covariates", "sex", "--ref", "age"],
    ],
    ids=["unknown_column", "unknown_level", "bad_ref"],
)
def test_cli_cox_errors_are_one_sentence(cox_db: Path, capsys: pytest.CaptureFixture[str], extra) -> None:
    """Exit code 2, one sentence on stderr."""
    code, _, err = _cli(capsys, "--db", str(cox_db), "--endpoint", "OS", "--origin", "DX", *extra, "--json")
    assert code == 2
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_group_of_one_level_fits() -> None:
    """[group_of_one]: a text level held by one patient (who has an event) still fits (R does too; its
    standard error is large), and the reference level is still the first sorted one."""
    data = _lung()
    data.loc[0, "ecog"] = "ecog9"
    data.loc[0, "status"] = 1
    result = fit_cox(data, "time", "status", ["age", "ecog"])
    assert "ecog=ecog9" in set(result.terms["term"])
    assert result.reference_levels == {"ecog": "ecog0"}
    se = result.terms.set_index("term")["se"]
    assert se["ecog=ecog9"] > 3 * se["ecog=ecog1"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ref_levels": {"age": "30"}}, "numeric"),
        ({"ref_levels": {"center": "A"}}, "not a covariate"),
        ({"weights_col": "zero_w"}, "positive"),
    ],
    ids=["ref_on_numeric", "ref_not_covariate", "zero_weight"],
)
def test_bad_options_raise(kwargs, message) -> None:
    """Options R would reject are AnalysisErrors (coxph: 'Invalid weights, must be >0')."""
    data = _lung().assign(zero_w=lambda d: np.where(d.index == 0, 0.0, 1.0))
    with pytest.raises(AnalysisError, match=message):
        fit_cox(data, "time", "status", ["age", "sex"], **kwargs)


def _brute_concordance(t, e, lp, w):
    """R's definition pair by pair: event i, j later (or censored at the same time); w_i * w_j."""
    counts = np.zeros(3)  # concordant, discordant, tied on lp
    for i in np.flatnonzero(e):
        comparable = (t > t[i]) | ((t == t[i]) & ~e)
        counts += w[i] * np.array(
            [
                w[comparable & (lp < lp[i])].sum(),
                w[comparable & (lp > lp[i])].sum(),
                w[comparable & (lp == lp[i])].sum(),
            ]
        )
    return counts


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("block", [1, 3, 128])
def test_concordance_counts_equal_brute_force(seed: int, block: int) -> None:
    """The blocked Fenwick-tree counter equals the O(n^2) definition (which tests/r/cox_fit.csv's
    concordance values confirm is R's) on tied times, tied predictors, weights, any block size."""
    from analyses.concordance import _concordance_counts

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    t = rng.integers(0, int(rng.integers(1, 40)), n).astype(float)
    e = rng.integers(0, 2, n).astype(bool)
    lp = rng.integers(0, 6, n) * 0.25
    w = rng.uniform(0.2, 3, n)
    np.testing.assert_allclose(_concordance_counts(t, e, lp, w, block=block), _brute_concordance(t, e, lp, w))


def test_text_covariate_coded_the_same_whatever_its_dtype() -> None:
    """A text covariate held as object strings, as a pandas categorical (with an unused category) or as
    booleans is dummy-coded on its text, so the fits are identical: same terms, references and numbers.
    (The design codes each row once through pd.factorize; the expected values are the object-string fit.)"""
    rng = np.random.default_rng(11)
    n = 400
    grp = rng.choice(["B", "T", "MPAL"], n)
    flag = rng.integers(0, 2, n).astype(bool)
    df = pd.DataFrame(
        {
            "time": rng.exponential(300, n).round() + 1,
            "event": rng.integers(0, 2, n),
            "grp_text": grp,
            "grp_cat": pd.Categorical(grp, categories=["T", "B", "MPAL", "unused"]),
            "flag_bool": flag,
            "flag_text": np.where(flag, "True", "False"),
        }
    )
    expected = fit_cox(df, "time", "event", ["grp_text", "flag_text"], ref_levels={"grp_text": "T"})
    got = fit_cox(df, "time", "event", ["grp_cat", "flag_bool"], ref_levels={"grp_cat": "T"})
    assert got.reference_levels == {"grp_cat": "T", "flag_bool": "False"}
    assert [t.split("=", 1)[1] for t in got.terms["term"]] == [t.split("=", 1)[1] for t in expected.terms["term"]]
    for column in ("coef", "se", "p"):
        np.testing.assert_array_equal(got.terms[column].to_numpy(), expected.terms[column].to_numpy())
    assert got.loglik == expected.loglik
