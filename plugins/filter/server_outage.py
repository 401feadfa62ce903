# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``nomadops.nomad.server_restart_reasons``, ``servers_down`` and ``server_outage`` filters;
each is documented in its own .yml next to this file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common._collections_compat import Mapping

from ansible_collections.nomadops.nomad.plugins.filter.clone_plan import clone_plan

# In the order the walk would do them; each phrase takes the hosts and a
# pronoun for them.
REASONS = (
    ('upgrade', 'install another Nomad release on {hosts} and restart {them}'),
    ('tls', 'change TLS on {hosts}, which restarts {them}'),
    ('acl', 'turn ACLs on or off on {hosts}, which restarts {them}'),
    ('gossip', 'rotate the gossip key of {hosts}, which every server must take'),
    ('docker', 'install or start Docker on {hosts} and restart {their} agent'),
    ('repair', 'give the cloned {hosts} fresh client state, restarting {them}'),
    ('config', 'restart {hosts} for a change of {their} configuration, binary, unit or TLS files'),
    # A server that cannot be read has no address, and every host's files name every server.
    ('addresses', "write every host's files without the address of {hosts}, which they name"),
)
REASON_KEYS = tuple(key for key, dummy in REASONS)


def _mapping(name, value, filter_name):
    if not isinstance(value, Mapping):
        raise AnsibleFilterError('%s: %s must be a dict, got %s' % (filter_name, name, type(value).__name__))
    return value


def _names(value):
    return ', '.join(value[:-1]) + ' and ' + value[-1] if len(value) > 1 else value[0]


def _running(read):
    return bool(((read or {}).get('service') or {}).get('active'))


def server_restart_reasons(reads, servers, wanted):
    """What this run would do that restarts a running server or needs every server, as known before
    anything changes: {reason: [hosts]}, reasons without hosts left out.

    ``reads`` is {host: what nomad_host_info read} for the reachable hosts of the play, ``servers`` the
    inventory's servers, ``wanted`` the play's settings: version, tls_rpc, tls_http, acl, gossip,
    gossip_key_sha256 (null when a new key would be made), clients (the inventory's clients) and
    repair_clones (nomad_repair_cloned_node_ids).
    """
    reads = _mapping('reads', reads, 'server_restart_reasons')
    wanted = _mapping('wanted', wanted, 'server_restart_reasons')
    servers = list(servers or [])
    repairing = []
    if wanted.get('repair_clones'):
        # The plan plan.yml makes later, from the same reads.
        plan = clone_plan([dict(host=host, node_id=read.get('node_id'), secret=read.get('node_secret_digest'),
                                active=_running(read))
                           for host, read in reads.items()
                           if host in (wanted.get('clients') or []) and isinstance(read, Mapping)])
        repairing = plan['repair'] + plan['restart']
    found = dict((key, []) for key in REASON_KEYS)
    for host, read in reads.items():
        if not isinstance(read, Mapping) or not _running(read):
            continue
        if host in repairing:
            found['repair'].append(host)
        if host not in servers:
            continue
        # What the agent runs, which a run cut off before its restart leaves unlike its files.
        security = read.get('running') or read.get('security') or {}
        if read.get('changed_since_start'):
            found['config'].append(host)
        if read.get('nomad_version') and wanted.get('version') and read['nomad_version'] != wanted['version']:
            found['upgrade'].append(host)
        if (bool(security.get('tls_rpc')) != bool(wanted.get('tls_rpc'))
                or bool(security.get('tls_http')) != bool(wanted.get('tls_http'))
                or security.get('rpc_upgrade_mode')):
            found['tls'].append(host)
        if bool(security.get('acl')) != bool(wanted.get('acl')):
            found['acl'].append(host)
        if wanted.get('gossip') and security.get('gossip') and (
                not wanted.get('gossip_key_sha256') or wanted['gossip_key_sha256'] != security.get('gossip_key_sha256')):
            found['gossip'].append(host)
        docker = (read.get('services') or {}).get('docker')
        if docker is not None and not (docker.get('active') and docker.get('enabled')):
            found['docker'].append(host)
    order = list(reads)
    return dict((key, sorted(hosts, key=order.index)) for key, hosts in found.items() if hosts)


