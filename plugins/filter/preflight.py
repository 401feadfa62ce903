# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``nomadops.nomad.agent_problems``, ``acl_problems``, ``server_problems``
and ``client_problems`` filters: what is wrong with the roles' variables, in
words, before anything changes. Each is documented in its own .yml next to
this file. Messages name variables, never the values of secrets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from jinja2 import Undefined

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.six import string_types
from ansible.module_utils.common._collections_compat import Mapping

from ansible_collections.nomadops.nomad.plugins.filter.acl_item_problems import acl_item_problems
from ansible_collections.nomadops.nomad.plugins.filter.removed_settings import removed_settings
from ansible_collections.nomadops.nomad.plugins.module_utils.go import parse_duration
from ansible_collections.nomadops.nomad.plugins.module_utils.versions import (
    has_acl_roles,
    has_node_pools,
    release_version,
)

# `nomad operator keygen` prints base64 of 16 bytes; Nomad takes 16, 24 or 32.
_GOSSIP_KEY = re.compile(r'^([A-Za-z0-9+/]{22}==|[A-Za-z0-9+/]{32}|[A-Za-z0-9+/]{43}=)$')
# Nomad's own rule for a node pool's name (structs.validNodePoolName).
_NODE_POOL_NAME = re.compile(r'^[a-zA-Z0-9_-]{1,128}$')
_BUILTIN_POOLS = ('default', 'all')
_TLS_FILES = ('nomad_tls_ca_file', 'nomad_tls_ca_key_file', 'nomad_tls_cert_file', 'nomad_tls_key_file')
# The management token's secret given to the bootstrap: a UUID as Nomad writes
# them, lower case.
_UUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z')
_ACL_SETTINGS = ('nomad_acl_policies', 'nomad_acl_roles', 'nomad_acl_tokens', 'nomad_acl_anonymous_policy',
                 'nomad_acl_bootstrap_secret')


def _settings(name, value, needed):
    if not _is_dict(value):
        raise AnsibleFilterError('%s: its input must be a dict of the role variables, got %s'
                                 % (name, type(value).__name__))
    missing = [key for key in needed if key not in value]
    if missing:
        raise AnsibleFilterError('%s: its input lacks %s' % (name, ', '.join(missing)))
    return value


def _on(value):
    return boolean(value, strict=False)


def _release(version):
    """The release nomad_version names, or None when it names none."""
    try:
        return release_version(version)
    except ValueError:
        return None


def _is_dict(value):
    return isinstance(value, Mapping)


def _is_list(value):
    return is_sequence(value) and not isinstance(value, string_types)


