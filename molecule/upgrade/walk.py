# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One step of an upgrade path (NOMADOPS_UPGRADE_PATH): converge the
scenario's hosts at one release with converge.yml (playbooks/cluster.yml
alone), as an operator would with a new nomad_version, and record what verify
needs afterwards, since the next step overwrites it:

- the whole output, in <release>.log in the --out directory, with the
  default callback and JSON results, so that the notices can be read back as
  printed;
- one JSON line in steps.jsonl there: {"release", "from", "start", "end", "rc",
  "starts_before", "starts"}, the starts being each host's
  ExecMainStartTimestampMonotonic (microseconds on the one kernel every
  container shares, so they compare across hosts; the wall clock of
  `systemctl show` has whole seconds only).

Prints the end of the output and exits non-zero when the converge fails.
"""

import argparse
import json
import os
import subprocess
import sys
import time


def starts(hosts):
    out = {}
    for host in hosts:
        proc = subprocess.run(["podman", "exec", host, "systemctl", "show", "nomad", "-p",
                               "ExecMainStartTimestampMonotonic", "--value"],
                              capture_output=True, text=True, timeout=30, check=False)
        value = proc.stdout.strip()
        out[host] = int(value) if value.isdigit() else None
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--release", required=True)
    parser.add_argument("--from", dest="previous", required=True)
    parser.add_argument("--inventory", required=True)
    parser.add_argument("--playbook", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("hosts", nargs="+")
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    log_path = os.path.join(args.out, "%s.log" % args.release)
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_CALLBACK_RESULT_FORMAT="json",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    before = starts(args.hosts)
    start = time.time()
    with open(log_path, "w") as log:
        rc = subprocess.run(["ansible-playbook", "-i", args.inventory, args.playbook,
                             "-e", "nomad_version=%s" % args.release],
                            stdout=log, stderr=subprocess.STDOUT, env=env, check=False).returncode
    end = time.time()
    step = {"release": args.release, "from": args.previous, "start": start, "end": end, "rc": rc,
            "starts_before": before, "starts": starts(args.hosts)}
    with open(os.path.join(args.out, "steps.jsonl"), "a") as out:
        out.write(json.dumps(step) + "\n")
    with open(log_path) as log:
        lines = log.read().splitlines()
    print("%s -> %s: rc %d in %.0f s (%s)" % (args.previous, args.release, rc, end - start, log_path))
    if rc != 0:
        print("\n".join(lines[-80:]))
    return 1 if rc else 0


if __name__ == "__main__":
    sys.exit(main())
