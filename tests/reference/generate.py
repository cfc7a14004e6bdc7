"""Write the stored reference outputs of tests/test_reference_outputs.py from the code of a pinned commit.

The references are what the code of commit ``f3949e2`` returned (the last commit with
``tests/timing_reference.py`` and ``tests/suppression_reference.py``: verbatim copies of the earlier,
slower implementations of the treatment-timing estimators, the group handling of ``fit_km`` and
``logrank_test``). This script extracts that commit's files (``git archive``), runs them in a fresh process
on the inputs of ``cases.py`` and stores each result, exactly (``codec.py``), under ``outputs/``.

Run from the repository root: ``python tests/reference/generate.py [--commit f3949e2]``. The commit is
recorded in each file's header; the tests say which commit their expected values come from.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
COMMIT = "f3949e2"
OUTPUTS = HERE / "outputs"


def outcome(fn, *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """``fn(*args, **kwargs)``, or the exception's type and message, with the warnings issued (their text)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            result = (type(exc).__name__, str(exc))
    return result, [str(w.message) for w in caught]


def timing_outputs(reference: Any, start_stop_frame: Any) -> dict[str, Any]:
    """The treatment-timing references, keyed ``function | case | variant``."""
    import pandas as pd
    from cases import CASES, GROUP_COLUMNS, LANDMARK_SETS, counting_variants

    out: dict[str, Any] = {}
    for case, data in CASES.items():
        out[f"start_stop_frame | {case}"] = outcome(reference.start_stop_frame, data, "time", "status", "expo")
        shuffled = data.sample(frac=1, random_state=1)
        out[f"start_stop_frame | {case} | shuffled"] = outcome(
            reference.start_stop_frame, shuffled, "time", "status", "expo"
        )
        for i, marks in enumerate(LANDMARK_SETS):
            out[f"fit_landmark | {case} | {i}"] = outcome(
                reference.fit_landmark, data, "time", "status", "expo", marks, times=(5, 15, 30)
            )
        try:
            counting = start_stop_frame(data, "time", "status", "expo")
        except Exception:
            continue
        for name, frame in counting_variants(counting).items():
            out[f"simon_makuch | {case} | {name}"] = outcome(reference.simon_makuch, frame)
            out[f"simon_makuch | {case} | {name} | 0.9"] = outcome(reference.simon_makuch, frame, conf_level=0.9)
            for variance in ("breslow", "hypergeometric"):
                out[f"mantel_byar | {case} | {name} | {variance}"] = outcome(
                    reference.mantel_byar_test, frame, variance=variance
                )
        for ties in ("efron", "breslow"):
            for i, (covariates, options) in enumerate(COX_OPTIONS):
                out[f"fit_cox_counting | {case} | {ties} | {i}"] = outcome(
                    reference.fit_cox_counting, counting, "start", "stop", "event", covariates, ties=ties, **options
                )
    for name, column in GROUP_COLUMNS.items():
        df = pd.DataFrame({"g": column})
        out[f"km_groups | {name}"] = outcome(reference.km_groups, df, "g")
        out[f"logrank_groups | {name}"] = outcome(reference.logrank_groups, df, "g")
    return out


#: the counting-process Cox models of the references: covariates and options
COX_OPTIONS: tuple[tuple[list[str], dict[str, Any]], ...] = (
    (["exposed"], {"cluster_col": "row_id"}),
    (["exposed"], {"robust": True}),
    (["exposed"], {}),
    (["exposed", "age", "sex"], {"cluster_col": "row_id"}),  # missing ages: complete cases only
    (["exposed", "sex"], {"weights_col": "w", "robust": True}),
)


def _worker(tree: Path, commit: str) -> None:
    """Inside the pinned commit's files: compute every reference and write it."""
    sys.path[:0] = [str(tree), str(tree / "tests"), str(HERE)]
    import codec
    import timing_reference
    from analyses.timing import start_stop_frame

    header = {"commit": commit, "script": "tests/reference/generate.py"}
    OUTPUTS.mkdir(exist_ok=True)
    codec.write(OUTPUTS / "timing.json.gz", timing_outputs(timing_reference, start_stop_frame), header)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", default=COMMIT)
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.commit)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "tree.tar"
        with archive.open("wb") as fh:
            subprocess.run(["git", "archive", args.commit], check=True, stdout=fh, cwd=ROOT)
        with tarfile.open(archive) as tar:
            tar.extractall(Path(tmp) / "tree", filter="data")
        tree = Path(tmp) / "tree"
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(tree), "--commit", args.commit],
            check=True,
            cwd=tree,
        )
    for path in sorted(OUTPUTS.glob("*.json.gz")):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
