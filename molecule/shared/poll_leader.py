# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Poll every server for the raft leader during a rolling restart.

Each sample asks each server for /v1/status/leader?stale: over HTTP straight
to the container's address when the controller can reach it (milliseconds),
else inside the container through podman exec (a fraction of a second each).
`stale` makes each server answer from its own raft state: without it, a
follower forwards the question to the leader, and while there is none it
holds the request for up to 5 s (0.9.1's RPC hold timeout), so a live
follower would look down during every election. A server "acknowledges
itself as leader" when the leader it reports is its own RPC address: a
follower's answer may name a leader that has just died, the leader's own
answer cannot. One JSON line per sample:
{"t": wall time, "answering": [agents that answered at all],
"self_leader": host or null}.
Runs until killed (SIGTERM).
"""

import argparse
import json
import urllib.error
import urllib.request
import signal
import subprocess
import sys
import threading
import time

SCRIPT = (
    "addr=$(ip -4 -o addr show eth0 | sed -E 's/.*inet ([0-9.]+)\\/.*/\\1/'); "
    "leader=$(curl -s -m 1 http://127.0.0.1:4646/v1/status/leader?stale) || exit 7; "
    "echo \"$addr $leader\""
)


def ask(host, out):
    try:
        proc = subprocess.run(["podman", "exec", host, "sh", "-c", SCRIPT],
                              capture_output=True, text=True, timeout=3, check=False)
    except subprocess.TimeoutExpired:
        out[host] = None
        return
    if proc.returncode != 0:
        out[host] = None
        return
    addr, _sep, leader = proc.stdout.strip().partition(" ")
    out[host] = (addr, leader.strip().strip('"'))


def address(host):
    out = subprocess.run(["podman", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", host],
                         capture_output=True, text=True, timeout=10, check=False).stdout.strip()
    return out or None


def ask_http(host, addr, out):
    try:
        with urllib.request.urlopen("http://%s:4646/v1/status/leader?stale" % addr, timeout=1) as resp:
            out[host] = (addr, json.loads(resp.read().decode()))
    except urllib.error.HTTPError:
        out[host] = (addr, "")  # up, but no leader ("No cluster leader" is a 500)
    except Exception:  # refused, reset or timed out: the agent is down or restarting
        out[host] = None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("hosts", nargs="+")
    args = parser.parse_args()
    addrs = dict((h, address(h)) for h in args.hosts)
    direct = all(addrs.values())
    if direct:
        probe = {}
        ask_http(args.hosts[0], addrs[args.hosts[0]], probe)
        direct = probe[args.hosts[0]] is not None
    print("polling %s %s" % ("over HTTP" if direct else "through podman exec", addrs), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open(args.out, "a") as log:
        while not stop.is_set():
            t = time.time()
            answers = {}
            if direct:
                threads = [threading.Thread(target=ask_http, args=(h, addrs[h], answers)) for h in args.hosts]
            else:
                threads = [threading.Thread(target=ask, args=(h, answers)) for h in args.hosts]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            answering = sorted(h for h, a in answers.items() if a)
            self_leader = None
            for h in answering:
                addr, leader = answers[h]
                if leader and leader.rsplit(":", 1)[0] == addr:
                    self_leader = h
            log.write(json.dumps({"t": t, "answering": answering, "self_leader": self_leader}) + "\n")
            log.flush()
            stop.wait(args.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
