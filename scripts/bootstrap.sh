#!/usr/bin/env bash
# Create ./venv with the pinned Python dependencies (idempotent; pip's cache lives outside the repo).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x venv/bin/python ]; then
  "$PYTHON" -m venv venv
fi
stamp=venv/.requirements.sha256
want=$(cat requirements.txt policies/requirements.txt 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  venv/bin/python -m pip install --quiet --upgrade pip
  venv/bin/python -m pip install --quiet -r requirements.txt
  echo "$want" > "$stamp"
fi
