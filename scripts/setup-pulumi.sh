#!/usr/bin/env bash
# setup-pulumi.sh -- give this machine the real Pulumi engine the project runs, cached outside the repo.
#
# Installs into ${AGENT_RUNTIME_CACHE:-$HOME/.cache/agent-runtime}/pulumi/<cli version>/:
#   bin/pulumi                          CLI + engine (versions in scripts/engine.env)
#   bin/pulumi-resource-pulumi-python   dynamic-provider helper (next to the CLI: the engine looks there)
#   bin/pulumi-language-python          Python language host   (optional: the proxy refuses it today)
#   providers/pulumi-resource-kubernetes  Kubernetes provider  } registered as plugins of home/, not on
#   providers/pulumi-resource-random      random provider      } PATH (no "ambient plugin" warnings);
#                                         random is optional: the proxy refuses it today
#   home/                               PULUMI_HOME with the plugins registered (scripts/stack.py uses it)
#
# First that works wins, per part: the official release tarballs (get.pulumi.com, one 5 s probe),
# else `go build` from the Go module proxy through wrapper modules generated in the cache.
# Long steps print progress every 30 s. Go's module and build caches are Go's defaults.
#
# Usage: scripts/setup-pulumi.sh [--check] [--force] [-q]
#   --check  only probe what the registries serve; build nothing
#   --force  rebuild even when the cache has everything
# Exit: 0 the required parts (CLI, helper, Kubernetes provider) are installed; 3 a required part
# could not be had (the part and the registry's answer are printed); 2 bad usage or missing tool.
# The last line of stdout is `export PATH=...` for eval.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=engine.env
. "$HERE/engine.env"
CLI_VERSION=$PULUMI_CLI_VERSION
K8S_VERSION=$PULUMI_KUBERNETES_VERSION
K8S_MODULE_VERSION=$PULUMI_KUBERNETES_MODULE
RANDOM_VERSION=$PULUMI_RANDOM_VERSION

PKG_MOD=github.com/pulumi/pulumi/pkg/v3
SDK_MOD=github.com/pulumi/pulumi/sdk/v3
LANGHOST_MOD=github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
K8S_MOD=github.com/pulumi/pulumi-kubernetes/provider/v4
RANDOM_MOD=github.com/pulumi/pulumi-random/provider/v4

CHECK_ONLY=0 FORCE=0 QUIET=0
for arg in "$@"; do
  case "$arg" in
    --check) CHECK_ONLY=1 ;;
    --force) FORCE=1 ;;
    -q|--quiet) QUIET=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup-pulumi: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

CACHE_ROOT=${AGENT_RUNTIME_CACHE:-$HOME/.cache/agent-runtime}
PREFIX=$CACHE_ROOT/pulumi/$CLI_VERSION
BIN=$PREFIX/bin PROVIDERS=$PREFIX/providers BUILD=$PREFIX/build STAMPS=$PREFIX/stamps LOGS=$PREFIX/logs
export PULUMI_HOME=$PREFIX/home PULUMI_SKIP_UPDATE_CHECK=true

log() { [ "$QUIET" = 1 ] || echo "setup-pulumi: $*" >&2; }
say() { echo "setup-pulumi: $*" >&2; }

