"""What ``ayaall analyze`` prints: one ATT target in ``analyze iptw``, and small-cell suppression everywhere.

Expected values come from the demo registry of tests/conftest.py (3,000 patients, seed 11): each test
first counts, from the database itself, the small count its case is about (so the case is known to hold
one), then checks the command against the rules of analyses/suppression.py's docstring (rule 1: a count
of 1 to min_cell - 1 is masked; rule 2: so is a count whose complement is; rule 3: parts of a shown total
are masked two at a time). Synthetic cases say how they are built.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analyses.results import AnalysisError
from ayaall.cli import main
from ayaall.cohort import CohortSpec
from etl.read import load_analysis_frame

MIN_CELL = 11
OLDER = {"filters": {"age_group": ["40+"]}}  # 101 patients: many counts of 1 to 10
OLDER_B = {"filters": {"age_group": ["40+"], "lineage": ["B"]}}


def _analyze(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["analyze", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _cohort_file(tmp_path: Path, spec: dict) -> str:
    path = tmp_path / "cohort.json"
    path.write_text(json.dumps(spec))
    return str(path)


# ------------------------------------------------------------------------------ iptw: one ATT target
def test_iptw_att_target_is_the_last_level_given(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """[att_unsorted_levels] ``--levels SALVAGE_CHEMO,BLINATUMOMAB --estimand ATT`` without ``--target``:
    the target is BLINATUMOMAB (the last level given, as --help, ``iptw_weights`` and the dashboard say),
    not SALVAGE_CHEMO (the last in sorted order), for the weights and for the balance table alike.

    Expected: ``analyses.weighting`` (validated against R in test_weighting.py) called with
    ``target="BLINATUMOMAB"`` explicitly; an ATT weight is 1 for every patient of the target treatment."""
    from analyses.weighting import balance_table, fit_propensity, iptw_weights

    levels, covariates = ["SALVAGE_CHEMO", "BLINATUMOMAB"], ["age_at_dx", "wbc_at_dx"]
    out = _analyze(
        capsys,
        *("iptw", "--db", str(demo_db), "--endpoint", "OS", "--origin", "LINE2"),
        *("--treatment", "salvage_regimen", "--levels", ",".join(levels), "--covariates", ",".join(covariates)),
        *("--estimand", "ATT", "--min-cell", "0"),
    )
    assert out["target"] == "BLINATUMOMAB"
    weights = {w["group"]: w for w in out["weights"]}
    assert weights["BLINATUMOMAB"]["min"] == weights["BLINATUMOMAB"]["max"] == 1.0
    assert weights["SALVAGE_CHEMO"]["max"] != 1.0

    frame = load_analysis_frame(demo_db, CohortSpec(), "OS", "LINE2", ["salvage_regimen", *covariates])
    frame = frame[frame["salvage_regimen"].isin(levels)]
    ps = fit_propensity(frame, "salvage_regimen", covariates, levels=levels)

    def smd(target: str) -> list[float]:
        w = iptw_weights(ps, estimand="ATT", target=target)
        data = frame.loc[w.index].assign(iptw=w["weight"])
        table = balance_table(data, "salvage_regimen", covariates, "iptw", estimand="ATT", target=target)
        return list(table["smd_weighted"])

    expected, other = smd("BLINATUMOMAB"), smd("SALVAGE_CHEMO")
    assert np.max(np.abs(np.subtract(expected, other))) > 0.01  # the two targets do give different tables
    assert [b["smd_weighted"] for b in out["balance"]] == pytest.approx(expected, rel=1e-12)


def test_iptw_explicit_target_is_recorded(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """[att_explicit_target] ``--target SALVAGE_CHEMO`` is used and recorded; ATE records no target."""
    args = [
        *("iptw", "--db", str(demo_db), "--endpoint", "OS", "--origin", "LINE2", "--treatment", "salvage_regimen"),
        *("--levels", "SALVAGE_CHEMO,BLINATUMOMAB", "--covariates", "age_at_dx"),
    ]
    out = _analyze(capsys, *args, "--estimand", "ATT", "--target", "SALVAGE_CHEMO")
    assert out["target"] == "SALVAGE_CHEMO"
    assert {w["group"]: w["max"] for w in out["weights"]}["SALVAGE_CHEMO"] == 1.0
    assert _analyze(capsys, *args)["target"] is None
    assert main(["analyze", *args, "--target", "SALVAGE_CHEMO", "--json"]) != 0
    assert "needs --estimand ATT" in capsys.readouterr().err


def test_balance_table_att_needs_the_target() -> None:
    """[att_without_target] The data has no order of treatments, so ATT balance cannot guess the target."""
    from analyses.weighting import att_target, balance_table

    df = pd.DataFrame({"trt": ["A", "B"] * 6, "x": np.arange(12.0)})
    with pytest.raises(AnalysisError, match="needs the target"):
        balance_table(df, "trt", ["x"], estimand="ATT")
    assert att_target(["B", "A"]) == "A"
    assert att_target(["B", "A"], "B") == "B"
    with pytest.raises(AnalysisError, match="not one of"):
        att_target(["B", "A"], "C")


# ------------------------------------------------------------------------------ iptw: counts
def test_iptw_counts_of_a_small_treatment_are_masked(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """[att_small_target] Patients aged 40+ from LINE2: INOTUZUMAB (the ATT target) has 1 to 10 patients
    (counted here). Its n is masked (rule 1), so is its effective n (it equals n for the target: all
    weights are 1), and SALVAGE_CHEMO's n too, or the shown total minus it would give INOTUZUMAB's."""
    covariates = ["age_at_dx", "wbc_at_dx"]
    frame = load_analysis_frame(demo_db, CohortSpec.from_dict(OLDER), "OS", "LINE2", ["salvage_regimen"])
    n_target = int((frame["salvage_regimen"] == "INOTUZUMAB").sum())
    assert 0 < n_target < MIN_CELL
    out = _analyze(
        capsys,
        *("iptw", "--db", str(demo_db), "--cohort", _cohort_file(tmp_path, OLDER), "--endpoint", "OS"),
        *("--origin", "LINE2", "--treatment", "salvage_regimen", "--levels", "SALVAGE_CHEMO,INOTUZUMAB"),
        *("--covariates", ",".join(covariates), "--estimand", "ATT"),
    )
    groups = {g["group"]: g for g in out["groups"]}
    assert groups["INOTUZUMAB"]["n"] is None
    assert groups["INOTUZUMAB"]["effective_n"] is None
    assert {w["group"]: w["effective_n"] for w in out["weights"]}["INOTUZUMAB"] is None
    if out["n"] is not None:
        assert groups["SALVAGE_CHEMO"]["n"] is None


def test_iptw_small_number_trimmed_is_masked(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """[trim_0.05] Trimming at 0.05 drops 1 to 10 patients (counted here with ``iptw_weights``): the
    number trimmed is masked, and so is the number analysed (the patients on the two treatments, a public
    count, minus it would give it back)."""
    from analyses.weighting import fit_propensity, iptw_weights

    levels, covariates = ["SALVAGE_CHEMO", "BLINATUMOMAB"], ["age_at_dx", "wbc_at_dx"]
    frame = load_analysis_frame(demo_db, CohortSpec(), "OS", "LINE2", ["salvage_regimen", *covariates])
    frame = frame[frame["salvage_regimen"].isin(levels)]
    ps = fit_propensity(frame, "salvage_regimen", covariates, levels=levels)
    trimmed = ps.n - len(iptw_weights(ps, estimand="ATT", trim=0.05))
    assert 0 < trimmed < MIN_CELL
    out = _analyze(
        capsys,
        *("iptw", "--db", str(demo_db), "--endpoint", "OS", "--origin", "LINE2", "--treatment", "salvage_regimen"),
        *("--levels", ",".join(levels), "--covariates", ",".join(covariates), "--estimand", "ATT", "--trim", "0.05"),
    )
    assert out["n_trimmed"] is None
    assert out["n"] is None
    assert out["cox"]["n"] is None
    with_zero = _analyze(
        capsys,
        *("iptw", "--db", str(demo_db), "--endpoint", "OS", "--origin", "LINE2", "--treatment", "salvage_regimen"),
        *("--levels", ",".join(levels), "--covariates", ",".join(covariates), "--estimand", "ATT", "--trim", "0.05"),
        "--min-cell",
        "0",
    )
    assert with_zero["n_trimmed"] == trimmed
    assert with_zero["n"] == len(frame) - trimmed


# ------------------------------------------------------------------------------ landmark
def test_landmark_notes_quote_no_count(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """[car_t_rfs_cr1] 1 to 10 patients had their first CAR-T on or before CR1 (counted here from
    ``exposure_frame``, as ``start_stop_frame`` treats them: exposed from the start). The note says so
    without the number; ``n_exposed_at_start`` carries it, masked (rule 1), or shown with --min-cell 0."""
    from etl.read import exposure_frame

    frame = exposure_frame(demo_db, CohortSpec(), "RFS", "CR1", "car_t")
    at_start = int(((frame["exposure_days"] <= 0) & (frame["exposure_days"] < frame["time_days"])).sum())
    assert 0 < at_start < MIN_CELL
    args = ["landmark", "--db", str(demo_db), "--endpoint", "RFS", "--origin", "CR1", "--exposure", "car_t"]
    out = _analyze(capsys, *args, "--landmarks", "100,365")
    assert out["n_exposed_at_start"] is None
    assert any("exposed from the start" in note for note in out["notes"])
    assert not any(_NUMBER.search(note) for note in out["notes"])
    assert _analyze(capsys, *args, "--landmarks", "100,365", "--min-cell", "0")["n_exposed_at_start"] == at_start


# ------------------------------------------------------------------------------ totals and complements
def test_km_total_events_masked_when_few_are_event_free(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """[b_40plus_os_rel1] B-ALL aged 40+, OS from REL1 by sex: 1 to 10 patients are alive (counted here).
    The total events are masked (rule 2 on the totals), though each sex's events are protected already."""
    frame = load_analysis_frame(demo_db, CohortSpec.from_dict(OLDER_B), "OS", "REL1", ["sex"])
    n, events = len(frame), int((frame["event_code"] == 1).sum())
    assert n >= MIN_CELL
    assert 0 < n - events < MIN_CELL
    out = _analyze(
        capsys,
        *("km", "--db", str(demo_db), "--cohort", _cohort_file(tmp_path, OLDER_B), "--endpoint", "OS"),
        *("--origin", "REL1", "--by", "sex"),
    )
    assert out["n"] == n
    assert out["events"] is None


