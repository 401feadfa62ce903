# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Poll every server for the raft leader during a rolling restart.

Each sample asks each server for /v1/status/leader?stale: over HTTP straight
to the container's address when the controller can reach it (milliseconds),
else inside the container through podman exec (a fraction of a second each).
`stale` makes each server answer from its own raft state: without it, a
follower forwards the question to the leader, and while there is none it
holds the request for up to 5 s (0.9.1's RPC hold timeout), so a live
follower would look down during every election. While a cluster moves to
TLS, each agent turns to HTTPS at its restart: an agent that turns a plain
request away ("Client sent an HTTP request to an HTTPS server") is asked again
over HTTPS, with the certificate given by --tls-dir (ca.pem, cert.pem,
key.pem) or, inside the container, the agent's own. A server "acknowledges
itself as leader" when the leader it reports is its own RPC address: a
follower's answer may name a leader that has just died, the leader's own
answer cannot. One JSON line per sample:
{"t": wall time at the start of the sample, "t_end": when its last answer
came, "answering": [agents that answered at all], "self_leader": host or null}.
Runs until killed (SIGTERM).
"""

import argparse
import json
import os
import ssl
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
    "case \"$leader\" in *'HTTPS server'*) leader=$(curl -s -m 1 -k --cert /etc/nomad.d/tls/agent.pem "
    "--key /etc/nomad.d/tls/agent-key.pem https://127.0.0.1:4646/v1/status/leader?stale) || exit 7;; esac; "
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


def ask_http(host, addr, out, tls=None):
    """Over plain HTTP, then over HTTPS when the agent says it speaks that now."""
    schemes = ["http", "https"] if tls else ["http"]
    for scheme in schemes:
        try:
            with urllib.request.urlopen("%s://%s:4646/v1/status/leader?stale" % (scheme, addr), timeout=1,
                                        context=tls if scheme == "https" else None) as resp:
                out[host] = (addr, json.loads(resp.read().decode()))
                return
        except urllib.error.HTTPError as e:
            if scheme == "http" and tls and b"HTTPS server" in e.read():
                continue
            out[host] = (addr, "")  # up, but no leader ("No cluster leader" is a 500)
            return
        except Exception:  # refused, reset or timed out: the agent is down or restarting
            continue
    out[host] = None


def tls_context(tls_dir):
    if not tls_dir:
        return None
    ctx = ssl.create_default_context(cafile=os.path.join(tls_dir, "ca.pem"))
    ctx.check_hostname = False  # the certificates name the hosts' addresses, not what podman calls them
    ctx.load_cert_chain(os.path.join(tls_dir, "cert.pem"), os.path.join(tls_dir, "key.pem"))
    return ctx


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--tls-dir", help="ca.pem, cert.pem and key.pem for agents that turn to HTTPS")
    parser.add_argument("hosts", nargs="+")
    args = parser.parse_args()
    addrs = dict((h, address(h)) for h in args.hosts)
    tls = tls_context(args.tls_dir)
    direct = all(addrs.values())
    if direct:
        probe = {}
        ask_http(args.hosts[0], addrs[args.hosts[0]], probe, tls)
        direct = probe[args.hosts[0]] is not None
    print("polling %s %s" % ("over HTTP" if direct else "through podman exec", addrs), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open(args.out, "a") as log:
        while not stop.is_set():
            t = time.time()
            answers = {}
            if direct:
                threads = [threading.Thread(target=ask_http, args=(h, addrs[h], answers, tls)) for h in args.hosts]
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
            log.write(json.dumps({"t": t, "t_end": time.time(), "answering": answering,
                                  "self_leader": self_leader}) + "\n")
            log.flush()
            stop.wait(args.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
