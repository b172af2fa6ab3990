#!/usr/bin/env bash
# setup-pulumi.sh -- give this machine a real Pulumi engine, outside the repo.
#
# Installs into ${AGENT_RUNTIME_CACHE:-$HOME/.cache/agent-runtime}/pulumi/<version>/bin:
#   pulumi                         CLI + engine, v$PULUMI_VERSION (== the Python SDK in the venv)
#   pulumi-language-python         Python language host (same release commit)
#   pulumi-language-python-exec    \
#   pulumi-resource-pulumi-python   } non-Go helpers shipped in the sdk/v3 module under python/
#   pulumi-analyzer-policy-python  /  (only when that module version ships it: 3.200 does, 3.272 not)
#   pulumi-resource-kubernetes     v$K8S_VERSION
#   pulumi-resource-random         v$RANDOM_VERSION (best effort, --skip-random to leave out)
#
# Strategy, per component, first that works wins:
#   1. official release tarballs (get.pulumi.com) -- quick probe, usually unreachable here;
#   2. `go build` from the Go module proxy through small wrapper modules that this
#      script generates in the cache dir (never in the repo), restating the upstream
#      `replace` directives that matter (read from the upstream go.mod at build time).
# Nothing built here is ever written into the repository.
#
# Usage: scripts/setup-pulumi.sh [--check] [--skip-random] [--no-download] [--force] [-q]
#   --check        only probe what is obtainable (official download / module proxy); build nothing
#   --skip-random  do not try pulumi-resource-random
#   --no-download  do not probe the official release tarballs, go straight to the Go build
#   --force        rebuild even if the cache already has the binaries
# Exit codes: 0 all required parts present (random is optional); 3 some required part could
# not be obtained (the reason is printed and logged under <prefix>/logs); other = unexpected.
#
# Environment: AGENT_RUNTIME_CACHE; SETUP_{PULUMI,K8S,RANDOM}_VERSION (see below);
# GOPROXY/GOMODCACHE/GOCACHE (Go's defaults, all outside the repo); PULUMI_LANGUAGE_PYTHON_VERSION
# (override the pseudo-version derived from the release commit of pkg/v3@v$PULUMI_VERSION).
# See docs/real-engine.md (on this workplace the module proxy refuses the needed modules).
set -euo pipefail

# Pinned to the Python packages in the project's venv (pulumi, pulumi-kubernetes, pulumi-random).
# The SETUP_* overrides exist only to exercise the build mechanics against other releases; an
# engine/provider that differs from the SDK's version makes the engine try to download plugins.
PULUMI_VERSION=${SETUP_PULUMI_VERSION:-3.272.0}
K8S_VERSION=${SETUP_K8S_VERSION:-4.34.2}
RANDOM_VERSION=${SETUP_RANDOM_VERSION:-4.21.4}

PKG_MOD=github.com/pulumi/pulumi/pkg/v3
SDK_MOD=github.com/pulumi/pulumi/sdk/v3
LANGHOST_MOD=github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
K8S_MOD=github.com/pulumi/pulumi-kubernetes/provider/v4
RANDOM_MOD=github.com/pulumi/pulumi-random/provider/v4
# Upstream's version ldflags (goreleaser / provider Makefiles).
PULUMI_VERSION_VAR=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version
K8S_VERSION_VAR=$K8S_MOD/pkg/version.Version
RANDOM_VERSION_VAR=$RANDOM_MOD/pkg/version.Version

CHECK_ONLY=0 SKIP_RANDOM=0 NO_DOWNLOAD=0 FORCE=0 QUIET=0
for arg in "$@"; do
  case "$arg" in
    --check) CHECK_ONLY=1 ;;
    --skip-random) SKIP_RANDOM=1 ;;
    --no-download) NO_DOWNLOAD=1 ;;
    --force) FORCE=1 ;;
    -q|--quiet) QUIET=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup-pulumi: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

CACHE_ROOT=${AGENT_RUNTIME_CACHE:-$HOME/.cache/agent-runtime}
PREFIX=$CACHE_ROOT/pulumi/$PULUMI_VERSION
BIN=$PREFIX/bin
BUILD=$PREFIX/build
STAMPS=$PREFIX/stamps
LOGS=$PREFIX/logs