def _member_host(member, servers, known):
    """The inventory server a gossip member is, or None."""
    name = member.get('name') or ''
    node = name.rsplit('.', 1)[0] if '.' in name else name
    for host in servers:
        if node == host or (member.get('address') and member['address'] in known.get(host, ())):
            return host
    return None


def _known(reads, servers, addresses):
    """{inventory server: its addresses}, as read or given."""
    known = {}
    for host in servers:
        interfaces = ((reads.get(host) or {}).get('interfaces') or {}).values()
        known[host] = set(a for a in list(interfaces) + [addresses.get(host)] if a)
    return known


def _short(name):
    # Nomad names a server <node>.<region>; the region is the inventory's too.
    return name.rsplit('.', 1)[0] if '.' in name else name


def _strangers(reads, servers, known):
    """{name: gossip statuses} of the servers the cluster has that the inventory does not name, with
    ``voter`` for a raft peer that no read has alive in gossip: a host gone for good can leave gossip
    (autopilot forces it out) and still be a voter that the quorum counts."""
    seen = {}
    for read in reads.values():
        if not isinstance(read, Mapping):
            continue
        alive = set()
        for member in read.get('members') or []:
            if not isinstance(member, Mapping):
                continue
            if member.get('status') == 'alive':
                alive.add(member.get('address'))
            if _member_host(member, servers, known):
                continue
            name = _short(member['name']) if member.get('name') else member.get('address') or '?'
            seen.setdefault(name, set()).add(member.get('status'))
        for peer in read.get('raft_peers') or []:
            if not isinstance(peer, Mapping):
                continue
            node = peer.get('node') if peer.get('node') not in (None, '', '(unknown)') else None
            host = (peer.get('address') or '').rsplit(':', 1)[0]
            if host in alive or _member_host(dict(name=node, address=host), servers, known):
                continue
            seen.setdefault(_short(node) if node else peer.get('address'), set()).add('voter')
    return seen


def _down(reads, servers, play_hosts, addresses):
    """({server: why it is down}, every server the cluster has), the inventory's first."""
    known = _known(reads, servers, addresses)
    down = {}
    for host in servers:
        if host in play_hosts:
            # Reachable: a stopped agent there is started by this run.
            continue
        read = reads.get(host)
        if isinstance(read, Mapping) and read.get('failed') and not read.get('unreachable'):
            down[host] = 'not readable: %s' % (read.get('msg') or 'unknown error')
        elif not isinstance(read, Mapping) or read.get('unreachable') or 'service' not in read:
            down[host] = 'unreachable'
        elif not _running(read):
            down[host] = 'its agent is not running, and this play does not start it'
    seen = _strangers(reads, servers, known)
    others = []
    failed = []
    for name in sorted(seen):
        if seen[name] & set(['failed', 'voter']):
            failed.append(name)
        elif seen[name] <= set(['left']):
            continue
        others.append(name)
    if _replaced(reads, servers, play_hosts, failed, down):
        # Gone for good: the inventory replaced them by servers this run
        # starts, and the rest still hold a quorum. The walk removes them
        # from raft once the new ones have joined (nomad_raft_peer).
        return down, list(servers)
    for name in failed:
        down[name] = ('failed in the cluster\'s gossip, and not in nomad_servers' if 'failed' in seen[name]
                      else 'a raft voter that the cluster\'s gossip has not alive, and not in nomad_servers')
    return down, list(servers) + others


def _replaced(reads, servers, play_hosts, failed, down):
    """Whether the failed members the inventory does not name are replaced: as many servers of the play
    not running yet, and no other server down, and the running ones a majority of those and the failed."""
    if not failed or down:
        return False
    fresh = [h for h in servers if h in play_hosts and isinstance(reads.get(h), Mapping) and not _running(reads[h])]
    running = [h for h in servers if _running(reads.get(h))]
    return len(fresh) >= len(failed) and len(running) > (len(running) + len(failed)) // 2


