"""Load test of ``ayaall serve`` (waitress) on loopback: 1, 5, 10 and 20 simulated users.

Starts the command as a user would (its own process, the production server, the 100,000-patient registry
of ``bench_dashboard.py``), then each user, a thread with its own HTTP connection, repeats for a fixed time
what a researcher does on the Survival page: a filter change (a cohort drawn from a fixed list with a
seeded generator), which sends the cohort-count, the load line and the survival callbacks as the browser
sends them. Reported per number of users: requests, errors (any status but 200), median and 95th
percentile latency of the survival callback, and the size of its response.

Bounded: loopback only, ``--seconds`` per level (default 20), at most 20 users. The cohorts repeat, so
later requests are served from the cache as in real use; the first pass over them is cold.

Run: ``python benchmarks/bench_serve_load.py [--patients 100000] [--seconds 20] [--users 1,5,10,20]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_dashboard import OUT, _registry

ROOT = Path(__file__).resolve().parents[1]
COHORTS: list[dict[str, list[str]]] = [
    {},
    {"lineage": ["T"]},
    {"lineage": ["B"]},
    {"age_group": ["15-19", "20-24"]},
    {"age_group": ["25-29", "30-39"]},
    {"sex": ["F"]},
    {"sex": ["M"], "lineage": ["B"]},
    {"frontline_regimen": ["PED_INSPIRED"]},
    {"frontline_regimen": ["HYPER_CVAD", "ADULT_OTHER"]},
    {"cns_status": ["CNS1"]},
    {"mrd_eoi": ["NEG"]},
    {"mrd_eoi": ["POS"], "lineage": ["B"]},
]
GROUPINGS = ["lineage", "sex", "age_group", "frontline_regimen"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _callback_keys(db: Path) -> dict[str, str]:
    """The callback output keys of the Survival page and the sidebar, from the app itself."""
    from dashboard import ids
    from dashboard.app import create_app

    app = create_app(db)
    keys = {}
    for key in app.callback_map:
        if f"{ids.SURV_FIGURE}.figure" in key:
            keys["survival"] = key
        elif key.strip(".") == f"{ids.COHORT_COUNT}.children":
            keys["count"] = key
        elif key.strip(".") == f"{ids.LOAD_INFO}.children":
            keys["load"] = key
    return keys


def _filters(cohort: dict[str, list[str]]) -> list[dict]:
    from ayaall.filters import FILTERS

    return [
        {"id": {"column": s.column, "type": "cohort-filter"}, "property": "value", "value": cohort.get(s.column)}
        for s in FILTERS
    ]


def _outputs(key: str) -> list[dict]:
    parts = key.strip(".").split("...")
    return [{"id": _parse_id(p.rpartition(".")[0]), "property": p.rpartition(".")[2]} for p in parts]


def _parse_id(text: str):
    return json.loads(text) if text.startswith("{") else text


def _bodies(keys: dict[str, str], cohort: dict[str, list[str]], by: str) -> dict[str, dict]:
    entries = _filters(cohort)
    state_ids = [{"id": e["id"], "property": "id", "value": e["id"]} for e in entries]
    option = {"type": "view-option"}
    return {
        "count": {
            "output": keys["count"],
            "outputs": _outputs(keys["count"])[0],
            "inputs": [entries],
            "changedPropIds": [],
            "state": [state_ids],
        },
        "load": {
            "output": keys["load"],
            "outputs": _outputs(keys["load"])[0],
            "inputs": [entries],
            "changedPropIds": [],
        },
        "survival": {
            "output": keys["survival"],
            "outputs": _outputs(keys["survival"]),
            "inputs": [
                entries,
                {"id": {**option, "name": "endpoint"}, "property": "value", "value": "OS/DX"},
                {"id": {**option, "name": "by"}, "property": "value", "value": by},
                {"id": {**option, "name": "unit"}, "property": "value", "value": "months"},
            ],
            "changedPropIds": [],
            "state": [state_ids],
        },
    }


def _user(port: int, keys: dict[str, str], seed: int, stop: float, out: list[tuple[str, int, float, int]]) -> None:
    rng = random.Random(seed)
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while time.monotonic() < stop:
        bodies = _bodies(keys, rng.choice(COHORTS), rng.choice(GROUPINGS))
        for name in ("count", "load", "survival"):
            data = json.dumps(bodies[name]).encode()
            t0 = time.perf_counter()
            try:
                con.request("POST", "/_dash-update-component", data, {"Content-Type": "application/json"})
                response = con.getresponse()
                payload = response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                con.close()
                con = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                payload, status = b"", 0
            out.append((name, status, time.perf_counter() - t0, len(payload)))
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--users", default="1,5,10,20")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    levels = [min(int(u), 20) for u in args.users.split(",")]
    OUT.mkdir(parents=True, exist_ok=True)
    db = _registry(args.patients, args.seed)
    keys = _callback_keys(db)
    port = _free_port()
    cmd = [sys.executable, "-m", "ayaall", "serve", "--db", str(db), "--port", str(port)]
    cmd += ["--threads", str(args.threads), "--access-log", os.devnull]
    server = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("ayaall serve did not start")
            time.sleep(0.2)
        load = os.getloadavg()[0]
        print(
            f"ayaall serve (waitress, {args.threads} threads), {args.patients:,} patients (seed {args.seed}), "
            f"{args.seconds:g} s per level on loopback; load average before {load:.1f}; {os.cpu_count()} cores.\n"
        )
        print(
            "| users | requests | errors | survival p50 (s) | survival p95 (s) | all p95 (s) | survival response (KB) |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for users in levels:
            results: list[tuple[str, int, float, int]] = []
            stop = time.monotonic() + args.seconds
            threads = [
                threading.Thread(target=_user, args=(port, keys, 1000 * users + i, stop, results)) for i in range(users)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            errors = sum(1 for r in results if r[1] != 200)
            surv = [r for r in results if r[0] == "survival" and r[1] == 200]
            lat = sorted(r[2] for r in surv)
            every = sorted(r[2] for r in results)
            p95 = lat[int(0.95 * (len(lat) - 1))] if lat else float("nan")
            all95 = every[int(0.95 * (len(every) - 1))] if every else float("nan")
            size = statistics.median(r[3] for r in surv) / 1024 if surv else float("nan")
            print(
                f"| {users} | {len(results)} | {errors} | {statistics.median(lat) if lat else float('nan'):.2f} | "
                f"{p95:.2f} | {all95:.2f} | {size:.0f} |"
            )
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