log() { [ "$QUIET" = 1 ] || echo "setup-pulumi: $*" >&2; }
warn() { echo "setup-pulumi: WARNING: $*" >&2; }

# component -> binaries that must exist for it to count as installed
bins_of() {
  case "$1" in
    cli) echo pulumi ;;
    langhost) echo pulumi-language-python ;;
    helpers) echo pulumi-language-python-exec pulumi-resource-pulumi-python ;;
    kubernetes) echo pulumi-resource-kubernetes ;;
    random) echo pulumi-resource-random ;;
  esac
}
version_of() {
  case "$1" in
    kubernetes) echo "$K8S_VERSION" ;;
    random) echo "$RANDOM_VERSION" ;;
    *) echo "$PULUMI_VERSION" ;;
  esac
}
installed() { # component -> 0 when its stamp matches and its binaries are there
  local c=$1 b
  [ "$FORCE" = 1 ] && return 1
  [ -f "$STAMPS/$c" ] && [ "$(cat "$STAMPS/$c")" = "$(version_of "$c")" ] || return 1
  for b in $(bins_of "$c"); do [ -x "$BIN/$b" ] || return 1; done
}
stamp() { mkdir -p "$STAMPS"; version_of "$1" > "$STAMPS/$1"; }

REQUIRED=(cli langhost helpers kubernetes)
ALL=("${REQUIRED[@]}")
[ "$SKIP_RANDOM" = 1 ] || ALL+=(random)

finish() {
  local rc=0 c missing=() optional_missing=()
  for c in "${REQUIRED[@]}"; do installed "$c" || missing+=("$c"); done
  if [ "$SKIP_RANDOM" = 0 ] && ! installed random; then optional_missing+=(random); fi
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup-pulumi: NOT COMPLETE: missing required part(s): ${missing[*]} (see $LOGS/)" >&2
    rc=3
  fi
  [ "${#optional_missing[@]}" -eq 0 ] || warn "optional part(s) not installed: ${optional_missing[*]}"
  echo "$BIN"
  echo "export PATH=\"$BIN:\$PATH\""
  exit "$rc"
}

# ---------------------------------------------------------------- warm path
if [ "$CHECK_ONLY" = 0 ]; then
  all_ok=1
  for c in "${ALL[@]}"; do installed "$c" || { all_ok=0; break; }; done
  if [ "$all_ok" = 1 ] && [ "$("$BIN/pulumi" version 2>/dev/null)" = "v$PULUMI_VERSION" ]; then
    log "cached: everything for pulumi v$PULUMI_VERSION is already in $BIN"
    finish
  fi
fi

mkdir -p "$BIN" "$BUILD" "$STAMPS" "$LOGS"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) TAR_ARCH=x64 PLUGIN_ARCH=amd64 ;;
  Linux-aarch64) TAR_ARCH=arm64 PLUGIN_ARCH=arm64 ;;
  Darwin-x86_64) TAR_ARCH=x64 PLUGIN_ARCH=amd64 ;;
  Darwin-arm64) TAR_ARCH=arm64 PLUGIN_ARCH=arm64 ;;
  *) TAR_ARCH="" PLUGIN_ARCH="" ;;
esac
OS=$(uname -s | tr '[:upper:]' '[:lower:]')

# ---------------------------------------------------------------- 1. official tarballs
# One quick probe (5 s); on machines without that network this costs ~nothing.
RELEASES=https://get.pulumi.com/releases
official_reachable() {
  [ "$NO_DOWNLOAD" = 0 ] && [ -n "$TAR_ARCH" ] && command -v curl >/dev/null &&
    curl -fsSI --max-time 5 "$RELEASES/sdk/pulumi-v$PULUMI_VERSION-$OS-$TAR_ARCH.tar.gz" >/dev/null 2>&1
}
fetch_tarball() { # url dest-dir
  local tmp; tmp=$(mktemp -d)
  if curl -fsSL --max-time 600 "$1" -o "$tmp/t.tar.gz" && tar -xzf "$tmp/t.tar.gz" -C "$tmp"; then
    mkdir -p "$2"; find "$tmp" -type f -name 'pulumi*' ! -name '*.tar.gz' -exec cp -f {} "$2/" \;
    rm -rf "$tmp"; return 0
  fi
  rm -rf "$tmp"; return 1
}

