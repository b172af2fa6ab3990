#!/usr/bin/env bash
# The main job: a real `pulumi up` of the dev stack onto the local Kubernetes control plane.
#
#   1. the venv, the Pulumi engine and the local plane (scripts/prepare.sh --main; cached under
#      ${AGENT_RUNTIME_CACHE:-~/.cache/agent-runtime}; a cold machine builds for about 25 min);
#   2. starts the dev plane on 127.0.0.1:16443 (kept running afterwards; a running one is reused);
#   3. generates the dev stack's platform secrets once (Python's `secrets`, stored encrypted in
#      Pulumi.dev.yaml with `pulumi config set --secret`), so no random provider is needed;
#   4. `scripts/stack.py up --stack dev --yes`: the real engine, the policy pack on, a local
#      file state backend.
# Without an engine it stops with the reason (exit 3); it never pretends.
# Extra arguments go to `stack.py up` (e.g. --diff). Stop the plane with
#   venv/bin/python scripts/local_plane.py stop --instance dev
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/prepare.sh --main
venv/bin/python scripts/local_plane.py start --instance dev --port 16443 > /dev/null
venv/bin/python scripts/stack.py init-secrets --stack dev
venv/bin/python scripts/stack.py up --stack dev --yes "$@"
kubeconfig=$(venv/bin/python -c 'import sys; sys.path.insert(0, "scripts"); import local_plane; print(local_plane.instance_dir("dev") / "kubeconfig")')
cat <<DONE
quickstart: dev is up on the local control plane. Look at it with
  kubectl --kubeconfig $kubeconfig get pods -A
  venv/bin/python scripts/stack.py preview --stack dev      # a second preview: nothing to do
Stop the plane with: venv/bin/python scripts/local_plane.py stop --instance dev
DONE
