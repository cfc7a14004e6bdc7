"""What ``ayaall analyze`` prints: one ATT target in ``analyze iptw``, and released counts everywhere.

Expected values come from the demo registry of tests/conftest.py (3,000 patients, seed 11): each test
first counts, from the database itself, the small count its case is about (so the case is known to hold
one), then checks the command against ``disclosure.policy``: every count is the midpoint of its block of
k = 11 (1-11 masked, 12-22 shown as 17, ...), 0 exact, so a count and its complement, or a total and its
parts, leave every small count at least two possible values. Synthetic cases say how they are built.
"""

from __future__ import annotations

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
from disclosure.policy import DEFAULT_NOISE
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


# ------------------------------------------------------------------------------ released counts
NOISE = DEFAULT_NOISE  # the cell key shift, at most this many either way


def _block(value: int | None) -> tuple[int, int]:
    """The true counts a released value stands for (``disclosure.policy``, k = 11, a shift of up to NOISE)."""
    if value is None:
        return 1, 11 + NOISE
    if value == 0:
        return 0, 0
    top = value + 5
    return max(1, top - 10 - NOISE), top + NOISE


def _released(value: int | None, truth: int) -> bool:
    """``value`` is how k = 11 may release ``truth``: a midpoint (6 mod 11) whose block, widened by the
    shift, holds it; None for 1 to 14; 0 for 0."""
    if value is not None and value != 0 and value % MIN_CELL != 6:
        return False
    lo, hi = _block(value)
    return lo <= truth <= hi


def _difference_range(total: int | None, part: int | None) -> range:
    """Every value ``total - part`` can take, given only the two released values."""
    (t_lo, t_hi), (p_lo, p_hi) = _block(total), _block(part)
    return range(max(0, t_lo - p_hi), t_hi - p_lo + 1)