if [ "$CHECK_ONLY" = 1 ]; then
  if official_reachable; then echo "official release tarballs: reachable"; else echo "official release tarballs: NOT reachable"; fi
elif official_reachable; then
  log "official release tarballs reachable: downloading"
  if ! { installed cli && installed langhost && installed helpers; }; then
    fetch_tarball "$RELEASES/sdk/pulumi-v$PULUMI_VERSION-$OS-$TAR_ARCH.tar.gz" "$BIN" &&
      [ "$("$BIN/pulumi" version)" = "v$PULUMI_VERSION" ] && stamp cli && stamp langhost && stamp helpers || true
  fi
  installed kubernetes || { fetch_tarball "$RELEASES/plugins/pulumi-resource-kubernetes-v$K8S_VERSION-$OS-$PLUGIN_ARCH.tar.gz" "$BIN" && stamp kubernetes || true; }
  [ "$SKIP_RANDOM" = 1 ] || installed random || { fetch_tarball "$RELEASES/plugins/pulumi-resource-random-v$RANDOM_VERSION-$OS-$PLUGIN_ARCH.tar.gz" "$BIN" && stamp random || true; }
else
  log "official release tarballs not reachable: building from the Go module proxy"
fi

# ---------------------------------------------------------------- 2. Go build
command -v go >/dev/null || { echo "setup-pulumi: go is not installed" >&2; finish; }
command -v python3 >/dev/null || { echo "setup-pulumi: python3 is required" >&2; exit 1; }
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" CGO_ENABLED=0
GO_LDFLAGS_BASE="-s -w"
GO_LOCAL_VERSION=$(go env GOVERSION | sed 's/^go//')

json_get() { # file key[.key...] -> value or empty
  python3 - "$1" "$2" <<'PY'
import json, sys
try:
    v = json.load(open(sys.argv[1]))
    for k in sys.argv[2].split('.'):
        v = v.get(k) if isinstance(v, dict) else None
    print("" if v is None else v)
except Exception:
    print("")
PY
}

# mod_download MOD VER NAME -> writes $LOGS/NAME.download.json; 0 on success
mod_download() {
  local out=$LOGS/$3.download.json
  (cd "$BUILD" && go mod download -json "$1@$2") > "$out" 2>"$LOGS/$3.download.err" || true
  local err; err=$(json_get "$out" Error)
  if [ -n "$err" ] || [ -z "$(json_get "$out" Dir)" ]; then
    { echo "$1@$2: ${err:-$(cat "$LOGS/$3.download.err")}"; } > "$LOGS/$3.unavailable"
    return 1
  fi
  rm -f "$LOGS/$3.unavailable"
}
unavailable_reason() { cat "$LOGS/$1.unavailable" 2>/dev/null | head -3; }

# restate_replaces UPSTREAM_GOMOD WRAPPER_DIR: copy every non-local replace of the upstream
# module's go.mod into the wrapper (a dependency's own replaces are ignored by Go).
restate_replaces() {
  (cd "$2" && go mod edit -json "$1") | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    old, new = r["Old"], r["New"]
    if not new.get("Version"):
        print("# local replace not restated: %s => %s" % (old["Path"], new["Path"]), file=sys.stderr)
        continue
    o = old["Path"] + ("@" + old["Version"] if old.get("Version") else "")
    print("-replace=%s=%s@%s" % (o, new["Path"], new["Version"]))
' > "$2/.replaces" 2> "$2/.replaces.skipped"
  if [ -s "$2/.replaces" ]; then
    # shellcheck disable=SC2046
    (cd "$2" && go mod edit $(cat .replaces))
  fi
}