version_of() { case "$1" in kubernetes) echo "$K8S_VERSION" ;; random) echo "$RANDOM_VERSION" ;; *) echo "$CLI_VERSION" ;; esac; }
path_of() {
  case "$1" in
    cli) echo "$BIN/pulumi" ;; helper) echo "$BIN/pulumi-resource-pulumi-python" ;; langhost) echo "$BIN/pulumi-language-python" ;;
    kubernetes) echo "$PROVIDERS/pulumi-resource-kubernetes" ;; random) echo "$PROVIDERS/pulumi-resource-random" ;;
  esac
}
installed() {
  [ "$FORCE" = 0 ] && [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$(version_of "$1")" ] && [ -x "$(path_of "$1")" ]
}
stamp() { mkdir -p "$STAMPS"; version_of "$1" > "$STAMPS/$1"; }

REQUIRED=(cli helper kubernetes)
OPTIONAL=(langhost random)

finish() {
  local c missing=() absent=()
  for c in "${REQUIRED[@]}"; do installed "$c" || missing+=("$c"); done
  for c in "${OPTIONAL[@]}"; do installed "$c" || absent+=("$c"); done
  [ "${#absent[@]}" -eq 0 ] || log "optional part(s) not installed: ${absent[*]} ($(for c in "${absent[@]}"; do printf '%s: %s; ' "$c" "$(reason "$c")"; done))"
  echo "$BIN"
  echo "export PATH=\"$BIN:\$PATH\" PULUMI_HOME=\"$PULUMI_HOME\""
  if [ "${#missing[@]}" -gt 0 ]; then
    for c in "${missing[@]}"; do say "NOT AVAILABLE: $c -- $(reason "$c")"; done
    exit 3
  fi
  exit 0
}
reason() { head -n 3 "$LOGS/$1.unavailable" 2>/dev/null | tr '\n' ' ' || true; [ -f "$LOGS/$1.unavailable" ] || echo "not attempted"; }
unavailable() { mkdir -p "$LOGS"; echo "$2" > "$LOGS/$1.unavailable"; say "$1: $2"; }

# register_plugins: the providers as installed plugins of $PULUMI_HOME, so the engine never looks elsewhere or downloads
register_plugins() {
  local p v
  installed cli || return 0
  for p in kubernetes random; do
    installed "$p" || continue
    v=$(version_of "$p")
    [ -x "$PULUMI_HOME/plugins/resource-$p-v$v/pulumi-resource-$p" ] && continue
    "$BIN/pulumi" plugin install resource "$p" "$v" -f "$(path_of "$p")" > "$LOGS/plugin-install-$p.log" 2>&1 \
      || { say "pulumi plugin install $p $v failed:"; tail -n 5 "$LOGS/plugin-install-$p.log" >&2; rm -f "$STAMPS/$p"; }
  done
}

# ------------------------------------------------------------------ warm path
if [ "$CHECK_ONLY" = 0 ]; then
  warm=1
  for c in "${REQUIRED[@]}"; do installed "$c" || warm=0; done
  if [ "$warm" = 1 ] && [ "$("$BIN/pulumi" version 2>/dev/null)" = "v$CLI_VERSION" ]; then
    log "cached: pulumi v$CLI_VERSION and kubernetes $K8S_VERSION in $BIN"
    mkdir -p "$LOGS" "$PULUMI_HOME"; register_plugins
    finish
  fi
fi
mkdir -p "$BIN" "$PROVIDERS" "$BUILD" "$STAMPS" "$LOGS" "$PULUMI_HOME"

# run_step NAME CMD...: run with its output in $LOGS/NAME.log, a progress line every 30 s, the time recorded
run_step() {
  local name=$1 start pid rc=0 next=30
  shift
  start=$(date +%s)
  log "$name: started (log: $LOGS/$name.log)"
  "$@" > "$LOGS/$name.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if [ $(( $(date +%s) - start )) -ge "$next" ]; then log "$name: still running ($next s)"; next=$((next + 30)); fi
  done
  wait "$pid" || rc=$?
  echo $(( $(date +%s) - start )) > "$LOGS/$name.seconds"
  if [ "$rc" = 0 ]; then log "$name: done in $(cat "$LOGS/$name.seconds") s"; return 0; fi
  say "$name failed after $(cat "$LOGS/$name.seconds") s; last lines of $LOGS/$name.log:"
  tail -n 15 "$LOGS/$name.log" >&2
  return 1
}

# ------------------------------------------------------------------ 1. official tarballs
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64|Darwin-x86_64) ARCH=x64 PLUGIN_ARCH=amd64 ;;
  Linux-aarch64|Darwin-arm64) ARCH=arm64 PLUGIN_ARCH=arm64 ;;
  *) ARCH="" PLUGIN_ARCH="" ;;
esac
OS=$(uname -s | tr '[:upper:]' '[:lower:]')
RELEASES=https://get.pulumi.com/releases
official() { [ -n "$ARCH" ] && command -v curl >/dev/null && curl -fsSI --max-time 5 "$RELEASES/sdk/pulumi-v$CLI_VERSION-$OS-$ARCH.tar.gz" >/dev/null 2>&1; }
fetch_tarball() { # url dir: unpack every pulumi* file into dir
  local tmp; tmp=$(mktemp -d)
  if curl -fsSL --max-time 600 "$1" -o "$tmp/t.tgz" && tar -xzf "$tmp/t.tgz" -C "$tmp"; then
    find "$tmp" -type f -name 'pulumi*' ! -name '*.tgz' -exec cp -f {} "$2/" \; ; rm -rf "$tmp"; return 0
  fi
  rm -rf "$tmp"; return 1
}
if [ "$CHECK_ONLY" = 1 ]; then
  if official; then echo "official release tarballs ($RELEASES): reachable"; else echo "official release tarballs ($RELEASES): NOT reachable"; fi
