# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nomad agent configuration: which keys each block accepts, and how a
config directory is loaded and merged.

Two schemas are known: Nomad 0.9.1's (the default) and Nomad 1.1's
(``validate(..., schema='1.1')``); versions.agent_schema() says which one a
release gets. From 1.3 on the installed binary judges (``nomad config
validate``, see versions.validated_by_binary); for the releases in between
only the syntax is checked here.

Standard library only: this ships to managed hosts.  Errors are raised as
:class:`AgentConfigError` carrying the message that Nomad prints, so a bad
config is rejected with the same words before Nomad ever sees it.

A config is the decoded form produced by ``hcl.loads`` (every block is a list
of objects) or by ``json.loads`` (a block may be a bare object); both are
accepted.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import json
import os
import re

from ansible_collections.nomadops.nomad.plugins.module_utils.go import go_type, parse_duration

# Valid keys per block, as Nomad 0.9.1 checks them.  None marks a free-form
# map whose keys are the user's (meta, options, ...).
TOP_KEYS = (
    'region', 'datacenter', 'name', 'data_dir', 'plugin_dir', 'log_level', 'log_json',
    'bind_addr', 'enable_debug', 'ports', 'addresses', 'interfaces', 'advertise', 'client',
    'server', 'telemetry', 'leave_on_interrupt', 'leave_on_terminate', 'enable_syslog',
    'syslog_facility', 'disable_update_check', 'disable_anonymous_signature', 'consul',
    'vault', 'tls', 'http_api_response_headers', 'acl', 'sentinel', 'autopilot', 'plugin',
)
ADDR_KEYS = ('http', 'rpc', 'serf')
SERVER_JOIN_KEYS = ('start_join', 'retry_join', 'retry_max', 'retry_interval')
CLIENT_KEYS = (
    'enabled', 'state_dir', 'alloc_dir', 'servers', 'node_class', 'options', 'meta',
    'chroot_env', 'network_interface', 'network_speed', 'memory_total_mb',
    'cpu_total_compute', 'max_kill_timeout', 'client_max_port', 'client_min_port',
    'reserved', 'stats', 'gc_interval', 'gc_disk_usage_threshold',
    'gc_inode_usage_threshold', 'gc_parallel_destroys', 'gc_max_allocs', 'no_host_uuid',
    'server_join',
)
RESERVED_KEYS = ('cpu', 'memory', 'disk', 'reserved_ports')
SERVER_KEYS = (
    'enabled', 'bootstrap_expect', 'data_dir', 'protocol_version', 'raft_protocol',
    'num_schedulers', 'enabled_schedulers', 'node_gc_threshold', 'eval_gc_threshold',
    'job_gc_threshold', 'deployment_gc_threshold', 'heartbeat_grace', 'min_heartbeat_ttl',
    'max_heartbeats_per_second', 'rejoin_after_leave', 'encrypt', 'authoritative_region',
    'non_voting_server', 'redundancy_zone', 'upgrade_version', 'server_join',
    'start_join', 'retry_join', 'retry_max', 'retry_interval',
)
ACL_KEYS = ('enabled', 'token_ttl', 'policy_ttl', 'replication_token')
TELEMETRY_KEYS = (
    'statsite_address', 'statsd_address', 'disable_hostname', 'use_node_name',
    'collection_interval', 'publish_allocation_metrics', 'publish_node_metrics',
    'datadog_address', 'datadog_tags', 'prometheus_metrics', 'circonus_api_token',
    'circonus_api_app', 'circonus_api_url', 'circonus_submission_interval',
    'circonus_submission_url', 'circonus_check_id', 'circonus_check_force_metric_activation',
    'circonus_check_instance_id', 'circonus_check_search_tag', 'circonus_check_display_name',
    'circonus_check_tags', 'circonus_broker_id', 'circonus_broker_select_tag',
    'disable_tagged_metrics', 'backwards_compatible_metrics', 'prefix_filter',
    'filter_default', 'disable_dispatched_job_summary_metrics',
)
CONSUL_KEYS = (
    'address', 'auth', 'auto_advertise', 'ca_file', 'cert_file', 'checks_use_advertise',
    'client_auto_join', 'client_service_name', 'client_http_check_name', 'key_file',
    'server_auto_join', 'server_service_name', 'server_http_check_name',
    'server_serf_check_name', 'server_rpc_check_name', 'ssl', 'timeout', 'token', 'verify_ssl',
)
TLS_KEYS = (
    'http', 'rpc', 'verify_server_hostname', 'rpc_upgrade_mode', 'ca_file', 'cert_file',
    'key_file', 'verify_https_client', 'tls_cipher_suites', 'tls_min_version',
    'tls_prefer_server_cipher_suites',
)
VAULT_KEYS = (
    'address', 'allow_unauthenticated', 'enabled', 'task_token_ttl', 'ca_file', 'ca_path',
    'cert_file', 'create_from_role', 'key_file', 'tls_server_name', 'tls_skip_verify', 'token',
)
SENTINEL_KEYS = ('import',)
AUTOPILOT_KEYS = (
    'cleanup_dead_servers', 'server_stabilization_time', 'last_contact_threshold',
    'max_trailing_logs', 'enable_redundancy_zones', 'disable_upgrade_migration',
    'enable_custom_upgrades',
)
PLUGIN_KEYS = ('args', 'config')