def test_response_total_responders_masked_when_few_did_not_respond(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """[b_40plus_line1_cr] B-ALL aged 40+, frontline: 1 to 10 patients had no CR/CRi/CRh (counted here with
    ``response_frame``); the overall responders are masked (rule 2 on the totals)."""
    from etl.read import response_frame

    frame = response_frame(demo_db, CohortSpec.from_dict(OLDER_B), 1, ["sex"])
    assert 0 < len(frame) - int(frame["cr"].sum()) < MIN_CELL
    out = _analyze(capsys, "response", "--db", str(demo_db), "--cohort", _cohort_file(tmp_path, OLDER_B), "--by", "sex")
    assert out["n"] == len(frame)
    assert out["outcomes"]["cr"]["responders"] is None


def _cif_groups(spec: dict[str, tuple[int, int, int]]) -> tuple[dict[str, dict], dict[str, int | None]]:
    """``analyze cif``'s groups and totals for groups of (patients, events, competing events), the rest
    censored, one patient leaving every 10 days."""
    from analyses.cif import cumulative_incidence
    from reports.analyze.cif import _groups

    rows = []
    for group, (n, events, competing) in spec.items():
        codes = [1] * events + [2] * competing + [0] * (n - events - competing)
        rows += [{"g": group, "time_days": 10.0 * (i + 1), "event_code": c} for i, c in enumerate(codes)]
    groups, totals = _groups(cumulative_incidence(pd.DataFrame(rows), "time_days", "event_code", "g"), MIN_CELL)
    return {g["group"]: g for g in groups}, totals


def test_cif_competing_events_masked_when_a_group_has_few_censored() -> None:
    """[group_censored_small] A: 30 patients, 12 events, 13 competing events, so 5 censored; B: 40, 15, 12
    (13 censored). A's n, events and competing events would give its 5 censored: its competing events are
    masked (with every per-row one), and B's too (rule 3, the total is shown: 25 hidden, not a small sum)."""
    groups, totals = _cif_groups({"A": (30, 12, 13), "B": (40, 15, 12)})
    assert (groups["A"]["n"], groups["A"]["events"]) == (30, 12)
    assert (groups["A"]["competing_events"], groups["B"]["competing_events"]) == (None, None)
    assert totals["competing_events"] == 25
    assert all(r["competing_events"] is None for r in groups["A"]["curve"])


def test_cif_total_competing_events_masked_when_few_are_censored_overall() -> None:
    """[total_censored_small] A: 30 patients, 12 events, 13 competing (5 censored); B: 40, 15, 21 (4
    censored). The totals 70, 27 and 34 would give the 9 censored: the total competing events are masked."""
    _, totals = _cif_groups({"A": (30, 12, 13), "B": (40, 15, 21)})
    assert (totals["n"], totals["events"]) == (70, 27)
    assert totals["competing_events"] is None


def test_table1_masked_group_and_missing_counts_stay_masked() -> None:
    """[table1_rule3_group] Groups X (5 patients), Y (40), Z (300): X is masked (rule 1) and Y with it
    (rule 3). Y's cells would add up to 40, so all are masked. Z has 3 patients with neither sex nor age
    (masked): its percentages (of the 297 non-missing) and its non-missing age count (297 = 300 - 3) would
    give them back, so they are masked too. Built by hand; counts as written here."""
    from analyses.baseline import table_one
    from disclosure.table1 import suppress_table_one

    rng = np.random.default_rng(1)
    sex = ["F"] * 3 + ["M"] * 2 + ["F"] * 20 + ["M"] * 20 + ["F"] * 150 + ["M"] * 147 + [None] * 3
    df = pd.DataFrame(
        {
            "arm": ["X"] * 5 + ["Y"] * 40 + ["Z"] * 300,
            "sex": sex,
            "age": np.r_[rng.uniform(15, 40, 342), [np.nan] * 3],
        }
    )
    raw = table_one(df, "arm", ["sex", "age"])
    out = suppress_table_one(raw, MIN_CELL)
    assert list(out.groups["n"]) == [None, None, 300, 345]
    cat = out.categorical.set_index(["level", "group"])
    assert cat.loc[[("F", "Y"), ("M", "Y")], "n"].isna().all()
    assert cat.xs("Z", level="group")["percent"].isna().all()
    cont = out.continuous.set_index("group")
    assert (cont.loc["Z", "missing"], cont.loc["Z", "n"]) == (None, None)
    # without suppression nothing changes
    assert suppress_table_one(raw, 0) is raw


# ------------------------------------------------------------------------------ every command, small cohort
_COUNT_KEYS = re.compile(r"^(n|n_\w+|events|competing_events|censored|at_risk|responders|not_assessed|missing)$")
# sentences quoting a threshold or a setting, not a count
_SETTINGS = (
    re.compile(r"counts of 1 to \d+ .*?at least \d+"),
    re.compile(r"Fewer than 10 events per coefficient \(\d+ coefficients\)"),
    re.compile(r"expected counts are below 5"),
    re.compile(r"after day \d+"),
    re.compile(r"\d+ times the median"),
)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w.])")
_NUMBER_WORD = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten) (?:patient|event)", re.IGNORECASE)

