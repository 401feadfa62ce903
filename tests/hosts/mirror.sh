#!/usr/bin/env bash
# Builds the release mirror the test hosts install Nomad from, and writes
# .cache/mirror/env naming it:
#   NOMADOPS_MIRROR_DIR  a directory in the release layout (nomad/<version>/...)
#   NOMADOPS_MIRROR_KEY  armored public key that signed its SHA256SUMS, or empty
#                        for the HashiCorp key bundled with the collection
#
# By default the mirror holds the Nomad test double, once per release in
# NOMAD_VERSIONS (default "0.9.0 0.9.1 1.1.0 1.6.5": the double behaves as the release it
# is built as), all signed by one throwaway key.
# With NOMAD_RELEASES_DIR set, that directory is used as-is (a real release),
# and NOMAD_RELEASES_GPG_KEY may name the armored key that signed it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

OUT="$NOMADOPS_ROOT/.cache/mirror"
VERSIONS="${NOMAD_VERSIONS:-0.9.0 0.9.1 1.1.0 1.6.5}"
mkdir -p "$OUT"

write_env() {
  printf 'NOMADOPS_MIRROR_DIR=%q\nNOMADOPS_MIRROR_KEY=%q\n' "$1" "$2" >"$OUT/env.part"
  mv -f "$OUT/env.part" "$OUT/env"
  echo "mirror: $1"
  echo "key:    ${2:-bundled HashiCorp release key}"
}

if [ -n "${NOMAD_RELEASES_DIR:-}" ]; then
  dir="$(cd "$NOMAD_RELEASES_DIR" && pwd)" || { echo "NOMAD_RELEASES_DIR=$NOMAD_RELEASES_DIR: no such directory" >&2; exit 1; }
  if ! ls "$dir"/nomad/*/nomad_*_SHA256SUMS >/dev/null 2>&1; then
    echo "NOMAD_RELEASES_DIR=$dir is not in the release layout (expected nomad/<version>/nomad_<version>_SHA256SUMS)" >&2
    exit 1
  fi
  key=""
  if [ -n "${NOMAD_RELEASES_GPG_KEY:-}" ]; then
    [ -r "$NOMAD_RELEASES_GPG_KEY" ] || { echo "NOMAD_RELEASES_GPG_KEY=$NOMAD_RELEASES_GPG_KEY: cannot read the key file" >&2; exit 1; }
    key="$(cd "$(dirname "$NOMAD_RELEASES_GPG_KEY")" && pwd)/$(basename "$NOMAD_RELEASES_GPG_KEY")"
  fi
  write_env "$dir" "$key"
  exit 0
fi

for f in tests/nomad_double/build.py tests/support/release_mirror.py; do
  if [ ! -f "$NOMADOPS_ROOT/$f" ]; then
    echo "cannot build the test mirror: $f is missing (or set NOMAD_RELEASES_DIR to a real release directory)" >&2
    exit 1
  fi
done

cd "$NOMADOPS_ROOT"
rm -rf "$OUT/double" "$OUT/releases.new"
mkdir -p "$OUT/double"
gnupghome="$(mktemp -d)"
trap 'gpgconf --homedir "$gnupghome" --kill gpg-agent 2>/dev/null; rm -rf "$gnupghome"' EXIT
for version in $VERSIONS; do
  python tests/nomad_double/build.py "$OUT/double/nomad-$version" --version "$version" >"$OUT/double/build.log" 2>&1 \
    || { cat "$OUT/double/build.log" >&2; echo "building the Nomad test double ($version) failed" >&2; exit 1; }
  json="$(python tests/support/release_mirror.py --binary "$OUT/double/nomad-$version" --version "$version" \
            --out "$OUT/releases.new" --gnupghome "$gnupghome")"
done
# The key lies inside the output dir; keep it next to the mirror, not in it.
key="$(printf '%s' "$json" | python -c '
import json, sys
data = json.load(sys.stdin)
for name in ("public_key_path", "key_path"):
    if data.get(name):
        print(data[name])
        break
else:
    sys.exit("release_mirror.py printed no public key path: %r" % data)
')"
rm -rf "$OUT/releases"
mv "$OUT/releases.new" "$OUT/releases"
key="${key/$OUT\/releases.new/$OUT/releases}"
cp -f "$key" "$OUT/key.asc"
write_env "$OUT/releases" "$OUT/key.asc"
