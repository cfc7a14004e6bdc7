"""Small hand-made extracts for tests: one patient's history written in a few lines.

``Patient`` holds one patient's rows with sensible defaults; ``write_extract`` writes any number
of them as an extract (CSV), so an endpoint rule can be pinned down with the exact dates it talks
about. The extract is of format 1 (no adverse_events file) unless a patient has a toxicity or
``adverse_events=True`` asks for the file (format 1.1).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from ayaall.contract import TABLES

CUTOFF = "2024-12-31"


@dataclass
class Patient:
    patient_id: str
    dx_date: str = "2020-01-01"
    age_at_dx: str = "22"
    lineage: str = "B"
    subtype: str = "B_OTHER"
    sex: str = "F"
    last_contact_date: str = "2024-06-30"
    vital_status: str = "ALIVE"
    death_date: str = ""
    cause_of_death: str = ""
    lines: list[dict[str, str]] = field(default_factory=list)
    responses: list[dict[str, str]] = field(default_factory=list)
    relapses: list[dict[str, str]] = field(default_factory=list)
    transplants: list[dict[str, str]] = field(default_factory=list)
    toxicities: list[dict[str, str]] = field(default_factory=list)

    def line(self, line_no: int, regimen: str, start_date: str) -> Patient:
        self.lines.append({"line_no": str(line_no), "regimen": regimen, "start_date": start_date})
        return self

    def response(self, line_no: int, date: str, response: str, mrd: str = "") -> Patient:
        self.responses.append({"line_no": str(line_no), "assessment_date": date, "response": response, "mrd": mrd})
        return self

    def relapse(self, date: str, site: str = "BM") -> Patient:
        self.relapses.append({"relapse_date": date, "site": site})
        return self

    def transplant(self, date: str, **values: str) -> Patient:
        self.transplants.append({"hct_date": date, **values})
        return self

    def toxicity(self, line_no: int, event: str, grade: str, onset: str, **values: str) -> Patient:
        """An adverse event attributed to line ``line_no`` (``values``: resolution_date, term)."""
        self.toxicities.append({"line_no": str(line_no), "event": event, "grade": grade, "onset_date": onset, **values})
        return self

    def dies(self, date: str, cause: str = "DISEASE") -> Patient:
        self.vital_status, self.death_date, self.cause_of_death = "DEAD", date, cause
        self.last_contact_date = date
        return self


def _write(path: Path, table: str, rows: list[dict[str, str]]) -> None:
    columns = TABLES[table].column_names
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="raise", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


def write_extract(
    folder: Path, patients: list[Patient], cutoff: str = CUTOFF, adverse_events: bool | None = None
) -> Path:
    """Write ``patients`` as an extract folder and return it.

    ``adverse_events``: write adverse_events.csv (and declare format 1.1); by default when a patient
    has a toxicity.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with_ae = any(p.toxicities for p in patients) if adverse_events is None else adverse_events
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "format": "aya-all-registry-extract",
                "version": 1.1 if with_ae else 1,
                "registry": "test",
                "extract_date": cutoff,
                "data_cutoff": cutoff,
            }
        )
    )
    rows: dict[str, list[dict[str, str]]] = {t: [] for t in TABLES if t != "regimen_map"}
    for p in patients:
        pid = {"patient_id": p.patient_id}
        rows["patients"].append({**pid, "sex": p.sex, "race": "WHITE", "ethnicity": "NON_HISPANIC", "center_id": "C1"})
        rows["diagnoses"].append(
            {
                **pid,
                "dx_date": p.dx_date,
                "age_at_dx": p.age_at_dx,
                "lineage": p.lineage,
                "subtype": p.subtype,
                "wbc_at_dx": "10",
                "cns_status": "CNS1",
            }
        )
        rows["followup"].append(
            {
                **pid,
                "last_contact_date": p.last_contact_date,
                "vital_status": p.vital_status,
                "death_date": p.death_date,
                "cause_of_death": p.cause_of_death,
            }
        )
        rows["treatment_lines"] += [{**pid, **x} for x in p.lines]
        rows["responses"] += [{**pid, **x} for x in p.responses]
        rows["relapses"] += [{**pid, **x} for x in p.relapses]
        rows["transplants"] += [{**pid, **x} for x in p.transplants]
        rows["adverse_events"] += [{**pid, **x} for x in p.toxicities]
    if not with_ae:
        del rows["adverse_events"]
    for table, table_rows in rows.items():
        _write(folder / f"{table}.csv", table, table_rows)
    return folder