# The docker driver's config spec in 0.9.1 (drivers/docker/config.go). Nomad
# checks it only when the plugin loads, at agent start, so a typo here would
# stop a restarted agent; checking it with the rest keeps the old files.
DOCKER_PLUGIN_KEYS = {
    '': ('endpoint', 'auth', 'tls', 'gc', 'volumes', 'allow_privileged', 'allow_caps', 'nvidia_runtime'),
    'auth': ('config', 'helper'),
    'tls': ('cert', 'key', 'ca'),
    'gc': ('image', 'image_delay', 'container'),
    'volumes': ('enabled', 'selinuxlabel'),
}

# Blocks in the order Nomad parses them (the first failing block wins), with
# the prefix Nomad puts in front of their errors.
BLOCKS = (
    ('ports', ADDR_KEYS, 'ports ->'),
    ('addresses', ADDR_KEYS, 'addresses ->'),
    ('advertise', ADDR_KEYS, 'advertise ->'),
    ('client', CLIENT_KEYS, 'client ->'),
    ('server', SERVER_KEYS, 'server ->'),
    ('acl', ACL_KEYS, 'acl ->'),
    ('telemetry', TELEMETRY_KEYS, 'telemetry ->'),
    ('consul', CONSUL_KEYS, 'consul ->'),
    ('vault', VAULT_KEYS, 'vault ->'),
    ('tls', TLS_KEYS, 'tls ->'),
    ('sentinel', SENTINEL_KEYS, 'sentinel->'),
    ('autopilot', AUTOPILOT_KEYS, 'autopilot->'),
)

SCHEMA = {
    '': TOP_KEYS, 'ports': ADDR_KEYS, 'addresses': ADDR_KEYS, 'advertise': ADDR_KEYS,
    'client': CLIENT_KEYS, 'client.reserved': RESERVED_KEYS,
    'client.server_join': SERVER_JOIN_KEYS, 'server': SERVER_KEYS,
    'server.server_join': SERVER_JOIN_KEYS, 'acl': ACL_KEYS, 'telemetry': TELEMETRY_KEYS,
    'consul': CONSUL_KEYS, 'vault': VAULT_KEYS, 'tls': TLS_KEYS, 'sentinel': SENTINEL_KEYS,
    'autopilot': AUTOPILOT_KEYS, 'plugin': PLUGIN_KEYS,
}

