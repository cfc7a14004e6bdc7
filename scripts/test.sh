#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: system packages (R for the reference scripts,
# Chromium for the browser tests and static figure export, fonts-liberation for the exported figures'
# type), the Python packages, then pytest.
# Extra arguments go to pytest, e.g.  bash scripts/test.sh -m "not slow and not browser"
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v Rscript >/dev/null || need+=(r-base-core r-cran-survival r-cran-cmprsk)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
# The export's figures are set in Liberation Sans (Arial's metrics); without it Chromium falls back.
fc-list 2>/dev/null | grep -i "Liberation Sans" >/dev/null || need+=(fonts-liberation)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "Missing system packages: ${need[*]}. Install them with: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

python3 -m pip install -q --disable-pip-version-check -e ".[test]"
exec python3 -m pytest "$@"