# copy_module NAME DEST: writable copy of a downloaded module; its local (path) replaces are
# dropped from the copy's go.mod (they point into upstream's repo layout, absent from the zip).
copy_module() {
  local dir; dir=$(json_get "$LOGS/$1.download.json" Dir)
  cp -r "$dir" "$2"; chmod -R u+w "$2"
  local drops
  drops=$(go mod edit -json "$2/go.mod" | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    if not r["New"].get("Version"):
        print("-dropreplace=" + r["Old"]["Path"] + ("@" + r["Old"]["Version"] if r["Old"].get("Version") else ""))')
  # shellcheck disable=SC2086
  [ -z "$drops" ] || go mod edit $drops "$2/go.mod"
}

new_wrapper() { # dir module-path
  rm -rf "$1"; mkdir -p "$1"
  printf 'module %s\n\ngo %s\n' "$2" "$GO_LOCAL_VERSION" > "$1/go.mod"
}

timed() { # name cmd... ; records wall seconds in $LOGS/NAME.seconds
  local name=$1 start end; shift
  start=$(date +%s)
  if "$@" > "$LOGS/$name.log" 2>&1; then
    end=$(date +%s); echo $((end - start)) > "$LOGS/$name.seconds"
    log "$name: done in $((end - start)) s"
    return 0
  fi
  end=$(date +%s)
  warn "$name failed after $((end - start)) s; last lines of $LOGS/$name.log:"
  tail -n 15 "$LOGS/$name.log" >&2
  return 1
}

# -- language host pseudo-version: the sdk/python/cmd/pulumi-language-python module has no
#    semver tags; use the commit of the v$PULUMI_VERSION release (tag pkg/v$PULUMI_VERSION).
langhost_version() {
  if [ -n "${PULUMI_LANGUAGE_PYTHON_VERSION:-}" ]; then echo "$PULUMI_LANGUAGE_PYTHON_VERSION"; return; fi
  local info=$LOGS/pkg.info.json t h
  (cd "$BUILD" && go list -m -json "$PKG_MOD@v$PULUMI_VERSION") > "$info" 2>/dev/null || return 1
  t=$(json_get "$info" Time) h=$(json_get "$info" Origin.Hash)
  [ -n "$t" ] && [ -n "$h" ] || return 1
  python3 -c 'import sys,datetime
t=datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")).astimezone(datetime.timezone.utc)
print("v3.0.0-%s-%s" % (t.strftime("%Y%m%d%H%M%S"), sys.argv[2][:12]))' "$t" "$h"
}

# -------- preflight: which module versions does the proxy actually serve?
declare -A AVAIL=()
preflight() {
  log "probing the Go module proxy ($(go env GOPROXY))"
  mod_download "$SDK_MOD" "v$PULUMI_VERSION" sdk && AVAIL[sdk]=1 || true
  mod_download "$PKG_MOD" "v$PULUMI_VERSION" pkg && AVAIL[pkg]=1 || true
  LANGHOST_VERSION=$(langhost_version || true)
  if [ -n "$LANGHOST_VERSION" ]; then
    mod_download "$LANGHOST_MOD" "$LANGHOST_VERSION" langhost && AVAIL[langhost]=1 || true
  else
    echo "$LANGHOST_MOD: cannot derive the pseudo-version of v$PULUMI_VERSION (no Time/Origin.Hash for $PKG_MOD@v$PULUMI_VERSION: $(cat "$LOGS/pkg.unavailable" 2>/dev/null | head -1)); set PULUMI_LANGUAGE_PYTHON_VERSION" > "$LOGS/langhost.unavailable"
  fi
  mod_download "$K8S_MOD" "v$K8S_VERSION" kubernetes && AVAIL[kubernetes]=1 || true
  if [ "$SKIP_RANDOM" = 0 ]; then
    mod_download "$RANDOM_MOD" "v$RANDOM_VERSION" random && AVAIL[random]=1 || true
  fi
  local n
  for n in sdk pkg langhost kubernetes random; do
    [ "$n" = random ] && [ "$SKIP_RANDOM" = 1 ] && continue
    if [ -n "${AVAIL[$n]:-}" ]; then echo "go module $n: available"
    else echo "go module $n: NOT available -- $(unavailable_reason "$n")"; fi
  done
}

# -------- helpers (sdk/v3 module, python/)
install_helpers() {
  local dir; dir=$(json_get "$LOGS/sdk.download.json" Dir)
  install -m 0755 "$dir/python/cmd/pulumi-language-python-exec" "$BIN/pulumi-language-python-exec"
  install -m 0755 "$dir/python/dist/pulumi-resource-pulumi-python" "$BIN/pulumi-resource-pulumi-python"
  if [ -f "$dir/python/dist/pulumi-analyzer-policy-python" ]; then
    install -m 0755 "$dir/python/dist/pulumi-analyzer-policy-python" "$BIN/pulumi-analyzer-policy-python"
  else
    warn "$SDK_MOD@v$PULUMI_VERSION ships no python/dist/pulumi-analyzer-policy-python"
  fi
}

# -------- CLI + language host: one wrapper, both pinned to the same pulumi/pulumi release
build_cli_langhost() {
  local w=$BUILD/pulumi
  new_wrapper "$w" agent-runtime.local/pulumi-engine-build
  (cd "$w" && go mod edit \
    -require="$PKG_MOD@v$PULUMI_VERSION" -require="$SDK_MOD@v$PULUMI_VERSION" \
    -replace="$PKG_MOD=$PKG_MOD@v$PULUMI_VERSION" -replace="$SDK_MOD=$SDK_MOD@v$PULUMI_VERSION")
  # upstream pkg/go.mod: `replace github.com/atotto/clipboard => github.com/tgummerer/clipboard ...`
  # (and the sdk => ../sdk local one, restated above as a version pin)
  restate_replaces "$(json_get "$LOGS/pkg.download.json" GoMod)" "$w"
  if [ -n "${AVAIL[langhost]:-}" ]; then
    (cd "$w" && go mod edit -require="$LANGHOST_MOD@$LANGHOST_VERSION")
    # its go.mod only has local replaces (../../../../pkg, ../../../): the pins above restate them
    restate_replaces "$(json_get "$LOGS/langhost.download.json" GoMod)" "$w"
  fi
  local ld="$GO_LDFLAGS_BASE -X $PULUMI_VERSION_VAR=v$PULUMI_VERSION"
  if ! installed cli; then
    timed build-pulumi-cli bash -c "cd '$w' && go build -trimpath -ldflags '$ld' -o '$BIN/pulumi' $PKG_MOD/cmd/pulumi" &&
      [ "$("$BIN/pulumi" version)" = "v$PULUMI_VERSION" ] && stamp cli
  fi
  if [ -n "${AVAIL[langhost]:-}" ] && ! installed langhost; then
    timed build-language-python bash -c "cd '$w' && go build -trimpath -ldflags '$ld' -o '$BIN/pulumi-language-python' $LANGHOST_MOD" &&
      stamp langhost
  fi
}

# -------- Kubernetes provider: go:embeds schema-embed.json / terraform-mapping-embed.json,
#          generated files that are not in the module zip -> generate them in a writable copy
#          exactly as upstream's Makefile does (`VERSION=... go generate cmd/<provider>/main.go`)
build_kubernetes() {
  local w=$BUILD/kubernetes src cmd
  new_wrapper "$w" agent-runtime.local/pulumi-kubernetes-build
  src=$w/provider
  copy_module kubernetes "$src"
  cmd=$src/cmd/pulumi-resource-kubernetes
  (cd "$w" && go mod edit -require="$K8S_MOD@v$K8S_VERSION" -replace="$K8S_MOD=./provider")
  restate_replaces "$(json_get "$LOGS/kubernetes.download.json" GoMod)" "$w"
  timed generate-kubernetes-schema bash -c "cd '$src' && VERSION='$K8S_VERSION' go generate ./cmd/pulumi-resource-kubernetes" || return 1
  if [ ! -f "$cmd/terraform-mapping-embed.json" ] && [ -f "$cmd/terraform-mapping.json" ]; then
    python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1])), open(sys.argv[2],"w"), separators=(",",":"))' \
      "$cmd/terraform-mapping.json" "$cmd/terraform-mapping-embed.json"
  fi
  timed build-kubernetes-provider bash -c "cd '$w' && go build -trimpath -ldflags '$GO_LDFLAGS_BASE -X $K8S_VERSION_VAR=$K8S_VERSION' -o '$BIN/pulumi-resource-kubernetes' $K8S_MOD/cmd/pulumi-resource-kubernetes" &&
    stamp kubernetes
}

