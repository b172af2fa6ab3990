#!/usr/bin/env bash
# The test command. Installs what the tests need, then runs every test (nothing is skipped):
#   venv (scripts/bootstrap.sh), upstream CRD schemas (scripts/fetch_schemas.sh), the real Nacos
#   (scripts/nacos_server.py build), the real RocketMQ (scripts/rocketmq_server.py build), actionlint (scripts/setup-actionlint.sh), and - built in
#   parallel, cached under ${AGENT_RUNTIME_CACHE:-~/.cache/agent-runtime} - the Pulumi engine
#   (scripts/setup-pulumi.sh) and the local control plane (scripts/local_plane.py build).
# A cold machine spends about 25 minutes on the two Go builds; a warm one a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh
exec venv/bin/python -m pytest tests -q "$@"