def agent_problems(settings, host, groups):
    """What is wrong with the variables both parts share, for ``host``."""
    s = _settings('agent_problems', settings, (
        'nomad_version', 'nomad_data_dir', 'nomad_config_dir', 'nomad_bin_dir', 'nomad_encrypt', 'nomad_tls_enable',
        'nomad_tls_dir', 'nomad_config_extra') + _TLS_FILES)
    groups = groups or {}
    servers = list(groups.get('nomad_servers') or [])
    clients = list(groups.get('nomad_clients') or [])
    problems = []
    if _release(s['nomad_version']) is None:
        problems.append('nomad_version must be a release version such as 0.9.1 or 1.1.0; got %s.'
                        % (s['nomad_version'],))
    if not servers:
        problems.append("The inventory group nomad_servers is empty or missing: Nomad needs at least one server "
                        "(every client's servers list and every server's retry_join are built from it).")
    if host not in servers + clients:
        problems.append('%s is in neither nomad_servers nor nomad_clients, so it would get an agent that is neither '
                        'server nor client, which Nomad refuses to start.' % (host,))
    dirs = [s['nomad_data_dir'], s['nomad_config_dir'], s['nomad_bin_dir']]
    if not all(isinstance(path, string_types) and path.startswith('/') for path in dirs):
        problems.append('nomad_data_dir, nomad_config_dir and nomad_bin_dir must be absolute paths (Nomad 0.9.1 '
                        'refuses a relative data_dir); got %s.' % ', '.join(str(path) for path in dirs))
    if s['nomad_encrypt'] and not (isinstance(s['nomad_encrypt'], string_types)
                                   and _GOSSIP_KEY.match(s['nomad_encrypt'])):
        problems.append('nomad_encrypt must be base64 of 16, 24 or 32 bytes, as `nomad operator keygen` prints it '
                        '(the value is not shown here because it is a secret).')
    if _on(s['nomad_tls_enable']):
        ca, ca_key, cert, key = (s[name] or '' for name in _TLS_FILES)
        if not (bool(cert) == bool(key) and (not cert or ca) and (not ca_key or ca) and (not ca or cert or ca_key)):
            problems.append("TLS files: give nomad_tls_cert_file and nomad_tls_key_file together, with "
                            "nomad_tls_ca_file; or nomad_tls_ca_file with nomad_tls_ca_key_file to issue each host's "
                            "certificate from that CA; or none of them to have a CA generated under nomad_tls_dir "
                            "(%s)." % (s['nomad_tls_dir'],))
        for name in _TLS_FILES:
            if s[name] and not os.path.isfile(os.path.expanduser(s[name])):
                problems.append('%s names %s, which is not a file on the controller.' % (name, s[name]))
    return problems + removed_settings({'nomad_config_extra': s['nomad_config_extra']}, s['nomad_version'])


def acl_problems(settings):
    """What is wrong with the ACL variables both parts share: their items
    (acl_item_problems), and whether ACLs are on and the release has them."""
    s = _settings('acl_problems', settings, ('nomad_version', 'nomad_acl_enabled') + _ACL_SETTINGS)
    secret = s['nomad_acl_bootstrap_secret']
    problems = (acl_item_problems(s['nomad_acl_policies'], 'nomad_acl_policies', ['name'], [['rules', 'rules_src']])
                + acl_item_problems(s['nomad_acl_roles'], 'nomad_acl_roles', ['name', 'policies'])
                + acl_item_problems(s['nomad_acl_tokens'], 'nomad_acl_tokens', ['name']))
    if not _on(s['nomad_acl_enabled']) and any(s[name] for name in _ACL_SETTINGS):
        problems.append('nomad_acl_policies, nomad_acl_roles, nomad_acl_tokens, nomad_acl_anonymous_policy and '
                        'nomad_acl_bootstrap_secret need nomad_acl_enabled: true.')
    # A nomad_version that names no release is agent_problems' to report.
    release = _release(s['nomad_version'])
    if (secret or s['nomad_acl_roles']) and release and not has_acl_roles(release):
        problems.append('nomad_acl_bootstrap_secret and nomad_acl_roles need Nomad 1.4 or newer; nomad_version is '
                        '%s.' % (release,))
    if secret and not (isinstance(secret, string_types) and _UUID.match(secret)):
        problems.append('nomad_acl_bootstrap_secret must be a UUID such as 2b778dd9-f5f1-6f29-b4b4-9a5fa948757a '
                        '(the value is not shown here because it is a secret).')
    return problems