# -------- random provider (Terraform-bridged). Its provider/go.mod needs
#   replace github.com/terraform-providers/terraform-provider-random/shim => ./shim
# a nested module that is NOT in the provider/v4 module zip; the shim only re-exports the
# upstream TF provider's internal/provider.New(). We regenerate that glue (our own 10 lines).
build_random() {
  local w=$BUILD/random src cmd shimpath=github.com/terraform-providers/terraform-provider-random/shim
  new_wrapper "$w" agent-runtime.local/pulumi-random-build
  src=$w/provider
  copy_module random "$src"
  cmd=$src/cmd/pulumi-resource-random
  if [ ! -f "$src/shim/go.mod" ]; then
    local tfver
    tfver=$(cd "$w" && go mod edit -json "$src/go.mod" | python3 -c '
import json,sys
for r in json.load(sys.stdin).get("Require") or []:
    if r["Path"] == "github.com/terraform-providers/terraform-provider-random": print(r["Version"])')
    [ -n "$tfver" ] || { echo "random: cannot find the terraform-provider-random version in provider/go.mod" > "$LOGS/random.unavailable"; return 1; }
    mkdir -p "$w/shim"
    printf 'module %s\n\ngo %s\n\nrequire github.com/terraform-providers/terraform-provider-random %s\n' "$shimpath" "$GO_LOCAL_VERSION" "$tfver" > "$w/shim/go.mod"
    cat > "$w/shim/shim.go" <<'EOF'
// Generated by agent-runtime scripts/setup-pulumi.sh: re-export the TF provider constructor.
package shim

import (
	tfpf "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/terraform-providers/terraform-provider-random/internal/provider"
)

func NewProvider() tfpf.Provider { return provider.New() }
EOF
    (cd "$w/shim" && go mod tidy) > "$LOGS/random-shim.log" 2>&1 || { warn "random shim: go mod tidy failed (see $LOGS/random-shim.log)"; return 1; }
  fi
  go mod edit -replace="$shimpath=../shim" "$src/go.mod"
  (cd "$w" && go mod edit -require="$RANDOM_MOD@v$RANDOM_VERSION" -replace="$RANDOM_MOD=./provider" \
     -require="$shimpath@v0.0.0" -replace="$shimpath=./shim")
  restate_replaces "$(json_get "$LOGS/random.download.json" GoMod)" "$w"
  timed generate-random-schema bash -c "cd '$w/provider' && VERSION='$RANDOM_VERSION' go generate ./cmd/pulumi-resource-random" || return 1
  timed build-random-provider bash -c "cd '$w' && go build -trimpath -ldflags '$GO_LDFLAGS_BASE -X $RANDOM_VERSION_VAR=$RANDOM_VERSION' -o '$BIN/pulumi-resource-random' $RANDOM_MOD/cmd/pulumi-resource-random" &&
    stamp random
}

need_go=0
for c in "${ALL[@]}"; do installed "$c" || need_go=1; done
if [ "$CHECK_ONLY" = 1 ]; then
  preflight
  ok=1
  for n in sdk pkg langhost kubernetes; do [ -n "${AVAIL[$n]:-}" ] || ok=0; done
  [ "$ok" = 1 ] && { echo "everything required can be built"; exit 0; }
  echo "some required modules are not served by the module proxy: the Go build cannot complete"; exit 3
fi
if [ "$need_go" = 1 ]; then
  if [ "$QUIET" = 1 ]; then preflight > /dev/null; else preflight >&2; fi

  if ! installed helpers && [ -n "${AVAIL[sdk]:-}" ]; then install_helpers && stamp helpers; fi
  if { ! installed cli || ! installed langhost; } && [ -n "${AVAIL[pkg]:-}" ]; then build_cli_langhost || true; fi
  if ! installed kubernetes && [ -n "${AVAIL[kubernetes]:-}" ]; then build_kubernetes || true; fi
  if [ "$SKIP_RANDOM" = 0 ] && ! installed random && [ -n "${AVAIL[random]:-}" ]; then build_random || true; fi
fi
finish
