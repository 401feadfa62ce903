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
# ansible-test seeds its venvs with a get-pip script from a CDN; when none is
# cached, use the offline equivalent so sanity runs where only PyPI is reachable.
pip_version=$(python3 - <<'PY'
import inspect, re
from ansible_test._internal import python_requirements as r
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(r.get_venv_packages)).group(1))
PY
)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$cache")"
[ -f "$cache" ] || cp "$root/tests/get_pip_offline.py" "$cache"
cd "$dest"
git init -q && git add -A
python_version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ansible-test sanity --python "$python_version" --color no "$@"