def server_problems(settings, servers):
    """What is wrong with nomad_server's variables; ``servers`` is the group nomad_servers."""
    s = _settings('server_problems', settings, (
        'nomad_version', 'nomad_bootstrap_expect', 'nomad_server_extra', 'nomad_server_settings', 'nomad_node_pools'))
    count = len(servers or [])
    problems = []
    try:
        expect = int(s['nomad_bootstrap_expect'])
    except (TypeError, ValueError):
        expect = None
    if expect is None or not 1 <= expect <= count:
        problems.append('nomad_bootstrap_expect is %s but nomad_servers has %d host(s): the servers would wait '
                        'forever for an election. Use a value from 1 to the number of servers.'
                        % (s['nomad_bootstrap_expect'], count))
    # server.hcl's default names the servers' addresses, which host.yml reads
    # after preflight: ansible-core 2.15 hands it over as undefined until then.
    settings_ok = _is_dict(s['nomad_server_settings']) or isinstance(s['nomad_server_settings'], Undefined)
    if not _is_dict(s['nomad_server_extra']) or not settings_ok:
        problems.append('nomad_server_extra and nomad_server_settings must be dicts (they become HCL blocks).')
    pools = s['nomad_node_pools']
    if not _is_list(pools) or not all(_is_dict(pool) and 'name' in pool for pool in pools):
        problems.append('nomad_node_pools must be a list of {name, description, meta}, each with a name.')
    release = _release(s['nomad_version'])
    if _is_list(pools) and pools and release and not has_node_pools(release):
        problems.append('nomad_node_pools is set but nomad_version is %s: node pools need Nomad 1.6 or newer.'
                        % (release,))
    builtin = [pool['name'] for pool in pools if _is_dict(pool) and pool.get('name') in _BUILTIN_POOLS] \
        if _is_list(pools) else []
    if builtin:
        problems.append('nomad_node_pools names the built-in pool(s) %s, which Nomad does not let anyone modify; '
                        'leave them out.' % ', '.join(builtin))
    return problems + removed_settings({'nomad_server_extra': {'server': s['nomad_server_extra']}},
                                       s['nomad_version'])


def client_problems(settings):
    """What is wrong with nomad_client's variables."""
    s = _settings('client_problems', settings, (
        'nomad_version', 'nomad_client_extra', 'nomad_plugins', 'nomad_docker_enabled', 'nomad_docker_install',
        'nomad_docker_packages', 'nomad_docker_plugin_config', 'nomad_node_pool', 'nomad_client_drain',
        'nomad_client_drain_deadline'))
    problems = []
    if not _is_dict(s['nomad_client_extra']) or not _is_dict(s['nomad_plugins']):
        problems.append('nomad_client_extra and nomad_plugins must be dicts (they become HCL blocks).')
    if not _is_dict(s['nomad_docker_plugin_config']):
        problems.append('nomad_docker_plugin_config must be a dict (it becomes the config { } block of plugin '
                        '"docker").')
    if _on(s['nomad_docker_enabled']) and _on(s['nomad_docker_install']) and not (
            _is_list(s['nomad_docker_packages']) and s['nomad_docker_packages']):
        problems.append('nomad_docker_packages must be a non-empty list of package names when nomad_docker_install '
                        'is on.')
    pool = s['nomad_node_pool']
    if pool and not (isinstance(pool, string_types) and _NODE_POOL_NAME.match(pool)):
        problems.append('nomad_node_pool must be a node pool name, 1 to 128 of a-z, A-Z, 0-9, - and _; got %s.'
                        % (pool,))
    release = _release(s['nomad_version'])
    if pool and release and not has_node_pools(release):
        problems.append('nomad_node_pool is set (%s) but nomad_version is %s: node pools, and client { node_pool }, '
                        'need Nomad 1.6 or newer (an older agent does not know the key).' % (pool, release))
    if _on(s['nomad_client_drain']):
        deadline = str(s['nomad_client_drain_deadline'])
        try:
            negative = parse_duration(deadline) < 0
        except ValueError:
            negative = True
        if negative:
            problems.append('nomad_client_drain_deadline must be a Go duration such as 30s, 5m or 1h30m; got %s.'
                            % (deadline,))
    return problems + removed_settings({
        'nomad_client_extra': {'client': s['nomad_client_extra']},
        'nomad_plugins': {'plugin': s['nomad_plugins']},
        'nomad_docker_plugin_config': {'plugin': {'docker': {'config': s['nomad_docker_plugin_config']}}},
    }, s['nomad_version'])


class FilterModule(object):

    def filters(self):
        return {'agent_problems': agent_problems, 'acl_problems': acl_problems, 'server_problems': server_problems,
                'client_problems': client_problems}
