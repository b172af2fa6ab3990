#!/usr/bin/env bash
# Everything the main job and the tests need on this machine, cached outside the repo:
#   venv (scripts/bootstrap.sh), upstream CRD schemas, the real Nacos test server, the real
#   RocketMQ test broker, actionlint,
#   and, built in parallel because they are the long part, the Pulumi engine
#   (scripts/setup-pulumi.sh) and the local control plane (scripts/local_plane.py build).
# `--main`: only what the main job needs (venv, engine, plane). Exits non-zero naming the part
# that could not be had. Warm: a few seconds.
set -euo pipefail
MAIN_ONLY=0
[ "${1:-}" = "--main" ] && MAIN_ONLY=1
cd "$(dirname "$0")/.."
CACHE=${AGENT_RUNTIME_CACHE:-$HOME/.cache/agent-runtime}
LOGS=$CACHE/prepare-logs
mkdir -p "$LOGS"

bash scripts/bootstrap.sh
started=$(date +%s)
# the two Go builds run side by side (each prints its own progress lines)
bash scripts/setup-pulumi.sh -q > "$LOGS/setup-pulumi.out" &
engine=$!
venv/bin/python scripts/local_plane.py build > "$LOGS/local-plane.out" &
plane=$!
if [ "$MAIN_ONLY" = 0 ]; then
  bash scripts/fetch_schemas.sh
  venv/bin/python scripts/nacos_server.py build > "$LOGS/nacos-server.out"
  venv/bin/python scripts/rocketmq_server.py build --verbose > "$LOGS/rocketmq-server.out"
  bash scripts/setup-actionlint.sh > "$LOGS/actionlint.out"
fi
failed=0
wait "$engine" || { echo "prepare: the Pulumi engine could not be installed (messages above; logs under $CACHE/pulumi/)" >&2; failed=1; }
wait "$plane" || { echo "prepare: the local control plane could not be built (messages above; logs under $CACHE/local-plane/build-logs/)" >&2; failed=1; }
[ "$failed" = 0 ] || exit 3
echo "prepare: ready in $(( $(date +%s) - started )) s (engine: $(head -n 1 "$LOGS/setup-pulumi.out"); plane: $(tail -n 1 "$LOGS/local-plane.out"))" >&2