def lost_servers(reads, servers, play_hosts, addresses=None):
    """The servers gone for good that this run replaces: gossip members that failed, that nomad_servers no
    longer names, and for which it names servers this run starts (see ``_replaced``)."""
    reads = _mapping('reads', reads, 'lost_servers')
    addresses = _mapping('addresses', addresses or {}, 'lost_servers')
    servers, play_hosts = list(servers or []), list(play_hosts or [])
    down, everyone = _down(reads, servers, play_hosts, addresses)
    failed = [name for name, statuses in _strangers(reads, servers, _known(reads, servers, addresses)).items()
              if statuses & set(['failed', 'voter'])]
    return sorted(name for name in failed if name not in down and name not in everyone)


def _quorum(total, down):
    up = total - down
    need = total // 2 + 1
    head = 'With %d servers a leader needs %d of them alive (a quorum)' % (total, need)
    if up < need:
        return '%s, and %d %s: the cluster has no leader now.' % (head, up, 'is' if up == 1 else 'are')
    if up - 1 < need:
        return ('%s: restarting another server would leave %d, and the cluster without a leader.'
                % (head, up - 1))
    margin = up - need
    return ('%s: restarting another server would leave %d, %s away from losing the leader, and each restart waits '
            'until every server is alive again.'
            % (head, up - 1, 'one failure' if margin == 1 else '%d failures' % margin))


def server_outage(reads, servers, play_hosts, reasons, addresses=None, changed=None):
    """One message that stops the run, or '' when every server is up or the run needs none of them.

    ``reads`` is {host: nomad_host_info's result} for every server read (reachable or not) and every
    reachable host, ``play_hosts`` the hosts still in the play, ``reasons`` what server_restart_reasons
    found (or {config: [hosts]} once the files are rendered), ``addresses`` the servers' addresses known
    without reading them (nomad_advertise_address), ``changed`` the hosts on which this run already
    replaced something.
    """
    reads = _mapping('reads', reads, 'server_outage')
    reasons = dict(_mapping('reasons', reasons or {}, 'server_outage'))
    addresses = _mapping('addresses', addresses or {}, 'server_outage')
    servers = list(servers or [])
    down, everyone = _down(reads, servers, list(play_hosts or []), addresses)
    if not down:
        return ''
    # The walk takes a server's address from its read alone, so one that
    # could not be read leaves every host's files without it.
    unknown = [h for h in servers if h in down and not ((reads.get(h) or {}).get('interfaces') or {})]
    if unknown:
        reasons['addresses'] = unknown
    would = []
    for key, phrase in REASONS:
        hosts = list(reasons.get(key) or [])
        if hosts:
            would.append(phrase.format(hosts=_names(hosts), them='them' if len(hosts) > 1 else 'it',
                                       their='their' if len(hosts) > 1 else 'its'))
    if not would:
        return ''
    names = [h for h in everyone if h in down]
    if len(names) == 1:
        head = 'Nomad server %s is down (%s)' % (names[0], down[names[0]])
    else:
        head = 'Nomad servers %s are down' % _names(['%s (%s)' % (h, down[h]) for h in names])
    changed = list(changed or [])
    if changed:
        nothing = ('No agent was restarted and no configuration file was written; the binary, unit or TLS files of '
                   '%s were already replaced, so restart %s agent once every server is back.'
                   % (_names(changed), 'their' if len(changed) > 1 else 'its'))
    else:
        nothing = 'Nothing was changed.'
    return ('%s, and this run would %s. %s %s Bring %s back, then run again; for a server that is gone for good, '
            'name a new server in its place in nomad_servers, and the run replaces it (docs/roles.md).'
            % (head, '; '.join(would), _quorum(len(everyone), len(names)), nothing,
               _names(names) if len(names) > 1 else names[0]))


def servers_down(reads, servers, play_hosts, addresses=None):
    """{server: why it is down}, with the inputs of server_outage."""
    reads = _mapping('reads', reads, 'servers_down')
    addresses = _mapping('addresses', addresses or {}, 'servers_down')
    return _down(reads, list(servers or []), list(play_hosts or []), addresses)[0]


class FilterModule(object):

    def filters(self):
        return {
            'servers_down': servers_down,
            'server_restart_reasons': server_restart_reasons,
            'server_outage': server_outage,
            'lost_servers': lost_servers,
        }