_COMMANDS = {
    "km": ["--endpoint", "OS", "--origin", "DX", "--by", "salvage_regimen"],
    "cox": ["--endpoint", "OS", "--origin", "DX", "--covariates", "sex,cns_status,wbc_at_dx,salvage_regimen"],
    "cif": ["--endpoint", "CIR", "--origin", "CR1", "--by", "salvage_regimen"],
    "landmark": ["--endpoint", "RFS", "--origin", "CR1", "--exposure", "car_t", "--landmarks", "100,365"],
    "iptw": [
        *("--endpoint", "OS", "--origin", "LINE2", "--treatment", "salvage_regimen"),
        *("--levels", "SALVAGE_CHEMO,INOTUZUMAB", "--covariates", "age_at_dx,wbc_at_dx", "--estimand", "ATT"),
    ],
    "response": ["--by", "lineage"],
    "table1": ["--by", "lineage"],
}


def _walk(node: Any, path: str = ""):
    """(path, key, value) of every dict entry, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", key, value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


def _notes(doc: dict) -> list[str]:
    texts = []
    for _, key, value in _walk(doc):
        if key == "notes":
            texts += value
        elif key == "note" and value:
            texts.append(value)
    return texts


def _parts_protected(total: int | None, parts: list[int | None]) -> bool:
    """Rule 3: a shown total never has exactly one masked part (it would be the difference)."""
    return total is None or sum(p is None for p in parts) != 1


def _totals_and_parts(command: str, out: dict) -> list[tuple[int | None, list[int | None]]]:
    """Each shown total of the document with the counts that add up to it."""
    if command == "table1":
        return [(out["groups"][-1]["n"], [g["n"] for g in out["groups"][:-1]])]
    if command == "landmark":
        return [(lm["n_at_risk"], [lm["n_exposed"], lm["n_unexposed"]]) for lm in out["landmarks"]]
    if command == "response":
        return [(out["n"], [g["n"] for g in o["groups"]]) for o in out["outcomes"].values()] + [
            (o["responders"], [g["responders"] for g in o["groups"]]) for o in out["outcomes"].values()
        ]
    if command == "cox":
        return []
    pairs = [(out["n"], [g["n"] for g in out["groups"]])]
    events = out["cox"]["events"] if command == "iptw" else out["events"]
    pairs.append((events, [g["events"] for g in out["groups"]]))
    if command == "cif":
        pairs.append((out["competing_events"], [g["competing_events"] for g in out["groups"]]))
    return pairs


@pytest.mark.parametrize("command", list(_COMMANDS))
def test_every_analyze_command_prints_no_small_count(
    command: str, demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each command on patients aged 40+ (101 patients; many counts of 1 to 10) with --min-cell 11: every
    count field is null, 0 or at least 11; no note or warning quotes a number (beyond thresholds and
    settings); a shown total never has a single masked part; an effective n is masked with its n. The
    document holds some masked count, or for ``cox`` the events-per-coefficient warning (so the cohort
    does test what it should)."""
    out = _analyze(
        capsys,
        command,
        *("--db", str(demo_db), "--cohort", _cohort_file(tmp_path, OLDER), "--min-cell", str(MIN_CELL)),
        *_COMMANDS[command],
    )
    counts = [(path, value) for path, key, value in _walk(out) if _COUNT_KEYS.match(key)]
    if command == "cox":  # 101 patients, 55 events: nothing to mask, but few events per coefficient
        assert any("events per coefficient" in note for note in _notes(out))
    else:
        assert any(value is None for _, value in counts), "nothing masked: the cohort does not test suppression"
    for path, value in counts:
        assert value is None or (isinstance(value, int) and (value == 0 or value >= MIN_CELL)), (path, value)
    for note in _notes(out):
        text = note
        for pattern in _SETTINGS:
            text = pattern.sub("", text)
        assert not _NUMBER.search(text), f"a note quotes a number: {note!r}"
        assert not _NUMBER_WORD.search(text), f"a note quotes a count in words: {note!r}"
    for total, parts in _totals_and_parts(command, out):
        assert _parts_protected(total, parts), (total, parts)
    for group in _curve_groups(out):
        if "effective_n" in group:
            assert group["n"] is not None or group["effective_n"] is None
        rows = group.get("curve", [])
        if group["n"] is None:  # the rows' counts add up to it (rule 4)
            assert all(r.get(c) is None for r in rows for c in ("events", "competing_events", "censored"))
        for col in ("events", "competing_events"):
            if col in group and group[col] is None:
                assert all(r.get(col) is None for r in rows), (group["group"], col)
        assert _drops_protected(rows, group.get("milestones", []))