elif official; then
  log "official release tarballs reachable: downloading pulumi v$CLI_VERSION and the plugins"
  if fetch_tarball "$RELEASES/sdk/pulumi-v$CLI_VERSION-$OS-$ARCH.tar.gz" "$BIN" && [ "$("$BIN/pulumi" version)" = "v$CLI_VERSION" ]; then
    stamp cli; stamp helper; [ -x "$BIN/pulumi-language-python" ] && stamp langhost
  fi
  fetch_tarball "$RELEASES/plugins/pulumi-resource-kubernetes-v$K8S_VERSION-$OS-$PLUGIN_ARCH.tar.gz" "$PROVIDERS" && stamp kubernetes || true
  fetch_tarball "$RELEASES/plugins/pulumi-resource-random-v$RANDOM_VERSION-$OS-$PLUGIN_ARCH.tar.gz" "$PROVIDERS" && stamp random || true
else
  log "official release tarballs not reachable: building from the Go module proxy ($(go env GOPROXY 2>/dev/null || echo 'go missing'))"
fi

# ------------------------------------------------------------------ 2. Go module proxy
command -v go >/dev/null || { unavailable cli "go is not installed and the official tarballs are not reachable"; finish; }
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
GO_VERSION=$(go env GOVERSION | sed 's/^go//')

