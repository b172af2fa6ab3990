#!/usr/bin/env bash
# The main job on the embedded default: `pulumi up` of the dev stack, which renders every
# manifest to rendered/dev/ (no cluster needed), with a local file state backend.
#
# It installs what it needs: the Python venv (scripts/bootstrap.sh) and a Pulumi engine
# (scripts/setup-pulumi.sh, cached under ${AGENT_RUNTIME_CACHE:-~/.cache/agent-runtime}).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh

if ! command -v pulumi >/dev/null 2>&1; then
  if setup_out=$(bash scripts/setup-pulumi.sh -q); then
    eval "$(printf '%s\n' "$setup_out" | tail -n 1)"
  else
    cat >&2 <<'MSG'
quickstart: NO PULUMI ENGINE could be installed on this machine (details above and in docs/real-engine.md).
            Falling back to scripts/render_offline.py: the dev stack's objects are rendered and schema-checked
            without an engine. This is NOT a `pulumi up`: charts are not expanded, nothing is registered.
MSG
    exec venv/bin/python scripts/render_offline.py --stack dev
  fi
fi

state_dir=${AGENT_RUNTIME_STATE:-$HOME/.cache/agent-runtime/state}
mkdir -p "$state_dir"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-agent-runtime-dev}
pulumi login "file://$state_dir" >/dev/null
pulumi stack select dev 2>/dev/null || pulumi stack init dev
pulumi up --yes --stack dev "$@"
echo "rendered manifests: $(pwd)/rendered/dev"
