# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What differs between the Nomad releases the collection serves, decided in
one place: from the version being installed (``nomad_version``) or from the
one a server reports (``/v1/agent/self`` ``config.Version.Version``).

Standard library only: this ships to managed hosts.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

# The one reading of a Nomad version, whoever writes it: a user's
# nomad_version, the release site's directory names, `nomad version`
# ("Nomad v0.9.1 (4b2bdbd...)") and an agent's self-report.
_VERSION = re.compile(r'^(v?)([0-9]+)\.([0-9]+)\.([0-9]+)([-+~].*)?$')
# What a release's name may add after MAJOR.MINOR.PATCH ("-beta2", "+ent"):
# nothing that could reshape a URL ("/", "?", "..").
_RELEASE_SUFFIX = re.compile(r'^[-+][0-9A-Za-z.+-]+$')

# How an agent config is judged before it is written, by release:
# - 0.9.0-0.9.1 and 1.0.x-1.1.x: the Python schemas of agent_config.py (1.0.x
#   is checked with 1.1's, which only adds keys);
# - 1.3.0 and later: the installed binary itself (`nomad config validate`),
#   which knows every key of its own release, so the collection need not;
# - anything else: the syntax only, so that a key newer than what the
#   collection knows is never refused.
_AGENT_SCHEMAS = (
    ((0, 9, 0), (0, 9, 1), '0.9.1'),
    ((1, 0, 0), (1, 1, 99999), '1.1'),
)
# `nomad config validate` exists since 1.2, but 1.2's loads the files without
# the agent's start-up checks; from 1.3 on it runs them.
BINARY_VALIDATES_FROM = (1, 3, 0)

# Agent config settings that a release dropped, as its upgrade guide says:
# (key path, the release that dropped it, what to use instead, the values it
# refuses or None for any). '*' in a path stands for any plugin name.
REMOVED_SETTINGS = (
    (('server', 'raft_protocol'), (1, 4, 0),
     'raft_protocol = 3, or no raft_protocol at all (3 is the default since 1.3.0); '
     'see "Upgrading to Raft Protocol 3" in the upgrade guide', (1, 2, '1', '2')),
    (('plugin', 'raw_exec', 'config', 'no_cgroups'), (1, 8, 0),
     'nothing: it has had no effect since 1.7.0, so leave it out', None),
    (('client', 'options', 'driver.raw_exec.no_cgroups'), (1, 8, 0),
     'nothing: it has had no effect since 1.7.0, so leave it out', None),
    (('tls', 'tls_prefer_server_cipher_suites'), (1, 9, 0),
     'nothing: Go ignores the preference, so leave it out (tls_cipher_suites still picks the suites)', None),
    (('vault', 'token'), (1, 10, 0),
     'workload identity: vault.default_identity on the servers and a JWT auth method in Vault', None),
    (('vault', 'allow_unauthenticated'), (1, 10, 0),
     'workload identity: tasks no longer hand Nomad a Vault token', None),
    (('vault', 'task_token_ttl'), (1, 10, 0),
     'the token TTL of the Vault role that the workload identity logs in with', None),
    (('consul', 'allow_unauthenticated'), (1, 10, 0),
     'workload identity: consul.service_identity and consul.task_identity on the servers', None),
)


def parse_version(text):
    """'1.1.0' (or 'v1.1.0', '1.1.0-beta1') as (1, 1, 0); ValueError otherwise."""
    match = _VERSION.match(str(text).strip())
    if not match:
        raise ValueError('not a Nomad release version: %r (expected MAJOR.MINOR.PATCH, e.g. 0.9.1)' % (text,))
    return tuple(int(part) for part in match.groups()[1:4])


def release_version(text):
    """``text`` as the release site names a release ('0.9.1', '1.0.0-beta2'):
    no 'v', and nothing after the patch number that could reshape a URL.
    ValueError otherwise."""
    match = _VERSION.match(text) if isinstance(text, str) else None
    if not match or match.group(1) or (match.group(5) and not _RELEASE_SUFFIX.match(match.group(5))):
        raise ValueError('not a Nomad release version: %r (expected MAJOR.MINOR.PATCH such as 0.9.1)' % (text,))
    return text