INT_KEYS = {
    'ports': ('http', 'rpc', 'serf'),
    'server': ('bootstrap_expect', 'protocol_version', 'raft_protocol', 'num_schedulers',
               'retry_max'),
    'client': ('network_speed', 'memory_total_mb', 'cpu_total_compute', 'client_max_port',
               'client_min_port', 'gc_parallel_destroys', 'gc_max_allocs'),
    'client.reserved': ('cpu', 'memory', 'disk'),
}
BOOL_KEYS = {
    '': ('log_json', 'enable_debug', 'leave_on_interrupt', 'leave_on_terminate',
         'enable_syslog', 'disable_update_check', 'disable_anonymous_signature'),
    'server': ('enabled', 'rejoin_after_leave', 'non_voting_server'),
    'client': ('enabled', 'no_host_uuid'),
    'acl': ('enabled',),
    'tls': ('http', 'rpc', 'verify_server_hostname', 'rpc_upgrade_mode',
            'verify_https_client'),
}
DURATION_KEYS = {
    'server': ('heartbeat_grace', 'min_heartbeat_ttl', 'retry_interval'),
    'server.server_join': ('retry_interval',),
    'client.server_join': ('retry_interval',),
    'client': ('gc_interval',),
    'acl': ('token_ttl', 'policy_ttl'),
}
# Nomad 1.1 decodes the config into Go structs and reports the keys each
# struct left unused, struct by struct in field order (helper.UnusedKeys), so
# the first block listed here with an unknown key is the one named. Blocks
# not listed (vault, limits, sentinel, client.template, ...) take any key.
# Taken from the structs' hcl tags in 1.1.0's command/agent/config.go and
# nomad/structs/config.
SCHEMA_1_1 = (
    ('ports', ADDR_KEYS),
    ('addresses', ADDR_KEYS),
    ('advertise', ADDR_KEYS),
    ('client.reserved', ('cpu', 'memory', 'disk', 'reserved_ports', 'cores')),
    ('client.server_join', SERVER_JOIN_KEYS),
    ('client', (
        'enabled', 'state_dir', 'alloc_dir', 'servers', 'node_class', 'options', 'meta', 'chroot_env',
        'network_interface', 'network_speed', 'cpu_total_compute', 'memory_total_mb', 'reservable_cores',
        'max_kill_timeout', 'client_max_port', 'client_min_port', 'reserved', 'gc_interval',
        'gc_parallel_destroys', 'gc_disk_usage_threshold', 'gc_inode_usage_threshold', 'gc_max_allocs',
        'no_host_uuid', 'disable_remote_exec', 'template', 'server_join', 'host_volume', 'cni_path',
        'cni_config_dir', 'bridge_network_name', 'bridge_network_subnet', 'host_network',
        'bind_wildcard_default_host_network', 'cgroup_parent',
        # 1.1 ignores it silently (extraKeys)
        'stats')),
    ('server.server_join', SERVER_JOIN_KEYS),
    ('server', (
        'enabled', 'authoritative_region', 'bootstrap_expect', 'data_dir', 'protocol_version', 'raft_protocol',
        'raft_multiplier', 'num_schedulers', 'enabled_schedulers', 'node_gc_threshold', 'job_gc_interval',
        'job_gc_threshold', 'eval_gc_threshold', 'deployment_gc_threshold', 'csi_volume_claim_gc_threshold',
        'csi_plugin_gc_threshold', 'heartbeat_grace', 'min_heartbeat_ttl', 'max_heartbeats_per_second',
        'start_join', 'retry_join', 'retry_max', 'retry_interval', 'rejoin_after_leave', 'non_voting_server',
        'redundancy_zone', 'upgrade_version', 'encrypt', 'server_join', 'default_scheduler_config',
        'enable_event_broker', 'event_buffer_size', 'license_path', 'search')),
    ('acl', ACL_KEYS),
    ('telemetry', (
        'statsite_address', 'statsd_address', 'datadog_address', 'datadog_tags', 'prometheus_metrics',
        'disable_hostname', 'use_node_name', 'collection_interval', 'publish_allocation_metrics',
        'publish_node_metrics', 'prefix_filter', 'filter_default', 'disable_dispatched_job_summary_metrics',
        'circonus_api_token', 'circonus_api_app', 'circonus_api_url', 'circonus_submission_interval',
        'circonus_submission_url', 'circonus_check_id', 'circonus_check_force_metric_activation',
        'circonus_check_instance_id', 'circonus_check_search_tag', 'circonus_check_tags',
        'circonus_check_display_name', 'circonus_broker_id', 'circonus_broker_select_tag')),
    ('consul', (
        'server_service_name', 'server_http_check_name', 'server_serf_check_name', 'server_rpc_check_name',
        'client_service_name', 'client_http_check_name', 'tags', 'auto_advertise', 'checks_use_advertise',
        'address', 'grpc_address', 'timeout', 'token', 'allow_unauthenticated', 'auth', 'ssl', 'share_ssl',
        'verify_ssl', 'ca_file', 'cert_file', 'key_file', 'server_auto_join', 'client_auto_join', 'namespace')),
    # checksum: not in 0.9.1, taken by real 1.1.0 and 1.6.5 (tests/recordings).
    ('tls', TLS_KEYS + ('checksum',)),
    ('autopilot', (
        'cleanup_dead_servers', 'server_stabilization_time', 'last_contact_threshold', 'max_trailing_logs',
        'min_quorum', 'enable_redundancy_zones', 'disable_upgrade_migration', 'enable_custom_upgrades')),
    ('audit', ('enabled', 'sink', 'filter')),
    ('', (
        'region', 'datacenter', 'name', 'data_dir', 'plugin_dir', 'log_level', 'log_json', 'log_file',
        'log_rotate_duration', 'log_rotate_bytes', 'log_rotate_max_files', 'bind_addr', 'enable_debug', 'ports',
        'addresses', 'advertise', 'client', 'server', 'acl', 'telemetry', 'leave_on_interrupt',
        'leave_on_terminate', 'enable_syslog', 'syslog_facility', 'disable_update_check',
        'disable_anonymous_signature', 'consul', 'vault', 'tls', 'http_api_response_headers', 'sentinel',
        'autopilot', 'plugin', 'limits', 'audit')),
)
# The durations 1.1 converts before it looks for unknown keys, with the name
# its error gives each (ParseConfigFile).
DURATIONS_1_1 = (
    ('client', 'gc_interval', 'gc_interval'),
    ('acl', 'token_ttl', 'acl.token_ttl'),
    ('acl', 'policy_ttl', 'acl.policy_ttl'),
    ('client.server_join', 'retry_interval', 'client.server_join.retry_interval'),
    ('server', 'heartbeat_grace', 'server.heartbeat_grace'),
    ('server', 'min_heartbeat_ttl', 'server.min_heartbeat_ttl'),
    ('server', 'retry_interval', 'server.retry_interval'),
    ('server.server_join', 'retry_interval', 'server.server_join.retry_interval'),
    ('consul', 'timeout', 'consul.timeout'),
    ('autopilot', 'server_stabilization_time', 'autopilot.server_stabilization_time'),
    ('autopilot', 'last_contact_threshold', 'autopilot.last_contact_threshold'),
    ('telemetry', 'collection_interval', 'telemetry.collection_interval'),
)

