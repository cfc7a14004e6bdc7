#!/usr/bin/env bash
# Set up, generate a synthetic demo registry (5,000 patients, seed 2026), load it, and start the
# dashboard on http://127.0.0.1:8050 (Ctrl-C stops it). Everything lands in ./demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install -q --disable-pip-version-check -e .
ayaall generate --patients 5000 --seed 2026 --out demo/extract --quiet
ayaall load demo/extract --db demo/registry.duckdb
if ayaall serve --help >/dev/null 2>&1; then
  exec ayaall serve --db demo/registry.duckdb "$@"
else
  ayaall summary --db demo/registry.duckdb
fi
