#!/usr/bin/env bash
# Runs molecule from the repo root on the podman test hosts:
#   tests/hosts/molecule.sh test -s default
#   tests/hosts/molecule.sh test --all
# It builds the image and the release mirror if needed, and holds an exclusive
# lock for the whole run: every scenario and `make cluster` use the host names
# nomad1..nomad3, so only one of them may run at a time.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"

exec 9>"$NOMADOPS_LOCK"
if ! flock -n 9; then
  echo "waiting for another molecule run or cluster (lock $NOMADOPS_LOCK)" >&2
  flock 9
fi

# `make cluster` uses the same names; molecule's first destroy would take its
# containers away without a word.
if [ -n "$(podman ps -aq --filter label=nomadops=cluster)" ]; then
  echo "the demo cluster (make cluster) is up and uses nomad1..nomad3: run 'make cluster-down' first" >&2
  exit 1
fi

"$NOMADOPS_ROOT/tests/hosts/build-image.sh" >&2 9>&-
podman network exists "$NOMADOPS_NETWORK"

# Only prepare reads the mirror. It is cheap to rebuild and must follow the
# double's source, so the steps that prepare hosts rebuild it every time.
subcommand=""
for arg in "$@"; do
  case "$arg" in -*) ;; *) subcommand="$arg"; break ;; esac
done
case "$subcommand" in
  test|create|prepare|converge) "$NOMADOPS_ROOT/tests/hosts/mirror.sh" >&2 ;;
esac
if [ -f "$NOMADOPS_ROOT/.cache/mirror/env" ]; then
  set -a
  . "$NOMADOPS_ROOT/.cache/mirror/env"
  set +a
fi

cd "$NOMADOPS_ROOT"
# The lock stays with this shell: a container started under molecule must not
# inherit it, or the lock would outlive the run.
molecule "$@" 9>&-