# Lists that Nomad appends across files instead of replacing.
APPEND_LISTS = {('client', 'servers'), ('server', 'retry_join'), ('server', 'start_join'),
                ('server', 'enabled_schedulers')}


class AgentConfigError(Exception):
    """A config Nomad 0.9.1 would refuse.

    ``message`` is what Nomad says after ``Error loading FILE:``; ``filename``
    and ``line`` (when known) locate the offending key, ``key`` is its dotted path.
    """

    def __init__(self, message, filename=None, line=None, key=None):
        self.message = message
        self.filename = filename
        self.line = line
        self.key = key
        super(AgentConfigError, self).__init__(self.__str__())

    def __str__(self):
        where = ''
        if self.filename:
            where = 'Error loading %s: ' % self.filename
        text = where + self.message
        if self.line:
            text += ' (line %d)' % self.line
        return text


def _multierror(errors):
    """go-multierror's list format, as Nomad prints it."""
    points = '\n'.join('* %s' % e for e in errors)
    return '%d error(s) occurred:\n\n%s' % (len(errors), points)


def _objects(value):
    """A block as a list of objects, whether it came from HCL or from JSON."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return value
    return None


def _invalid_keys(obj, valid):
    return ['invalid key: %s' % k for k in obj if k not in valid]


def _check_types(path, obj, errors):
    """mapstructure's weak decoding: only values it could not convert fail."""
    for key in INT_KEYS.get(path, ()):
        if key not in obj:
            continue
        val = obj[key]
        if isinstance(val, bool):
            continue
        if isinstance(val, (int, float)):
            continue
        if isinstance(val, str):
            try:
                int(val, 0)
            except ValueError:
                errors.append("cannot parse '%s' as int: strconv.ParseInt: parsing %s: invalid syntax"
                              % (key, json.dumps(val)))
            continue
        errors.append("'%s' expected type 'int', got unconvertible type '%s'" % (key, go_type(val)))
    for key in BOOL_KEYS.get(path, ()):
        if key not in obj:
            continue
        val = obj[key]
        if isinstance(val, (bool, int, float)):
            continue
        if isinstance(val, str):
            if val not in ('1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false',
                           'False', ''):
                errors.append("cannot parse '%s' as bool: strconv.ParseBool: parsing %s: invalid syntax"
                              % (key, json.dumps(val)))
            continue
        errors.append("'%s' expected type 'bool', got unconvertible type '%s'" % (key, go_type(val)))


