#!/usr/bin/env bash
# Browser check of the HTML report: installs headless Chromium and its WebDriver (Debian packages),
# the test tools (make dev, selenium is pinned in requirements-dev.txt), then runs tests/test_browser.py
# (a default run, `snakemake --report`, and the report opened offline in Chromium; screenshots in
# test-artifacts/). Needs root (or sudo) for apt-get.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        chromium chromium-driver >/dev/null
fi
chromium --version
make dev
.venv/bin/pytest -q tests/test_browser.py