# ------------------------------------------------------------------------------ iptw: counts
def test_iptw_counts_of_a_small_treatment_are_masked(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """[att_small_target] Patients aged 40+ from LINE2: INOTUZUMAB (the ATT target) has 1 to 10 patients
    (counted here). Its n is masked, and so is its effective n (it equals n for the target: all weights
    are 1). SALVAGE_CHEMO's n and the total are rounded, so their difference leaves INOTUZUMAB's size at
    least 11 possible values."""
    covariates = ["age_at_dx", "wbc_at_dx"]
    frame = load_analysis_frame(demo_db, CohortSpec.from_dict(OLDER), "OS", "LINE2", ["salvage_regimen"])
    n_target = int((frame["salvage_regimen"] == "INOTUZUMAB").sum())
    n_other = int((frame["salvage_regimen"] == "SALVAGE_CHEMO").sum())
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
    assert _released(groups["SALVAGE_CHEMO"]["n"], n_other)
    assert _released(out["n"], n_target + n_other)
    assert len(_difference_range(out["n"], groups["SALVAGE_CHEMO"]["n"])) >= MIN_CELL


def test_iptw_small_number_trimmed_is_masked(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """[trim_0.05] Trimming at 0.05 drops 1 to 10 patients (counted here with ``iptw_weights``): the
    number trimmed is masked; the number analysed is rounded, so the patients on the two treatments (a
    released count) minus it does not give the number trimmed back. With --min-cell 0 both are exact."""
    from analyses.weighting import fit_propensity, iptw_weights

    levels, covariates = ["SALVAGE_CHEMO", "BLINATUMOMAB"], ["age_at_dx", "wbc_at_dx"]
    frame = load_analysis_frame(demo_db, CohortSpec(), "OS", "LINE2", ["salvage_regimen", *covariates])
    frame = frame[frame["salvage_regimen"].isin(levels)]
    ps = fit_propensity(frame, "salvage_regimen", covariates, levels=levels)
    trimmed = ps.n - len(iptw_weights(ps, estimand="ATT", trim=0.05))
    assert 0 < trimmed < MIN_CELL
    args = [
        *("iptw", "--db", str(demo_db), "--endpoint", "OS", "--origin", "LINE2", "--treatment", "salvage_regimen"),
        *("--levels", ",".join(levels), "--covariates", ",".join(covariates), "--estimand", "ATT", "--trim", "0.05"),
    ]
    out = _analyze(capsys, *args)
    assert out["n_trimmed"] is None
    assert _released(out["n"], len(frame) - trimmed)
    assert _released(out["cox"]["n"], len(frame) - trimmed)
    untrimmed = _analyze(capsys, *args[:-2])
    assert len(_difference_range(untrimmed["n"], out["n"])) >= MIN_CELL
    with_zero = _analyze(capsys, *args, "--min-cell", "0")
    assert with_zero["n_trimmed"] == trimmed
    assert with_zero["n"] == len(frame) - trimmed


# ------------------------------------------------------------------------------ landmark
def test_landmark_notes_quote_no_count(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """[car_t_rfs_cr1] 1 to 10 patients had a CAR-T before CR1 (counted here from ``exposure_frame``: a
    baseline fact, not the exposure). The note says so without the number; ``n_prior_exposure`` carries
    it, masked, or shown with --min-cell 0."""
    from etl.read import exposure_frame

    frame = exposure_frame(demo_db, CohortSpec(), "RFS", "CR1", "car_t")
    prior = int(frame["prior_exposure"].sum())
    assert 0 < prior < MIN_CELL
    args = ["landmark", "--db", str(demo_db), "--endpoint", "RFS", "--origin", "CR1", "--exposure", "car_t"]
    out = _analyze(capsys, *args, "--landmarks", "100,365")
    assert out["n_prior_exposure"] is None
    assert any("before time zero" in note for note in out["notes"])
    assert not any(_NUMBER.search(_without_settings(note)) for note in out["notes"])
    assert _analyze(capsys, *args, "--landmarks", "100,365", "--min-cell", "0")["n_prior_exposure"] == prior


# ------------------------------------------------------------------------------ totals and complements
def test_km_total_events_cannot_give_the_few_event_free(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """[b_40plus_os_rel1] B-ALL aged 40+, OS from REL1 by sex: 1 to 10 patients are alive (counted here).
    The released n and events are block midpoints holding the true counts, and their difference leaves
    the number alive at least 11 possible values; each sex's likewise."""
    frame = load_analysis_frame(demo_db, CohortSpec.from_dict(OLDER_B), "OS", "REL1", ["sex"])
    n, events = len(frame), int((frame["event_code"] == 1).sum())
    assert n >= MIN_CELL
    assert 0 < n - events < MIN_CELL
    out = _analyze(
        capsys,
        *("km", "--db", str(demo_db), "--cohort", _cohort_file(tmp_path, OLDER_B), "--endpoint", "OS"),
        *("--origin", "REL1", "--by", "sex"),
    )
    assert _released(out["n"], n)
    assert _released(out["events"], events)
    assert len(_difference_range(out["n"], out["events"])) >= MIN_CELL
    for group in out["groups"]:
        rows = frame[frame["sex"] == group["group"]]
        assert _released(group["n"], len(rows))
        assert _released(group["events"], int((rows["event_code"] == 1).sum()))
        assert len(_difference_range(group["n"], group["events"])) >= 2


def test_response_total_responders_cannot_give_the_few_non_responders(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """[b_40plus_line1_cr] B-ALL aged 40+, frontline: 1 to 10 patients had no CR/CRi/CRh (counted here with
    ``response_frame``); the released n and responders hold the true counts and leave the non-responders
    at least 11 possible values."""
    from etl.read import response_frame

    frame = response_frame(demo_db, CohortSpec.from_dict(OLDER_B), 1, ["sex"])
    responders = int(frame["cr"].sum())
    assert 0 < len(frame) - responders < MIN_CELL
    out = _analyze(capsys, "response", "--db", str(demo_db), "--cohort", _cohort_file(tmp_path, OLDER_B), "--by", "sex")
    assert _released(out["n"], len(frame))
    assert _released(out["outcomes"]["cr"]["responders"], responders)
    assert len(_difference_range(out["n"], out["outcomes"]["cr"]["responders"])) >= MIN_CELL


def _released_cif(spec: dict[str, tuple[int, int, int]]):
    """The released cumulative incidence of groups of (patients, events, competing events), the rest
    censored, one patient leaving every 10 days (times coarsened to the grid, as the reports do)."""
    from analyses.cif import cumulative_incidence
    from disclosure.incidence import release_cif
    from disclosure.policy import ReleasePolicy

    policy = ReleasePolicy(MIN_CELL)
    rows = []
    for group, (n, events, competing) in spec.items():
        codes = [1] * events + [2] * competing + [0] * (n - events - competing)
        rows += [{"g": group, "time_days": 10.0 * (i + 1), "event_code": c} for i, c in enumerate(codes)]
    frame = policy.coarsen_frame(pd.DataFrame(rows), ("time_days",))
    return release_cif(cumulative_incidence(frame, "time_days", "event_code", "g"), policy)


def test_cif_counts_leave_a_group_s_few_censored_unknown() -> None:
    """[group_censored_small] A: 30 patients, 12 events, 13 competing events, so 5 censored; B: 40, 15,
    12 (13 censored). Every released count holds its true value, and A's n minus its events and
    competing events leaves its censored count 10 possible values (0 to 9)."""
    spec = {"A": (30, 12, 13), "B": (40, 15, 12)}
    summary = _released_cif(spec).summary.set_index("group")
    for group, (n, events, competing) in spec.items():
        row = summary.loc[group]
        assert _released(row["n"], n)
        assert _released(row["events"], events)
        assert _released(row["competing_events"], competing)
    (n_lo, n_hi), (e_lo, e_hi), (c_lo, c_hi) = (
        _block(summary.loc["A", c]) for c in ("n", "events", "competing_events")
    )
    censored = range(max(0, n_lo - e_hi - c_hi), n_hi - e_lo - c_lo + 1)
    assert 5 in censored
    assert len(censored) >= MIN_CELL - 1


def test_table1_small_group_and_missing_counts_are_masked() -> None:
    """[table1_small_group] Groups X (5 patients), Y (40), Z (300): X's size and cells are masked; Y's and
    Z's sizes are rounded (Y's cells cannot add up to an exact 40 that is not shown); Z's 3 patients with
    neither sex nor age are masked, and its percentages are of released counts, so they give nothing
    back. Built by hand; counts as written here."""
    from analyses.baseline import table_one
    from disclosure.policy import ReleasePolicy
    from disclosure.table1 import release_table_one

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
    out = release_table_one(raw, ReleasePolicy(MIN_CELL))
    sizes = dict(zip(out.groups["group"], out.groups["n"], strict=True))
    assert sizes["X"] is None
    assert all(_released(sizes[g], n) for g, n in (("Y", 40), ("Z", 300)))
    cat = out.categorical.set_index(["level", "group"])
    assert all(v is None or v == 0 for v in cat.xs("X", level="group")["n"])  # 0 is released as 0
    assert all(_released(cat.loc[(lvl, "Y"), "n"], 20) for lvl in ("F", "M"))
    cont = out.continuous.set_index("group")
    assert cont.loc["Z", "missing"] is None
    assert release_table_one(raw, ReleasePolicy(0)) is raw


# ------------------------------------------------------------------------------ every command, small cohort
_COUNT_KEYS = re.compile(r"^(n|n_\w+|events|competing_events|censored|responders|not_assessed|missing)$")
# counts computed from released ones (numbers at risk: a released size minus released exits)
_DERIVED_KEYS = re.compile(r"^(at_risk)$")
# sentences quoting a threshold or a setting, not a count
_SETTINGS = (
    re.compile(r"For disclosure control, every count is .*reported on the time grid\."),
    re.compile(r"Landmark days are on the \d+-day grid"),
    re.compile(r"drawn for groups of at least \d+ patients"),
    re.compile(r"Fewer than 10 events per coefficient \(\d+ coefficients\)"),
    re.compile(r"expected counts are below 5"),
    re.compile(r"after day \d+"),
    re.compile(r"\d+ times the median"),
)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w.])")
_NUMBER_WORD = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten) (?:patient|event)", re.IGNORECASE)


def _without_settings(note: str) -> str:
    from disclosure.policy import policy_for

    note = note.replace(policy_for(MIN_CELL).sentence(), "")  # the release policy, stated as it is
    for pattern in _SETTINGS:
        note = pattern.sub("", note)
    return note


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


@pytest.mark.parametrize("command", list(_COMMANDS))
def test_every_analyze_command_prints_no_small_count(
    command: str, demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each command on patients aged 40+ (101 patients; many counts of 1 to 10) with --min-cell 11: every
    count field is null, 0 or a block midpoint (6 mod 11, at least 17); every number at risk a whole
    number, null or at least 11; no note or warning quotes a number (beyond thresholds and settings); an
    effective n is masked with its n; the document says how it was released. It holds some masked count,
    or for ``cox`` the events-per-coefficient warning (so the cohort does test what it should). The
    attacks on these numbers are tests/attacks."""
    out = _analyze(
        capsys,
        command,
        *("--db", str(demo_db), "--cohort", _cohort_file(tmp_path, OLDER), "--min-cell", str(MIN_CELL)),
        *_COMMANDS[command],
    )
    assert out["release"]["min_cell"] == MIN_CELL
    counts = [(path, value) for path, key, value in _walk(out) if _COUNT_KEYS.match(key)]
    if command == "cox":  # 101 patients, 55 events: nothing to mask, but few events per coefficient
        assert any("events per coefficient" in note for note in _notes(out))
    else:
        assert any(value is None for _, value in counts), "nothing masked: the cohort does not test release"
    for path, key, value in _walk(out):
        if ".release." in path:
            continue
        if _DERIVED_KEYS.match(key) or (".curve[" in path and _COUNT_KEYS.match(key)):
            # a curve row's counts are steps between released cumulative counts (multiples of k)
            assert value is None or (isinstance(value, int) and (value == 0 or value >= MIN_CELL)), (path, value)
        elif _COUNT_KEYS.match(key):
            assert value is None or (isinstance(value, int) and (value == 0 or value % MIN_CELL == 6)), (path, value)
    for note in _notes(out):
        text = _without_settings(note)
        assert not _NUMBER.search(text), f"a note quotes a number: {note!r}"
        assert not _NUMBER_WORD.search(text), f"a note quotes a count in words: {note!r}"
    for group in out.get("groups", []) + [g for lm in out.get("landmarks", []) for g in lm["groups"]]:
        if "effective_n" in group:
            assert group["n"] is not None or group["effective_n"] is None


def test_cif_milestones_and_curves_are_on_the_grid(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """[cir_cr1_by_frontline] The whole demo registry, CIR from CR1 by frontline regimen: every curve time
    is a multiple of 7 days; a row's events are a step between released cumulative counts (0, a multiple
    of 11, or masked where the count enters its first block), and they add up to no more than the group's
    released total (the curve stops before the last block)."""
    out = _analyze(
        capsys, "cif", "--db", str(demo_db), "--endpoint", "CIR", "--origin", "CR1", "--by", "frontline_regimen"
    )
    assert any(g["curve"] for g in out["groups"])
    for group in out["groups"]:
        assert all(r["time_days"] % 7 == 0 for r in group["curve"]), group["group"]
        for col in ("events", "competing_events"):
            steps = [r[col] for r in group["curve"]]
            assert all(s is None or s % MIN_CELL == 0 for s in steps), (group["group"], col, steps)
            assert sum(6 if s is None else s for s in steps) <= (6 if group[col] is None else group[col])