def _check_durations(path, obj):
    for key in DURATION_KEYS.get(path, ()):
        if key in obj and obj[key] not in (None, ''):
            try:
                parse_duration(obj[key])
            except ValueError as e:
                return "1 error(s) decoding:\n\n* error decoding '%s': %s" % (key, e)
    return None


def _block_error(name, objs, valid, prefix):
    """Errors of one top-level block, formatted as Nomad does (or None)."""
    if len(objs) > 1:
        return "%s only one '%s' block allowed" % (prefix, name)
    obj = objs[0]
    errs = _invalid_keys(obj, valid)
    if errs:
        return _multierror(['%s %s' % (prefix, e) for e in errs])
    type_errs = []
    _check_types(name, obj, type_errs)
    if type_errs:
        return '%s 1 error(s) decoding:\n\n%s' % (prefix, '\n'.join('* %s' % e for e in type_errs))
    dur = _check_durations(name, obj)
    if dur:
        return '%s %s' % (prefix, dur)
    for sub, keys, subprefix in (('reserved', RESERVED_KEYS, 'reserved ->'),
                                 ('server_join', SERVER_JOIN_KEYS, 'server_join->')):
        if sub not in obj or (name, sub) == ('server', 'reserved'):
            continue
        subobjs = _objects(obj[sub])
        if subobjs is None:
            continue
        if len(subobjs) > 1:
            return "%s %s only one '%s' block allowed" % (prefix, subprefix, sub)
        errs = _invalid_keys(subobjs[0], keys)
        if errs:
            return _multierror(['%s %s %s' % (prefix, subprefix, e) for e in errs])
        dur = _check_durations('%s.%s' % (name, sub), subobjs[0])
        if dur:
            return '%s %s %s' % (prefix, subprefix, dur)
    return None


def _plugin_error(objs):
    """plugin "NAME" { args, config } blocks."""
    index = 0
    for item in objs:
        for pname, body in item.items():
            for pobj in (_objects(body) or [body]):
                index += 1
                if not isinstance(pobj, dict):
                    return 'plugin-> plugin config %d doesn\'t incude a name key' % index
                errs = _invalid_keys(pobj, PLUGIN_KEYS)
                if errs:
                    return 'plugin-> invalid keys in plugin config %d: %s' % (index, _multierror(errs))
    return None


