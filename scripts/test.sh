#!/usr/bin/env bash
# The test command: installs what the tests need (venv, schemas, a real Nacos), then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
if [ -f scripts/fetch_schemas.sh ]; then bash scripts/fetch_schemas.sh; fi
exec venv/bin/python -m pytest tests -q "$@"
