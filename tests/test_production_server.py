"""``ayaall serve`` on its production server, driven in Chromium (issue 16).

The command runs as a user runs it, in a process of its own: waitress, not Flask's development server,
with the access log in a file. Chromium opens the Survival page through it; the page draws its figure,
the log has one JSON line per request naming the page and the cohort, and nothing in it is patient data.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"ayaall serve exited with {proc.returncode}: {proc.stderr.read()}")  # type: ignore[union-attr]
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError("ayaall serve did not start listening")


@pytest.fixture
def server(demo_db: Path, tmp_path: Path):
    port = _free_port()
    log = tmp_path / "access.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ayaall", "serve", "--db", str(demo_db), "--port", str(port), "--access-log", str(log)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    try:
        _wait_for(port, proc)
        yield port, log, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_the_survival_page_through_the_production_server(server, demo_db: Path) -> None:
    """[production_server] waitress answers (its Server header), the page draws its curves in Chromium
    with a cohort from the URL, and the access log names user, page and cohort, with no patient id."""
    from conftest import pytest_setup_options
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    port, log, _proc = server
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
        assert response.headers["Server"] == "ayaall"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=pytest_setup_options())
    try:
        driver.get(f"http://127.0.0.1:{port}/survival?lineage=T&by=sex")
        WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#survival-figure .main-svg")))
        WebDriverWait(driver, 30).until(
            lambda d: "patients in the cohort" in d.find_element(By.ID, "cohort-count").text
        )
        count = driver.find_element(By.ID, "cohort-count").text
        legend = driver.find_elements(By.CSS_SELECTOR, "#survival-figure .legendtext")
        assert legend, "the figure has a legend of the groups"
        load = driver.find_element(By.ID, "load-info").text
        assert load.startswith("Load L0001-")
    finally:
        driver.quit()
    assert count.split()[0].replace(",", "").isdigit()

    deadline = time.monotonic() + 10
    lines: list[dict] = []
    while time.monotonic() < deadline:  # the last lines are written as the responses go out
        lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
        if any(e.get("output", "").startswith("survival-") for e in lines):
            break
        time.sleep(0.2)
    assert lines
    assert {"time", "user", "remote", "method", "path", "status", "ms"} <= set(lines[0])
    survival = [e for e in lines if e.get("output", "").startswith("survival-")]
    assert survival, [e.get("output") for e in lines]
    assert survival[0]["cohort"]["lineage"] == ["T"]
    assert survival[0]["status"] == 200
    text = log.read_text(encoding="utf-8")
    assert "P0000" not in text  # no patient id (the demo's ids are P0000001...)
    assert "record_key" not in text
