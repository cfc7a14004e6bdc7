"""Benchmark: Kaplan–Meier, log-rank and a 5-covariate Cox model, Python vs R, on the same data.

Run from the repository root::

    python benchmarks/bench_analyses.py            # 100,000 and 1,000,000 rows
    python benchmarks/bench_analyses.py --sizes 100000

Synthetic data (``numpy.random.default_rng(seed)``): three categorical covariates (arm with 3 levels,
risk with 2, sex with 2), two numeric (age, log WBC), integer-day times with many ties, administrative
censoring. The same data goes to R through a CSV; R times only the fitting (``system.time`` around
``survfit``, ``survdiff`` and ``coxph``), Python times ``fit_km``, ``logrank_test`` and ``fit_cox``
(which also computes the concordance and the cox.zph test that R's timing excludes for cox.zph). The
Cox coefficients of both are compared. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analyses.cox import fit_cox
from analyses.km import fit_km
from analyses.logrank import logrank_test

COVARIATES = ["arm", "risk", "sex", "age", "lwbc"]

R_SCRIPT = r"""
suppressMessages(library(survival))
d <- read.csv("{csv}", colClasses = c("numeric", "integer", "character", "character", "character",
                                       "numeric", "numeric"))
t_km <- system.time(fit <- survfit(Surv(time, status) ~ arm, data = d, conf.type = "log-log"))[["elapsed"]]
t_lr <- system.time(sd <- survdiff(Surv(time, status) ~ arm, data = d))[["elapsed"]]
t_cox <- system.time(cx <- coxph(Surv(time, status) ~ arm + risk + sex + age + lwbc, data = d))[["elapsed"]]
cat("TIMES", t_km, t_lr, t_cox, "\n")
cat("LOGRANK", format(sd$chisq, digits = 15), "\n")
cat("COEF", format(coef(cx), digits = 15), "\n")
"""


def make_data(n: int, seed: int = 20261121) -> pd.DataFrame:
    """Synthetic survival data with ties (integer days) and a known log-hazard."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(np.array(["A", "B", "C"]), n)
    risk = rng.choice(np.array(["high", "standard"]), n, p=[0.3, 0.7])
    sex = rng.choice(np.array(["F", "M"]), n)
    age = rng.integers(15, 40, n).astype(float)
    lwbc = np.round(rng.normal(2.5, 1.0, n), 2)
    lp = 0.3 * (arm == "B") - 0.2 * (arm == "C") + 0.5 * (risk == "high") + 0.1 * (sex == "M")
    lp = lp + 0.02 * (age - 25) + 0.15 * (lwbc - 2.5)
    event_time = np.ceil(rng.exponential(1 / (0.0006 * np.exp(lp))))
    censor_time = rng.integers(30, 3650, n)
    return pd.DataFrame(
        {
            "time": np.minimum(event_time, censor_time).astype(float),
            "status": (event_time <= censor_time).astype(int),
            "arm": arm,
            "risk": risk,
            "sex": sex,
            "age": age,
            "lwbc": lwbc,
        }
    )


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run_python(d: pd.DataFrame) -> dict:
    t_km, _ = _timed(lambda: fit_km(d, "time", "status", "arm"))
    t_lr, lr = _timed(lambda: logrank_test(d, "time", "status", "arm"))
    t_cox, cox = _timed(lambda: fit_cox(d, "time", "status", COVARIATES))
    return {"km": t_km, "logrank": t_lr, "cox": t_cox, "chisq": lr.statistic, "coef": cox.terms["coef"].to_numpy()}


def run_r(d: pd.DataFrame) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "bench.csv"
        d.to_csv(csv, index=False)
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT.replace("{csv}", str(csv)))
        out = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, check=True).stdout
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    t_km, t_lr, t_cox = (float(x) for x in lines["TIMES"])
    return {
        "km": t_km,
        "logrank": t_lr,
        "cox": t_cox,
        "chisq": float(lines["LOGRANK"][0]),
        "coef": np.array([float(x) for x in lines["COEF"]]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        d = make_data(n)
        py = run_python(d)
        r = run_r(d)
        coef_diff = float(np.abs(py["coef"] - r["coef"]).max())
        rows.append((n, py, r, coef_diff, abs(py["chisq"] - r["chisq"]) / r["chisq"]))
    print("| rows | step | Python (s) | R (s) |")
    print("|---:|---|---:|---:|")
    for n, py, r, _, _ in rows:
        for step in ("km", "logrank", "cox"):
            print(f"| {n:,} | {step} | {py[step]:.3f} | {r[step]:.3f} |")
        print(
            f"| {n:,} | **all three** | {py['km'] + py['logrank'] + py['cox']:.3f} | "
            f"{r['km'] + r['logrank'] + r['cox']:.3f} |"
        )
    print()
    for n, _, _, coef_diff, chisq_diff in rows:
        print(
            f"{n:,} rows: max |coef(Python) - coef(R)| = {coef_diff:.2e}; "
            f"relative log-rank chisq difference = {chisq_diff:.1e}"
        )


if __name__ == "__main__":
    main()
