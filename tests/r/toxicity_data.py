"""Write toxicity_data.csv: the toxicity endpoints of salvage (line 2) in a seeded synthetic registry.

The input of tests/r/toxicity_reference.R and of tests/test_toxicity_estimators.py: a 3,000-patient
registry (seed 15) generated and loaded by the project, and ``etl.toxicity.toxicity_frame`` for line 2
(CRS, VOD/SOS, infection; any grade and grade >= 3; a 100-day window) of the patients whose salvage
regimen is blinatumomab, inotuzumab, CD19 CAR-T or chemotherapy.

Run from the repository root:   python tests/r/toxicity_data.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from etl import load_extract  # noqa: E402
from etl.toxicity import toxicity_frame  # noqa: E402
from synthetic_data import generate_registry  # noqa: E402

REGIMENS = ("BLINATUMOMAB", "INOTUZUMAB", "CAR_T_CD19", "SALVAGE_CHEMO")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        generate_registry(Path(tmp) / "extract", n_patients=3000, seed=15)
        load_extract(Path(tmp) / "extract", Path(tmp) / "db.duckdb")
        con = duckdb.connect(str(Path(tmp) / "db.duckdb"), read_only=True)
        frame = toxicity_frame(con, 2, ["CRS", "VOD_SOS", "INFECTION"], (1, 3), window_days=100)
        con.close()
    frame = frame[frame["regimen"].isin(REGIMENS)]
    columns = ["patient_id", "regimen", "event", "min_grade", "time_days", "event_code", "worst_grade"]
    frame[columns].to_csv(Path(__file__).with_name("toxicity_data.csv"), index=False)


if __name__ == "__main__":
    main()
