#!/usr/bin/env bash
# Builds a Nomad binary from a source checkout of one of its release tags, for
# running the tests on real Nomad (NOMAD_RELEASES_DIR, NOMAD_TEST_BINARY).
#
#   tests/real/build-nomad.sh CHECKOUT OUT_BINARY
#
# CHECKOUT is a work tree of github.com/hashicorp/nomad at a tag (v0.9.1,
# v1.1.0, v1.6.5, ...). Only releases under MPL-2.0 may be built: 1.5.12 and
# 1.6.5 are the last of their lines; 1.5.13, 1.6.6 and 1.7.0 on are under the
# Business Source License and this script refuses them.
#
# Go modules come from the module proxy (GOPROXY as set). The UI is left out
# (no `ui` tag): the collection and its tests use the HTTP API only.
# A checkout whose generated msgpack codec (nomad/structs/structs.generated.go)
# is missing gets it regenerated with the codecgen its go.mod pins, as
# `make generate-structs` does.
set -euo pipefail

src="${1:?usage: build-nomad.sh CHECKOUT OUT_BINARY}"
out="${2:?usage: build-nomad.sh CHECKOUT OUT_BINARY}"
src="$(cd "$src" && pwd)"
mkdir -p "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"

version="$(sed -n 's/^[[:space:]]*Version = "\([0-9.]*\)".*/\1/p' "$src/version/version.go" | head -1)"
[ -n "$version" ] || { echo "$src/version/version.go: no Version found; is this a Nomad checkout?" >&2; exit 1; }
IFS=. read -r major minor patch <<<"$version"
if [ "$major" -ge 2 ] || { [ "$major" = 1 ] && { [ "$minor" -ge 7 ] \
     || { [ "$minor" = 6 ] && [ "$patch" -ge 6 ]; } || { [ "$minor" = 5 ] && [ "$patch" -ge 13 ]; }; }; }; then
  echo "Nomad $version is under the Business Source License; only MPL-2.0 releases are built here" >&2
  exit 1
fi
commit="$(git -C "$src" rev-parse --short=8 HEAD 2>/dev/null || echo unknown)"
ldflags="-X github.com/hashicorp/nomad/version.GitCommit=$commit"
# The Go release the tag was built with (.go-version, from 1.2 on; for older
# tags pass GOTOOLCHAIN, e.g. go1.16.15 for 1.1.0), fetched through the module
# proxy: newer Go refuses what older dependencies do (the msgpack codec
# generator's base64 alphabet, go:linkname into the runtime). The user's go
# env file is left out: its flags may be unknown to an older Go.
export GOENV=off
if [ -z "${GOTOOLCHAIN:-}" ] && [ -f "$src/.go-version" ]; then
  GOTOOLCHAIN="go$(tr -d '[:space:]' <"$src/.go-version")"
  export GOTOOLCHAIN
fi
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
if (cd "$src" && go tool link -help 2>&1 | grep -q checklinkname); then ldflags="$ldflags -checklinkname=0"; fi

echo "building Nomad $version ($commit) with $(cd "$src" && GOFLAGS='' go version)" >&2
if [ -f "$src/go.mod" ]; then
  cd "$src"
  export GOFLAGS=
  mod=-mod=mod
  if [ -f vendor/modules.txt ]; then
    # The tag's own vendored tree (up to 1.1.x). A partial clone may lack a
    # few large vendored files: take them from the same module version.
    mod=-mod=vendor
    git ls-files -d -- vendor 2>/dev/null | while read -r missing; do
      module="$(awk -v f="${missing#vendor/}" '$1 == "#" && index(f, $2 "/") == 1 && length($2) > length(m) {m = $2; v = $3} END {print m "@" v}' vendor/modules.txt)"
      dir="$(go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
      echo "restoring $missing from $module" >&2
      cp "$dir/${missing#vendor/"${module%@*}"/}" "$missing"
    done
  fi
  if [ -f nomad/structs/structs_codegen.go ] && [ ! -s nomad/structs/structs.generated.go ]; then
    codecgen_version="$(awk '$1 == "github.com/hashicorp/go-msgpack" {print $2; exit}' go.mod)"
    echo "regenerating nomad/structs/structs.generated.go with codecgen $codecgen_version" >&2
    GOBIN="$(go env GOPATH)/bin" go install "github.com/hashicorp/go-msgpack/codec/codecgen@$codecgen_version"
    (cd nomad/structs && PATH="$(go env GOPATH)/bin:$PATH" bash ./generate.sh)
  fi
  go build $mod -trimpath -o "$out" -ldflags "$ldflags" .
else
  # 0.9.x: a GOPATH build from the vendored tree.
  gopath="$(mktemp -d)"
  trap 'rm -rf "$gopath"' EXIT
  mkdir -p "$gopath/src/github.com/hashicorp"
  ln -s "$src" "$gopath/src/github.com/hashicorp/nomad"
  # GOPATH mode ignores GOTOOLCHAIN: ask module mode where that toolchain
  # lives and run its go directly (0.9.x built with this machine's Go 1.26
  # panics at start, "encoding alphabet includes duplicate symbols"; with
  # go1.16.15 it runs).
  go_bin="$(cd "$gopath" && GO111MODULE=on GOFLAGS='' go env GOROOT)/bin/go"
  cd "$gopath/src/github.com/hashicorp/nomad"
  GOPATH="$gopath" GO111MODULE=off GOFLAGS='' GOTOOLCHAIN=local "$go_bin" build -o "$out" -ldflags "$ldflags" .
fi
"$out" version >&2
