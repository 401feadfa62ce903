# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time playbooks/cluster.yml on local podman hosts, and print the figures.

Scenario cluster3 (three hosts, each server and client, as molecule/default):
  cold converge   fresh hosts (created and prepared untimed) to a ready cluster,
                  and how busy the machine's cores were meanwhile
  time to ready   from the first agent's start (systemd's timestamp) to the end of
                  the converge, whose last task is the readiness gate; and how long
                  that gate itself waited
  servers started how far apart the servers' agents started (they wait for one
                  moment, so that no client registers with a server not yet up)
  re-run          the same playbook again (must change nothing)
  module calls    per host, in one more re-run at -vvv: every module the hosts
                  ran (the round trips that decide a re-run's time)
Scenario cluster13 (three server+client hosts plus ten client-only hosts):
  the same, all 13 hosts in one batch of forks; with cluster3 in the same run,
  it also prints the ratio of the two.
Scenario cluster3-docker: cluster3 with nomad_docker_enabled=true (the roles
  install Docker from the test hosts' offline repository); with cluster3 in the
  same run, it also prints what Docker adds.

Each step is one `tests/hosts/molecule.sh` run (it holds the podman lock), so
the figures include molecule's own start-up of a few seconds.

--transport podman (the default) reaches the hosts as molecule does, through
`podman exec`: every module call is several podman commands, and podman runs
those one at a time across all containers, so a module call costs the same
wall time per host however many forks there are. --transport ssh reaches the
same hosts the way users reach theirs: SSH with pipelining and a persistent
connection per host (the README's recommended settings), where hosts are
served in parallel and a module call is one round trip. The scenarios
live in bench/molecule/ and are found through MOLECULE_GLOB: `make test`,
which looks in molecule/, never runs them.

    python bench/cluster.py [--only cluster3|cluster13|cluster3-docker ...] [--keep]
"""

import argparse
import datetime
import os
import re
import subprocess
import sys
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOLECULE = os.path.join(ROOT, 'tests', 'hosts', 'molecule.sh')
ANSI = re.compile(r'\x1b\[[0-9;]*m')


KEY_COPY = os.path.join(ROOT, '.cache', 'bench-mirror-key.asc')
# molecule.sh rebuilds the mirror (with a fresh throwaway key) before every
# converge; the hosts keep the mirror copied in at create. A timed converge
# therefore runs molecule itself, under the same lock, with the key saved at create.
DIRECT = (
    '. tests/hosts/env.sh && set -a && . .cache/mirror/env && set +a && '
    'export NOMADOPS_MIRROR_KEY="$1" && exec 9>"$NOMADOPS_LOCK" && flock 9 && molecule "$2" -s "$3" "${@:4}" 9>&-'
)
SSH_DIR = os.path.join(ROOT, '.cache', 'bench-ssh')
SSH_ARGS = ('-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ControlMaster=auto '
            '-o ControlPersist=300s -o ControlPath=%s/cm-%%h' % SSH_DIR)


def podman(*args):
    return subprocess.run(['bash', '-c', '. tests/hosts/env.sh && podman "$@"', 'podman'] + list(args), cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True).stdout.decode()


def scenario_hosts(scenario, group=None):
    with open(os.path.join(ROOT, 'bench', 'molecule', scenario, 'molecule.yml')) as handle:
        platforms = yaml.safe_load(handle)['platforms']
    return [p['name'] for p in platforms if group is None or group in p.get('groups', [])]


def ssh_inventory(scenario):
    """An inventory that reaches the scenario's hosts over SSH (its host vars win over
    molecule's), and the hosts by address, as Ansible's -vvv output names them."""
    key = os.path.join(SSH_DIR, 'id_ed25519')
    os.makedirs(SSH_DIR, exist_ok=True)
    if not os.path.exists(key):
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'bench', '-f', key], check=True)
    lines, names = [], {}
    for host in scenario_hosts(scenario):
        podman('exec', host, 'sh', '-c', 'mkdir -p -m 700 /root/.ssh && systemctl start ssh')
        podman('cp', key + '.pub', host + ':/root/.ssh/authorized_keys')
        address = podman('inspect', host, '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}')
        names[address.strip()] = host
        lines.append("%s ansible_host=%s ansible_connection=ssh ansible_user=root ansible_ssh_private_key_file=%s "
                     "ansible_ssh_pipelining=true ansible_ssh_common_args='%s'" % (host, address.strip(), key, SSH_ARGS))
    path = os.path.join(SSH_DIR, scenario + '.ini')
    with open(path, 'w') as handle:
        handle.write('\n'.join(lines) + '\n')
    return path, names


SCENARIOS = {'cluster3': ('cluster3', []), 'cluster13': ('cluster13', []),
             'cluster3-docker': ('cluster3', ['-e', 'nomad_docker_enabled=true'])}


def molecule(action, scenario, log, inventory=None, extra_args=(), **extra_env):
    env = dict(os.environ, MOLECULE_GLOB='bench/molecule/*/molecule.yml', PY_COLORS='0', ANSIBLE_FORCE_COLOR='0',
               **extra_env)
    if action == 'converge':
        cmd = ['bash', '-c', DIRECT, 'bench', KEY_COPY if os.path.getsize(KEY_COPY) else '', action, scenario]
        options = (['-i', inventory] if inventory else []) + list(extra_args)
        if options:
            cmd += ['--'] + options
    else:
        cmd = [MOLECULE, action, '-s', scenario]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    elapsed = time.monotonic() - start
    out = ANSI.sub('', proc.stdout.decode('utf-8', 'replace'))
    with open(log, 'a') as handle:
        handle.write('==== molecule %s -s %s (rc %d, %.1f s)\n%s\n' % (action, scenario, proc.returncode, elapsed, out))
    if proc.returncode != 0:
        sys.exit('molecule %s -s %s failed (rc %d); see %s' % (action, scenario, proc.returncode, log))
    return elapsed, out


def recap(out):
    """Per-host changed counts of the last playbook in molecule's output."""
    counts = {}
    for host, changed in re.findall(r'^\s*[│|]?\s*([\w.-]+)\s*:\s*ok=\d+\s+changed=(\d+)', out, re.M):
        counts[host] = int(changed)
    return counts


def module_calls(out):
    """{host: n} from -vvv output: the commands that ran Python on each host.

    A module is one such command, piped to the interpreter (pipelining) or
    run from a file put there first. Interpreter discovery, a shell command
    that only looks for Python, is left out.
    """
    calls = {}
    for line in re.findall(r"^<[\w.-]+> (?:SSH: EXEC|RUN) .*$", out, re.M):
        if 'ENDFOUND' not in line and re.search(r"/python3[\d.]*(?:'| &&| \S*AnsiballZ_\w+\.py)", line):
            host = line[1:line.index('>')]
            calls[host] = calls.get(host, 0) + 1
    return calls


def waited(out):
    found = re.findall(r'"waited":\s*"?([0-9.]+)', out)
    return float(found[-1]) if found else None


def save_key():
    """Keep the key that signed the mirror the hosts just received."""
    key = ''
    with open(os.path.join(ROOT, '.cache', 'mirror', 'env')) as handle:
        for line in handle:
            if line.startswith('NOMADOPS_MIRROR_KEY='):
                key = line.split('=', 1)[1].strip().strip("'\"")
    with open(KEY_COPY, 'w') as out:
        if key:
            with open(key) as src:
                out.write(src.read())


def unit_property(host, name):
    """A property of the nomad unit on a host, as `systemctl show` gives it ('' if unreadable)."""
    return subprocess.run(
        ['bash', '-c', '. tests/hosts/env.sh && podman exec "$0" systemctl show nomad -p "$1" --value', host, name],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False).stdout.decode().strip()


def start_spread(hosts):
    """Seconds between the first and the last start of the nomad unit among hosts.

    The containers share one kernel, so their monotonic clocks (microseconds)
    can be compared."""
    stamps = [int(out) / 1e6 for out in (unit_property(host, 'ExecMainStartTimestampMonotonic') for host in hosts)
              if out.isdigit() and int(out)]
    return max(stamps) - min(stamps) if len(stamps) > 1 else None


def first_start(hosts):
    """Earliest wall-clock start of the nomad unit among hosts (1 s resolution)."""
    stamps = []
    for host in hosts:
        out = unit_property(host, 'ExecMainStartTimestamp')
        if out:
            stamp = datetime.datetime.strptime(out.split(' ', 1)[1], '%Y-%m-%d %H:%M:%S %Z')
            stamps.append(stamp.replace(tzinfo=datetime.timezone.utc).timestamp())
    return min(stamps) if stamps else None


def cpu_jiffies():
    """(busy, total) jiffies of the whole machine: containers, controller and all."""
    with open('/proc/stat') as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def run(name, keep, log, transport):
    print('%s (%s):' % (name, transport))
    scenario, extra = SCENARIOS[name]
    molecule('destroy', scenario, log)
    molecule('create', scenario, log)  # create + prepare (mirror copied in): not timed
    save_key()
    inventory, names = ssh_inventory(scenario) if transport == 'ssh' else (None, {})
    busy, total = cpu_jiffies()
    cold, out = molecule('converge', scenario, log, inventory, extra)
    ended = time.time()
    busy, total = [after - before for after, before in zip(cpu_jiffies(), (busy, total))]
    changed = recap(out)
    print('  cold converge      %6.1f s   changed tasks: %d over %d hosts'
          % (cold, sum(changed.values()), len(changed)))
    # The hosts share this machine's cores: when they are all busy, more
    # hosts cannot be served in parallel, whatever the playbook does.
    print('  machine CPU busy   %5.0f %%   of %d cores during the cold converge'
          % (100.0 * busy / total, os.cpu_count()))
    started = first_start([h for h in changed if h != 'localhost'])
    gate = waited(out)
    print('  time to ready      %6s s   (first agent start to converge end; the gate itself waited %s s)'
          % ('%.1f' % (ended - started) if started else '?', '%.1f' % gate if gate is not None else '?'))
    spread = start_spread(scenario_hosts(scenario, 'nomad_servers'))
    print('  servers started    %6s s   apart (first to last)' % ('?' if spread is None else '{:.3f}'.format(spread)))
    again, out = molecule('converge', scenario, log, inventory, extra)
    changed = recap(out)
    print('  idempotent re-run  %6.1f s   changed tasks: %d' % (again, sum(changed.values())))
    dummy, out = molecule('converge', scenario, log, inventory, extra, ANSIBLE_VERBOSITY='3')
    calls = dict((names.get(host, host), n) for host, n in module_calls(out).items())
    print('  module calls per host on a re-run: %s   (%s)' % (
        ' or '.join(str(c) for c in sorted(set(calls.values()))),
        ', '.join('%s %d' % (host, calls[host]) for host in sorted(calls))))
    if not keep:
        molecule('destroy', scenario, log)
    return cold, again


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--only', choices=sorted(SCENARIOS), action='append',
                        help='run only this scenario (repeatable)')
    parser.add_argument('--keep', action='store_true', help='leave the containers up')
    parser.add_argument('--transport', choices=['podman', 'ssh'], default='podman',
                        help='how Ansible reaches the hosts (see above)')
    parser.add_argument('--log', default=os.path.join(ROOT, '.cache', 'bench-cluster.log'))
    args = parser.parse_args()
    os.makedirs(os.path.dirname(args.log), exist_ok=True)
    open(args.log, 'w').close()
    print('full molecule output: %s' % args.log)
    figures = {}
    for name in ('cluster3', 'cluster3-docker', 'cluster13'):
        if not args.only or name in args.only:
            figures[name] = run(name, args.keep, args.log, args.transport)
    if 'cluster3' in figures and 'cluster13' in figures:
        print('cluster13 / cluster3: cold converge %.2fx, re-run %.2fx' % tuple(
            thirteen / three for thirteen, three in zip(figures['cluster13'], figures['cluster3'])))
    if 'cluster3' in figures and 'cluster3-docker' in figures:
        (cold, again), (dcold, dagain) = figures['cluster3'], figures['cluster3-docker']
        print('Docker adds %+.1f s to the cold converge and %+.1f s to the re-run' % (dcold - cold, dagain - again))
    return 0


if __name__ == '__main__':
    sys.exit(main())