json_get() { python3 -c 'import json,sys
try:
    v=json.load(open(sys.argv[1]))
    for k in sys.argv[2].split("."): v=v.get(k) if isinstance(v,dict) else None
    print("" if v is None else v)
except Exception: print("")' "$1" "$2"; }

# download PART MODULE@VERSION: module into the module cache, its answer kept; 1 when refused
download() {
  local out=$LOGS/$1.download.json err
  (cd "$BUILD" && [ -f go.mod ] || printf 'module setup.local\n\ngo %s\n' "$GO_VERSION" > "$BUILD/go.mod")
  (cd "$BUILD" && go mod download -json "$2") > "$out" 2> "$LOGS/$1.download.err" || true
  err=$(json_get "$out" Error)
  if [ -n "$err" ] || [ -z "$(json_get "$out" Dir)" ]; then
    unavailable "$1" "Go module $2 -- ${err:-$(tail -n 2 "$LOGS/$1.download.err")}"
    return 1
  fi
  rm -f "$LOGS/$1.unavailable"
}

# The language host module has no semver tags: its version is the pseudo-version of the CLI's release commit.
langhost_version() {
  local info=$LOGS/pkg.info.json t h
  (cd "$BUILD" && go list -m -json "$PKG_MOD@v$CLI_VERSION") > "$info" 2>/dev/null || return 1
  t=$(json_get "$info" Time) h=$(json_get "$info" Origin.Hash)
  [ -n "$t" ] && [ -n "$h" ] || return 1
  python3 -c 'import sys,datetime
t=datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")).astimezone(datetime.timezone.utc)
print("v3.0.0-%s-%s" % (t.strftime("%Y%m%d%H%M%S"), sys.argv[2][:12]))' "$t" "$h"
}

declare -A SERVED=()
probe() {
  download sdk "$SDK_MOD@v$CLI_VERSION" && SERVED[sdk]=1 || true
  download cli "$PKG_MOD@v$CLI_VERSION" && SERVED[cli]=1 || true
  # the proxy's .info carries no commit hash for pkg/v3 releases: then ask for the module's newest version
  LANGHOST_VERSION=$(langhost_version || echo latest)
  download langhost "$LANGHOST_MOD@$LANGHOST_VERSION" && SERVED[langhost]=1 || true
  LANGHOST_VERSION=$(json_get "$LOGS/langhost.download.json" Version)
  download kubernetes "$K8S_MOD@$K8S_MODULE_VERSION" && SERVED[kubernetes]=1 || true
  download random "$RANDOM_MOD@v$RANDOM_VERSION" && SERVED[random]=1 || true
}

if [ "$CHECK_ONLY" = 1 ]; then
  probe
  for p in sdk cli langhost kubernetes random; do
    if [ -n "${SERVED[$p]:-}" ]; then echo "$p: served"; else echo "$p: NOT served -- $(reason "$p")"; fi
  done
  [ -n "${SERVED[sdk]:-}" ] && [ -n "${SERVED[cli]:-}" ] && [ -n "${SERVED[kubernetes]:-}" ] && exit 0 || exit 3
fi

need=0
for c in "${REQUIRED[@]}" "${OPTIONAL[@]}"; do installed "$c" || need=1; done
[ "$need" = 1 ] && log "probing the Go module proxy" && probe

# helper: a script shipped in the sdk module; next to the CLI, the engine finds it without PATH lookups
if ! installed helper && [ -n "${SERVED[sdk]:-}" ]; then
  dir=$(json_get "$LOGS/sdk.download.json" Dir)
  install -m 0755 "$dir/python/dist/pulumi-resource-pulumi-python" "$BIN/pulumi-resource-pulumi-python" && stamp helper
  [ -f "$dir/python/cmd/pulumi-language-python-exec" ] && install -m 0755 "$dir/python/cmd/pulumi-language-python-exec" "$BIN/"
fi

# CLI (and the language host when served) from one wrapper module pinned to the release
if { ! installed cli || ! installed langhost; } && [ -n "${SERVED[cli]:-}" ]; then
  w=$BUILD/pulumi
  rm -rf "$w"; mkdir -p "$w"
  printf 'module setup.local/pulumi\n\ngo %s\n' "$GO_VERSION" > "$w/go.mod"
  # upstream pkg/go.mod: `replace sdk/v3 => ../sdk` (restated as the same release) and the clipboard fork
  (cd "$w" && go mod edit -require="$PKG_MOD@v$CLI_VERSION" -require="$SDK_MOD@v$CLI_VERSION" \
     -replace="$SDK_MOD=$SDK_MOD@v$CLI_VERSION")
  (cd "$w" && go mod edit -json "$(json_get "$LOGS/cli.download.json" GoMod)") | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    if r["New"].get("Version"):
        print("-replace=%s=%s@%s" % (r["Old"]["Path"], r["New"]["Path"], r["New"]["Version"]))' > "$w/replaces"
  # shellcheck disable=SC2046
  [ -s "$w/replaces" ] && (cd "$w" && go mod edit $(cat replaces))
  [ -n "${SERVED[langhost]:-}" ] && (cd "$w" && go mod edit -require="$LANGHOST_MOD@$LANGHOST_VERSION")
  ld="-s -w -X $SDK_MOD/go/common/version.Version=v$CLI_VERSION"
  if ! installed cli && run_step build-pulumi-cli bash -c "cd '$w' && go build -trimpath -ldflags '$ld' -o '$BIN/pulumi' $PKG_MOD/cmd/pulumi"; then
    if [ "$("$BIN/pulumi" version)" = "v$CLI_VERSION" ]; then stamp cli; else unavailable cli "built, but reports $("$BIN/pulumi" version)"; fi
  elif ! installed cli; then
    unavailable cli "go build of $PKG_MOD@v$CLI_VERSION failed: $(tail -n 3 "$LOGS/build-pulumi-cli.log" | tr '\n' ' ')"
  fi
  if [ -n "${SERVED[langhost]:-}" ] && ! installed langhost; then
    run_step build-language-python bash -c "cd '$w' && go build -trimpath -ldflags '$ld' -o '$BIN/pulumi-language-python' $LANGHOST_MOD" && stamp langhost || true
  fi
fi

# Kubernetes provider: its binary embeds schema files generated from the module's schema.json
if ! installed kubernetes && [ -n "${SERVED[kubernetes]:-}" ]; then
  src=$BUILD/kubernetes
  rm -rf "$src"; cp -r "$(json_get "$LOGS/kubernetes.download.json" Dir)" "$src"; chmod -R u+w "$src"
  # upstream's `replace sdk/v4 => ../sdk` points into its repository layout: use the published sdk it requires
  (cd "$src" && go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4)
  cmd=$src/cmd/pulumi-resource-kubernetes
  if run_step generate-kubernetes-schema bash -c "cd '$cmd' && VERSION='$K8S_VERSION' go generate ."; then
    [ -f "$cmd/terraform-mapping-embed.json" ] || python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1])), open(sys.argv[2],"w"), separators=(",",":"))' "$cmd/terraform-mapping.json" "$cmd/terraform-mapping-embed.json"
    run_step build-kubernetes-provider bash -c "cd '$src' && go build -trimpath -ldflags '-s -w -X $K8S_MOD/pkg/version.Version=$K8S_VERSION' -o '$PROVIDERS/pulumi-resource-kubernetes' ./cmd/pulumi-resource-kubernetes" \
      && stamp kubernetes || unavailable kubernetes "go build of $K8S_MOD@$K8S_MODULE_VERSION failed (see $LOGS/build-kubernetes-provider.log)"
  else
    unavailable kubernetes "go generate of $K8S_MOD@$K8S_MODULE_VERSION failed (see $LOGS/generate-kubernetes-schema.log)"
  fi
fi

register_plugins
finish