def version_from_cli(output):
    """The release that `nomad version` printed ('Nomad v0.9.1 (4b2bdbd...)',
    or 'Nomad v1.6.5' followed by BuildDate and Revision lines); None when
    no line of it names one."""
    for line in (output or '').splitlines():
        words = line.split()
        if len(words) > 1 and words[0] == 'Nomad' and words[1].startswith('v'):
            try:
                return release_version(words[1][1:])
            except ValueError:
                continue
    return None


def agent_schema(version):
    """'0.9.1' or '1.1': the Python schema the keys are checked against; None
    where there is none (see validated_by_binary for who judges then)."""
    parsed = parse_version(version)
    for low, high, schema in _AGENT_SCHEMAS:
        if low <= parsed <= high:
            return schema
    return None


def validated_by_binary(version):
    """Whether `nomad config validate` of the installed binary is the judge."""
    return parse_version(version) >= BINARY_VALIDATES_FROM


def _dotted(release):
    return '%d.%d.%d' % release


def _blocks(value):
    """A block as objects, from settings (a dict) or decoded HCL (a list of dicts)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _lookup(config, path):
    """(dotted key, value) for every place ``path`` names in ``config``."""
    found = [((), config)]
    for step in path:
        deeper = []
        for where, value in found:
            for obj in _blocks(value):
                for key in (obj if step == '*' else [step]):
                    if key in obj:
                        deeper.append((where + (key,), obj[key]))
        found = deeper
    return [('.'.join(where), value) for where, value in found]


def removed_settings(config, version):
    """[(dotted key, release that dropped it, what to use instead)] for the
    settings in ``config`` that ``version`` no longer accepts."""
    parsed = parse_version(version)
    problems = []
    for path, release, instead, values in REMOVED_SETTINGS:
        if parsed < release:
            continue
        for key, value in _lookup(config, path):
            if values is None or value in values:
                problems.append((key, _dotted(release), instead))
    return problems


def removed_setting_message(key, release, instead, version, where):
    """One removed setting in words; ``where`` names the file (and line) or variable."""
    return ('%s: %s was removed in Nomad %s, so Nomad %s refuses it; use instead: %s'
            % (where, key, release, version, instead))


def job_dialect(version):
    """How `nomad job run` of that release reads a job file: HCL2 since 1.0."""
    return 'hcl2' if parse_version(version) >= (1, 0, 0) else 'hcl1'


def has_open_source_namespaces(version):
    """Namespaces left Nomad Enterprise in 1.0; 0.9's open-source servers answer 501."""
    return parse_version(version) >= (1, 0, 0)


def _next_line(line):
    # 0.12 was followed by 1.0; otherwise point releases count up.
    return (1, 0) if line == (0, 12) else (line[0], line[1] + 1)


# Releases whose first start rewrites the agent's state on disk, so that an
# older agent cannot read it any more: 1.3.0 moves raft.db to bbolt and the
# client state store to a new schema.
_STATE_MIGRATIONS = ((1, 3, 0),)

# Clients older than this the servers of a release refuse (their heartbeats
# fail and their allocations are marked lost): 1.9.0 dropped clients before 1.6.0.
_OLDEST_CLIENT = (((1, 9, 0), (1, 6, 0)),)

# What the upgrade guide asks operators to know before an upgrade crosses a
# release; printed before the first agent restarts.
_NOTICES = (
    ((1, 3, 0), 'Nomad 1.3.0 migrates each server\'s raft.db to a new database and each client\'s state store to '
                'a new schema on first start; neither can be read by an older Nomad afterwards, so take a snapshot '
                '(nomad operator snapshot save) first. Servers without an explicit raft_protocol move to raft '
                'protocol 3, the new default.'),
    ((1, 4, 0), 'Nomad 1.4.0 supports raft protocol 3 only.'),
    ((1, 9, 0), 'Nomad 1.9.0 servers refuse clients older than 1.6.0, and move the keyring into raft once every '
                'server runs 1.9; keep backing up the on-disk keystore while older snapshots matter.'),
    ((1, 10, 0), 'Nomad 1.10.0 removes token-based Vault and Consul authentication for workloads: tasks must use '
                 'workload identity.'),
)