def check_plugin_configs(config, filename=None, text=None):
    """Raise AgentConfigError if the docker driver would refuse its config.

    The config parser (``validate``) takes any ``config`` block; the driver
    checks it against its spec when the agent loads it, and an agent that
    fails there does not start. Our wording: Nomad's is not recorded.
    """
    for item in _objects(config.get('plugin')) or []:
        for pobj in _objects(item.get('docker')) or []:
            for conf in _objects(pobj.get('config')) or []:
                errs = _invalid_keys(conf, DOCKER_PLUGIN_KEYS[''])
                for block in ('auth', 'tls', 'gc', 'volumes'):
                    for sub in _objects(conf.get(block)) or []:
                        errs += _invalid_keys(sub, DOCKER_PLUGIN_KEYS[block])
                if errs:
                    key = _bad_key(errs[0])
                    raise AgentConfigError('plugin "docker" (driver): failed to parse config: %s' % _multierror(errs),
                                           filename, _line_of(text, key, block='plugin'), 'plugin.docker.config.' + key)
    return True


def validate(config, filename=None, text=None, schema='0.9.1'):
    """Raise AgentConfigError if Nomad would refuse this config.

    ``config`` is one file's decoded content.  ``text`` (the file's source)
    lets the error name the line of the offending key.  ``schema`` is
    '0.9.1', '1.1' (versions.agent_schema) or None: syntax only.
    """
    if not isinstance(config, dict):
        raise AgentConfigError('error parsing: root should be an object', filename)
    if schema is None:
        return True
    if schema == '1.1':
        return _validate_1_1(config, filename, text)
    errs = _invalid_keys(config, TOP_KEYS)
    if errs:
        bad = [k for k in config if k not in TOP_KEYS]
        raise AgentConfigError("error parsing 'config': " + _multierror(['config: %s' % e for e in errs]),
                               filename, _line_of(text, bad[0]), bad[0])
    type_errs = []
    _check_types('', config, type_errs)
    if type_errs:
        raise AgentConfigError("error parsing 'config': 1 error(s) decoding:\n\n%s"
                               % '\n'.join('* %s' % e for e in type_errs), filename)
    for name, valid, prefix in BLOCKS:
        if name not in config:
            continue
        objs = _objects(config[name])
        if objs is None:
            raise AgentConfigError("error parsing 'config': %s %s value: should be an object"
                                   % (prefix, name), filename, _line_of(text, name), name)
        msg = _block_error(name, objs, valid, prefix)
        if msg:
            key = _bad_key(msg)
            raise AgentConfigError("error parsing 'config': " + msg, filename,
                                   _line_of(text, key, block=name), '%s.%s' % (name, key) if key else name)
    if 'plugin' in config:
        objs = _objects(config['plugin'])
        msg = _plugin_error(objs or [])
        if msg:
            key = _bad_key(msg)
            raise AgentConfigError("error parsing 'config': " + msg, filename,
                                   _line_of(text, key, block='plugin'), key)
    return True


def _blocks_at(config, path):
    """Every object at a dotted block path ('' is the file itself)."""
    objs = [config]
    for part in path.split('.') if path else ():
        objs = [sub for obj in objs for sub in (_objects(obj.get(part)) or [])]
    return objs