def _curve_groups(out: dict) -> list[dict]:
    return [g for lm in out.get("landmarks", []) for g in lm["groups"]] + [
        g for g in out.get("groups", []) if "curve" in g
    ]


def _drops_protected(rows: list[dict], milestones: list[dict]) -> bool:
    """Rules 4-5: between the shown at-risk numbers of a curve and its milestones, in time order (a
    milestone after the rows of its time), each drop is 0 or at least min_cell."""
    points = sorted(
        [(r["time_days"], 0, r["at_risk"]) for r in rows] + [(m["time_days"], 1, m["at_risk"]) for m in milestones]
    )
    shown = [v for _, _, v in points if v is not None]
    return all(a - b == 0 or a - b >= MIN_CELL for a, b in itertools.pairwise(shown))


def test_cif_milestones_thinned_with_the_curve(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """[cir_cr1_by_frontline] The whole demo registry, CIR from CR1 by frontline regimen: a milestone's
    number at risk is shown only when its drop from the last shown one, curve rows included, is 0 or at
    least 11 (rules 4-5, as ``analyze km``); a group's masked events mask its rows' events."""
    out = _analyze(
        capsys, "cif", "--db", str(demo_db), "--endpoint", "CIR", "--origin", "CR1", "--by", "frontline_regimen"
    )
    assert any(g["events"] is None for g in out["groups"])
    for group in out["groups"]:
        assert _drops_protected(group["curve"], group["milestones"]), group["group"]
        if group["events"] is None:
            assert all(r["events"] is None for r in group["curve"])
