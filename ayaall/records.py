"""The record key: each patient's secret random number, drawn when the extract is loaded.

``etl.keys`` writes one per patient (table ``record_keys``, a 32-bit integer); ``etl.read`` joins it to a
frame when asked (``keys=True``, column :data:`RECORD_KEY`); ``disclosure.cellkey`` sums a cell's keys into
its cell key, which fixes the cell's perturbation (the cell key method of the Australian Bureau of
Statistics' TableBuilder). Keys stay on the server: no page, export or ``analyze`` document holds one.
"""

from __future__ import annotations

__all__ = ["KEY_BITS", "KEY_SPACE", "RECORD_KEY", "RECORD_KEYS_TABLE"]

#: the frame column holding a patient's record key
RECORD_KEY = "record_key"
#: the database table of record keys (patient_id, record_key)
RECORD_KEYS_TABLE = "record_keys"
#: record and cell keys are integers below 2**KEY_BITS
KEY_BITS = 32
KEY_SPACE = 1 << KEY_BITS