def _validate_1_1(config, filename, text):
    type_errs = []
    _check_types('', config, type_errs)
    for path in ('ports', 'server', 'client', 'client.reserved'):
        for obj in _blocks_at(config, path):
            _check_types(path, obj, type_errs)
    if type_errs:
        # hcl.Decode stops at the first value it cannot convert, and says only why.
        why = type_errs[0]
        raise AgentConfigError(why[why.index('strconv.'):] if 'strconv.' in why else why, filename)
    for path, key, name in DURATIONS_1_1:
        for obj in _blocks_at(config, path):
            value = obj.get(key)
            if value not in (None, ''):
                try:
                    parse_duration(value)
                except ValueError:
                    raise AgentConfigError("%s can't parse time duration %s" % (name, value), filename,
                                           _line_of(text, key, block=path.rsplit('.', maxsplit=1)[-1] or None),
                                           '%s.%s' % (path, key) if path else key)
    for path, valid in SCHEMA_1_1:
        for obj in _blocks_at(config, path):
            bad = [k for k in obj if k not in valid]
            if bad:
                # helper.UnusedKeys names a nested block innermost first.
                where = '.'.join(reversed(path.split('.'))) + ' ' if path else ''
                raise AgentConfigError('%sunexpected keys %s' % (where, ', '.join(bad)), filename,
                                       _line_of(text, bad[0], block=path.rsplit('.', maxsplit=1)[-1] or None),
                                       '%s.%s' % (path, bad[0]) if path else bad[0])
    return True


def _bad_key(msg):
    m = re.search(r'invalid key: (\S+)', msg)
    return m.group(1) if m else None


def line_of(text, key, block=None):
    """1-based line of ``key`` in the source (inside ``block`` when given), or None."""
    return _line_of(text, key, block)


def _line_of(text, key, block=None):
    """1-based line of ``key`` in the source (inside ``block`` when given)."""
    if not text or not key:
        return None
    lines = text.splitlines()
    start = 0
    if block:
        pat = re.compile(r'^\s*"?%s"?\s*(\{|=|"|:)' % re.escape(block))
        for i, line in enumerate(lines):
            if pat.search(line):
                start = i
                break
    pat = re.compile(r'^\s*"?%s"?\s*(=|\{|:|")' % re.escape(key))
    for i in range(start, len(lines)):
        if pat.search(lines[i]):
            return i + 1
    return None


# --- loading a config directory -------------------------------------------------

def _is_temporary(name):
    return name.endswith('~') or name.startswith('.#') or (name.startswith('#') and name.endswith('#'))


def config_files(path):
    """The files Nomad reads for ``-config PATH``, in its order."""
    if not os.path.isdir(path):
        return [path]
    names = [n for n in os.listdir(path)
             if (n.endswith('.hcl') or n.endswith('.json')) and not _is_temporary(n)
             and not os.path.isdir(os.path.join(path, n))]
    return [os.path.join(path, n) for n in sorted(names)]


def parse_text(text, filename, loads=None, schema='0.9.1'):
    """Decode one config file's text (HCL or JSON) and validate it."""
    if filename.endswith('.json'):
        try:
            config = json.loads(text)
        except ValueError as e:
            raise AgentConfigError('error parsing: %s' % e, filename)
    else:
        if loads is None:
            loads = _hcl_loads()
        try:
            config = loads(text, filename)
        except Exception as e:  # HCLError: keep its position
            msg = getattr(e, 'nomad_message', None) or str(e)
            if not msg.startswith('error parsing'):
                msg = 'error parsing: %s' % msg
            raise AgentConfigError(msg, filename, getattr(e, 'line', None))
    validate(config, filename, text, schema=schema)
    return config


def _hcl_loads():
    try:
        from ansible_collections.nomadops.nomad.plugins.module_utils.hcl import loads
    except ImportError:
        from hcl import loads  # pylint: disable=import-error
    return loads


def load(paths, loads=None):
    """Load and merge ``-config`` paths (files or directories) like Nomad 0.9.1.

    Returns ``(merged_config, files)``.  Raises AgentConfigError whose
    ``str()`` names the file; ``nomad_message(path, err)`` builds Nomad's text.
    """
    if isinstance(paths, str):
        paths = [paths]
    merged = {}
    files = []
    for path in paths:
        if not os.path.exists(path):
            raise AgentConfigError('stat %s: no such file or directory' % path, None, key=path)
        for fn in config_files(path):
            with open(fn) as f:
                text = f.read()
            config = parse_text(text, fn, loads)
            merged = merge(merged, config)
            files.append(fn)
    return merged, files


