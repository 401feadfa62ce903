#!/usr/bin/env bash
# ansible-test needs the tree at ansible_collections/<namespace>/<name>; give it
# a throwaway copy of the tracked files so untracked junk never reaches it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/nomadops/nomad"
mkdir -p "$dest"
git -C "$root" ls-files -z --cached --others --exclude-standard \
  | grep -zv '^collections/' \
  | (cd "$root" && xargs -0 cp --parents -t "$dest")
cd "$dest"
git init -q && git add -A
python_version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ansible-test sanity --python "$python_version" --color no "$@"