def upgrade_problem(installed, target, allow_downgrade=False):
    """Why going from ``installed`` to ``target`` must not happen, or None.

    Nomad's upgrade guide: it "strives to be backward compatible for at least
    1 point release", so 1.6.x hosts work with 1.5.x hosts; upgrading 2 point
    releases (1.4.0 to 1.6.0) "may work but is untested and unsupported".
    "Nomad does not support downgrading", and after 1.3.0 has migrated an
    agent's state not even with a drain first, unless its data directory goes.
    """
    have, want = parse_version(installed), parse_version(target)
    if want < have:
        for migration in _STATE_MIGRATIONS:
            if want < migration <= have:
                return ('Nomad %s is installed and %s was asked for: Nomad %s migrated this host\'s state (raft.db, '
                        'client state) on its first start and no older release can read it, even with '
                        'nomad_allow_downgrade; drain the host, stop Nomad, erase its data directory and remove the '
                        'binary first' % (installed, target, _dotted(migration)))
        if allow_downgrade:
            return None
        return ('Nomad %s is installed and %s was asked for: Nomad does not support downgrading (a server may not '
                'read the newer state); set nomad_allow_downgrade to do it anyway' % (installed, target))
    if have[0] >= 1 and want[0] > have[0]:
        # Which 1.x line comes last is not known here, so a move to a new
        # major release is allowed from any line of the one before, once.
        steps = 1 + want[1] + (want[0] - have[0] - 1) * 2
    else:
        line = have[:2]
        steps = 0
        while line < want[:2]:
            line = _next_line(line)
            steps += 1
    if steps > 1:
        through = _next_line(have[:2])
        return ('Nomad %s is installed and %s was asked for: Nomad supports upgrading one point release at a time, '
                'so go through %d.%d.x first' % (installed, target, through[0], through[1]))
    return None


def cluster_upgrade_problems(servers, clients):
    """Why a cluster must not move as asked, one text per problem.

    ``servers`` and ``clients`` map host names to (installed, target): the
    release each runs now (None before a first install) and the one it is to
    run. The guide upgrades servers first, "as many new client features will
    not work until servers are upgraded", so no client may end up on a newer
    release than a server. The servers restart first, so each client still runs
    its installed release while they run theirs: a release whose servers refuse
    clients that old must wait until the clients are upgraded far enough.
    """
    problems = []
    targets = sorted((parse_version(target), target, host) for host, (dummy, target) in servers.items())
    for host in sorted(clients):
        installed, target = clients[host]
        if targets and parse_version(target) > targets[0][0]:
            problems.append('%s: the client would run Nomad %s while server %s runs %s; upgrade the servers first'
                            % (host, target, targets[0][2], targets[0][1]))
        running = installed or target
        for release, oldest in _OLDEST_CLIENT:
            newer = [t for t in targets if t[0] >= release]
            if newer and parse_version(running) < oldest:
                problems.append('%s: Nomad %s servers (%s) refuse clients older than %s, and this client runs %s '
                                'while they restart; upgrade it to %d.%d.x or later first' % (
                                    host, _dotted(release), newer[0][2], _dotted(oldest), running,
                                    oldest[0], oldest[1]))
    return problems


def upgrade_notice(installed, target):
    """What the upgrade guide says to know before ``installed`` becomes
    ``target``, as one text ('' when nothing; None installed means a first install)."""
    if not installed:
        return ''
    have, want = parse_version(installed), parse_version(target)
    return ' '.join(text for release, text in _NOTICES if have < release <= want)


def has_node_pools(version):
    """Node pools came in 1.6; older agents have no /v1/node/pool endpoints."""
    return parse_version(version) >= (1, 6, 0)


def agent_parses_hcl2_variables(version):
    """From 1.6, /v1/jobs/parse takes the job's variables (Variables), so the
    agent can parse HCL2 job files in its own language, whatever it adds."""
    return parse_version(version) >= (1, 6, 0)


def has_acl_roles(version):
    """ACL roles, token expiration and a supplied bootstrap secret came in 1.4."""
    return parse_version(version) >= (1, 4, 0)


def has_variables(version):
    """Nomad Variables (/v1/var) came in 1.4."""
    return parse_version(version) >= (1, 4, 0)


def has_snapshots(version):
    """`nomad operator snapshot` and /v1/operator/snapshot came in 0.12."""
    return parse_version(version) >= (0, 12, 0)


def migrates_state(installed, target):
    """Whether going from ``installed`` to ``target`` crosses a release that
    rewrites the agents' state on first start (the upgrade guide's cue for a
    snapshot first); False for a first install."""
    if not installed:
        return False
    have, want = parse_version(installed), parse_version(target)
    return any(have < migration <= want for migration in _STATE_MIGRATIONS)