def _as_block(value):
    objs = _objects(value)
    if objs is None:
        return value
    out = {}
    for o in objs:
        out = merge(out, o)
    return out


BLOCK_NAMES = set(SCHEMA) | {'options', 'meta', 'chroot_env', 'http_api_response_headers', 'config'}


def merge(a, b, path=''):
    """Merge config ``b`` over ``a`` (both decoded files), blocks flattened to dicts."""
    result = dict(a)
    for key, val in b.items():
        sub = '%s.%s' % (path, key) if path else key
        if key == 'plugin' and not path:
            plugins = dict(result.get('plugin') or {})
            for item in (_objects(val) or []):
                for pname, body in item.items():
                    plugins[pname] = merge(plugins.get(pname, {}), _as_block(body), 'plugin.' + pname)
            result['plugin'] = plugins
            continue
        if isinstance(val, dict) or (isinstance(val, list) and val and _objects(val) is not None):
            prev = result.get(key)
            prev = _as_block(prev) if isinstance(prev, (dict, list)) and _objects(prev) is not None else {}
            result[key] = merge(prev, _as_block(val), sub)
            continue
        if (path, key) in APPEND_LISTS and isinstance(val, list):
            result[key] = list(result.get(key) or []) + list(val)
            continue
        result[key] = val
    return result


def _truthy(value):
    if isinstance(value, str):
        return value.lower() in ('1', 't', 'true')
    return bool(value)


def check_merged(config):
    """The checks ``nomad agent`` makes on the merged config before it starts.

    Raises AgentConfigError whose message is what Nomad 0.9.1 prints (after
    ``==> ``).  Address checks that need the host's interfaces are not made here.
    """
    server = _as_block(config.get('server') or {})
    client = _as_block(config.get('client') or {})
    if not (_truthy(server.get('enabled')) or _truthy(client.get('enabled'))):
        raise AgentConfigError('Must specify either server, client or dev mode for the agent.', key='server.enabled')
    key = server.get('encrypt')
    if key:
        try:
            check_encrypt_key(key)
        except ValueError as e:
            raise AgentConfigError('Invalid encryption key: %s' % e, key='server.encrypt')
    data_dir = config.get('data_dir') or ''
    plugin_dir = config.get('plugin_dir') or (os.path.join(data_dir, 'plugins') if data_dir else '')
    for name, key_path, value in (('data-dir', 'data_dir', data_dir), ('plugin-dir', 'plugin_dir', plugin_dir),
                                  ('alloc-dir', 'client.alloc_dir', client.get('alloc_dir')),
                                  ('state-dir', 'client.state_dir', client.get('state_dir'))):
        if value and not os.path.isabs(value):
            raise AgentConfigError('%s must be given as an absolute path: got %s' % (name, value), key=key_path)
    if _truthy(server.get('enabled')) and not data_dir:
        raise AgentConfigError('Must specify data directory', key='data_dir')
    if _truthy(client.get('enabled')) and not data_dir and not (client.get('alloc_dir') and client.get('state_dir')):
        raise AgentConfigError('Must specify the state, alloc dir, and plugin dir if data-dir is omitted.',
                               key='data_dir')
    return True


def nomad_load_error(path, err):
    """The line ``nomad agent`` prints (after ``==> ``) for a config that fails to load."""
    if err.filename is None:
        return 'Error loading configuration from %s: %s' % (path, err.message)
    return 'Error loading configuration from %s: Error loading %s: %s' % (path, err.filename, err.message)


def check_encrypt_key(key):
    """Return the gossip key's bytes, or raise ValueError with Nomad's wording."""
    try:
        raw = base64.b64decode(key.encode('ascii'), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        pos = _bad_b64_pos(key)
        raise ValueError('illegal base64 data at input byte %d' % pos)
    return raw


def _bad_b64_pos(key):
    alphabet = set('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
    for i, ch in enumerate(key):
        if ch == '=':
            return i
        if ch not in alphabet:
            return i
    return len(key) - len(key) % 4
