# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Nomad 1.x job files (HCL2, with variables) to the API job, as Nomad 1.1.0.

``parse_hcl2_jobspec(text, filename, variables, var_files, env)`` returns
what ``nomad job run -output [-var ...] [-var-file ...]`` prints under
``"Job"``, with ``NOMAD_VAR_*`` taken from ``env`` as the CLI takes them from
its environment.
It follows Nomad 1.1.0's ``jobspec2`` package: the ``variable``,
``variables`` and ``locals`` blocks, ``-var`` values typed the way the CLI
types them, ``dynamic`` blocks, gohcl's decoding of each block into the API
structs (with Nomad's fork of it: task ``config`` and scaling ``policy`` are
free-form, ``env``/``meta`` may be maps), and ``normalizeJob``'s defaults.
References to anything but ``var``, ``local`` or an iterator are runtime
interpolations (``${NOMAD_PORT_http}``, ``${attr.kernel.name}``) and are
kept verbatim, as Nomad does.

The Nomad API cannot do this for us before 1.6: ``/v1/jobs/parse`` in
1.1.0 takes no variables. From 1.6 on the agent parses the job, and only the
variables are resolved here (``hcl2_variable_values``), so that ``vars``
keep the CLI's ``-var`` typing whatever the agent's language knows. Errors raise the HCL1 parser's :class:`JobspecError`, whose
``problem`` is Nomad's ``Summary; Detail`` and whose ``filename``/``line``/
``column`` are the diagnostic's subject.

Controller side only (action and filter plugins): it needs python-hcl2.
"""

from __future__ import annotations

# Exact type checks on purpose: HCL's bool is not a number, but Python's bool is an int.
# pylint: disable=unidiomatic-typecheck

import copy
import re

from ansible_collections.nomadops.nomad.plugins.module_utils.jobspec import (
    JobspecError,
    _map,
    _ptr,
    _slice,
    _struct,
    job_text,
    new_struct,
    parse_duration,
)
from ansible_collections.nomadops.nomad.plugins.plugin_utils import hcl2_eval as hx

__all__ = ['parse_hcl2_jobspec', 'hcl2_variable_values', 'nomad_var_env', 'STRUCTS_1X']

_S, _I, _B, _D, _ANY = 'string', 'int', 'bool', 'duration', 'any'


def _list(name):
    return _slice(_ptr(_struct(name)))


def _one(name):
    return _ptr(_struct(name))


# ---------------------------------------------------------------- the API structs of Nomad 1.1.0
# Field, hcl tag ("name" an attribute, "name,block", "name,label"; None: not
# read from the file) and Go type, as in Nomad 1.1.0's api package. Every
# field is listed, since the CLI prints every field.

STRUCTS_1X = {
    'Job': [
        ('Region', 'region', _ptr(_S)), ('Namespace', 'namespace', _ptr(_S)), ('ID', 'id', _ptr(_S)),
        ('Name', 'name', _ptr(_S)), ('Type', 'type', _ptr(_S)), ('Priority', 'priority', _ptr(_I)),
        ('AllAtOnce', 'all_at_once', _ptr(_B)), ('Datacenters', 'datacenters', _slice(_S)),
        ('Constraints', 'constraint,block', _list('Constraint')), ('Affinities', 'affinity,block', _list('Affinity')),
        ('TaskGroups', 'group,block', _list('TaskGroup')), ('Update', 'update,block', _one('UpdateStrategy')),
        ('Multiregion', 'multiregion,block', _one('Multiregion')), ('Spreads', 'spread,block', _list('Spread')),
        ('Periodic', 'periodic,block', _one('PeriodicConfig')),
        ('ParameterizedJob', 'parameterized,block', _one('ParameterizedJobConfig')),
        ('Reschedule', 'reschedule,block', _one('ReschedulePolicy')),
        ('Migrate', 'migrate,block', _one('MigrateStrategy')), ('Meta', 'meta,block', _map(_S)),
        ('ConsulToken', 'consul_token', _ptr(_S)), ('VaultToken', 'vault_token', _ptr(_S)),
        ('Stop', None, _ptr(_B)), ('ParentID', None, _ptr(_S)), ('Dispatched', None, _B),
        ('Payload', None, _slice('uint8')), ('ConsulNamespace', None, _ptr(_S)), ('VaultNamespace', None, _ptr(_S)),
        ('NomadTokenID', None, _ptr(_S)), ('Status', None, _ptr(_S)), ('StatusDescription', None, _ptr(_S)),
        ('Stable', None, _ptr(_B)), ('Version', None, _ptr('uint64')), ('SubmitTime', None, _ptr('int64')),
        ('CreateIndex', None, _ptr('uint64')), ('ModifyIndex', None, _ptr('uint64')),
        ('JobModifyIndex', None, _ptr('uint64')),
    ],
    'Multiregion': [('Strategy', 'strategy,block', _one('MultiregionStrategy')),
                    ('Regions', 'region,block', _list('MultiregionRegion'))],
    'MultiregionStrategy': [('MaxParallel', 'max_parallel', _ptr(_I)), ('OnFailure', 'on_failure', _ptr(_S))],
    'MultiregionRegion': [('Name', ',label', _S), ('Count', 'count', _ptr(_I)),
                          ('Datacenters', 'datacenters', _slice(_S)), ('Meta', 'meta,block', _map(_S))],
    'PeriodicConfig': [('Enabled', 'enabled', _ptr(_B)), ('Spec', 'cron', _ptr(_S)), ('SpecType', None, _ptr(_S)),
                       ('ProhibitOverlap', 'prohibit_overlap', _ptr(_B)), ('TimeZone', 'time_zone', _ptr(_S))],
    'ParameterizedJobConfig': [('Payload', 'payload', _S), ('MetaRequired', 'meta_required', _slice(_S)),
                               ('MetaOptional', 'meta_optional', _slice(_S))],
    'UpdateStrategy': [
        ('Stagger', 'stagger', _ptr(_D)), ('MaxParallel', 'max_parallel', _ptr(_I)),
        ('HealthCheck', 'health_check', _ptr(_S)), ('MinHealthyTime', 'min_healthy_time', _ptr(_D)),
        ('HealthyDeadline', 'healthy_deadline', _ptr(_D)), ('ProgressDeadline', 'progress_deadline', _ptr(_D)),
        ('Canary', 'canary', _ptr(_I)), ('AutoRevert', 'auto_revert', _ptr(_B)),
        ('AutoPromote', 'auto_promote', _ptr(_B)),
    ],
    'RestartPolicy': [('Interval', 'interval', _ptr(_D)), ('Attempts', 'attempts', _ptr(_I)),
                      ('Delay', 'delay', _ptr(_D)), ('Mode', 'mode', _ptr(_S))],
    'ReschedulePolicy': [
        ('Attempts', 'attempts', _ptr(_I)), ('Interval', 'interval', _ptr(_D)), ('Delay', 'delay', _ptr(_D)),
        ('DelayFunction', 'delay_function', _ptr(_S)), ('MaxDelay', 'max_delay', _ptr(_D)),
        ('Unlimited', 'unlimited', _ptr(_B)),
    ],
    'Constraint': [('LTarget', 'attribute', _S), ('RTarget', 'value', _S), ('Operand', 'operator', _S)],
    'Affinity': [('LTarget', 'attribute', _S), ('RTarget', 'value', _S), ('Operand', 'operator', _S),
                 ('Weight', 'weight', _ptr('int8'))],
    'Spread': [('Attribute', 'attribute', _S), ('Weight', 'weight', _ptr('int8')),
               ('SpreadTarget', 'target,block', _list('SpreadTarget'))],
    'SpreadTarget': [('Value', ',label', _S), ('Percent', 'percent', 'uint8')],
    'EphemeralDisk': [('Sticky', 'sticky', _ptr(_B)), ('Migrate', 'migrate', _ptr(_B)),
                      ('SizeMB', 'size', _ptr(_I))],
    'MigrateStrategy': [('MaxParallel', 'max_parallel', _ptr(_I)), ('HealthCheck', 'health_check', _ptr(_S)),
                        ('MinHealthyTime', 'min_healthy_time', _ptr(_D)),
                        ('HealthyDeadline', 'healthy_deadline', _ptr(_D))],
    'VolumeRequest': [
        ('Name', 'name,label', _S), ('Type', 'type', _S), ('Source', 'source', _S), ('ReadOnly', 'read_only', _B),
        ('AccessMode', 'access_mode', _S), ('AttachmentMode', 'attachment_mode', _S),
        ('MountOptions', 'mount_options,block', _one('CSIMountOptions')), ('PerAlloc', 'per_alloc', _B),
    ],
    'CSIMountOptions': [('FSType', 'fs_type', _S), ('MountFlags', 'mount_flags', _slice(_S))],
    'VolumeMount': [('Volume', 'volume', _ptr(_S)), ('Destination', 'destination', _ptr(_S)),
                    ('ReadOnly', 'read_only', _ptr(_B)), ('PropagationMode', 'propagation_mode', _ptr(_S))],
    'TaskGroup': [
        ('Name', 'name,label', _ptr(_S)), ('Count', 'count', _ptr(_I)),
        ('Constraints', 'constraint,block', _list('Constraint')), ('Affinities', 'affinity,block', _list('Affinity')),
        ('Tasks', 'task,block', _list('Task')), ('Spreads', 'spread,block', _list('Spread')),
        ('Volumes', 'volume,block', _map(_one('VolumeRequest'))),
        ('RestartPolicy', 'restart,block', _one('RestartPolicy')),
        ('ReschedulePolicy', 'reschedule,block', _one('ReschedulePolicy')),
        ('EphemeralDisk', 'ephemeral_disk,block', _one('EphemeralDisk')),
        ('Update', 'update,block', _one('UpdateStrategy')), ('Migrate', 'migrate,block', _one('MigrateStrategy')),
        ('Networks', 'network,block', _list('NetworkResource')), ('Meta', 'meta,block', _map(_S)),
        ('Services', 'service,block', _list('Service')), ('ShutdownDelay', 'shutdown_delay', _ptr(_D)),
        ('StopAfterClientDisconnect', 'stop_after_client_disconnect', _ptr(_D)),
        ('Scaling', 'scaling,block', _one('ScalingPolicy')), ('Consul', 'consul,block', _one('Consul')),
    ],
    'Consul': [('Namespace', 'namespace', _S)],
    'Task': [
        ('Name', 'name,label', _S), ('Driver', 'driver', _S), ('User', 'user', _S),
        ('Lifecycle', 'lifecycle,block', _one('TaskLifecycle')), ('Config', 'config,block', _map(_ANY)),
        ('Constraints', 'constraint,block', _list('Constraint')), ('Affinities', 'affinity,block', _list('Affinity')),
        ('Env', 'env,block', _map(_S)), ('Services', 'service,block', _list('Service')),
        ('Resources', 'resources,block', _one('Resources')), ('RestartPolicy', 'restart,block', _one('RestartPolicy')),
        ('Meta', 'meta,block', _map(_S)), ('KillTimeout', 'kill_timeout', _ptr(_D)),
        ('LogConfig', 'logs,block', _one('LogConfig')), ('Artifacts', 'artifact,block', _list('TaskArtifact')),
        ('Vault', 'vault,block', _one('Vault')), ('Templates', 'template,block', _list('Template')),
        ('DispatchPayload', 'dispatch_payload,block', _one('DispatchPayloadConfig')),
        ('VolumeMounts', 'volume_mount,block', _list('VolumeMount')),
        ('CSIPluginConfig', 'csi_plugin,block', _one('TaskCSIPluginConfig')), ('Leader', 'leader', _B),
        ('ShutdownDelay', 'shutdown_delay', _D), ('KillSignal', 'kill_signal', _S), ('Kind', 'kind', _S),
        ('ScalingPolicies', 'scaling,block', _list('ScalingPolicy')),
    ],
    'TaskLifecycle': [('Hook', 'hook', _S), ('Sidecar', 'sidecar', _B)],
    'TaskCSIPluginConfig': [('ID', 'id', _S), ('Type', 'type', _S), ('MountDir', 'mount_dir', _S)],
    'LogConfig': [('MaxFiles', 'max_files', _ptr(_I)), ('MaxFileSizeMB', 'max_file_size', _ptr(_I))],
    'TaskArtifact': [
        ('GetterSource', 'source', _ptr(_S)), ('GetterOptions', 'options,block', _map(_S)),
        ('GetterHeaders', 'headers,block', _map(_S)), ('GetterMode', 'mode', _ptr(_S)),
        ('RelativeDest', 'destination', _ptr(_S)),
    ],
    'Template': [
        ('SourcePath', 'source', _ptr(_S)), ('DestPath', 'destination', _ptr(_S)),
        ('EmbeddedTmpl', 'data', _ptr(_S)), ('ChangeMode', 'change_mode', _ptr(_S)),
        ('ChangeSignal', 'change_signal', _ptr(_S)), ('Splay', 'splay', _ptr(_D)), ('Perms', 'perms', _ptr(_S)),
        ('LeftDelim', 'left_delimiter', _ptr(_S)), ('RightDelim', 'right_delimiter', _ptr(_S)),
        ('Envvars', 'env', _ptr(_B)), ('VaultGrace', 'vault_grace', _ptr(_D)),
    ],
    'Vault': [('Policies', 'policies', _slice(_S)), ('Namespace', 'namespace', _ptr(_S)), ('Env', 'env', _ptr(_B)),
              ('ChangeMode', 'change_mode', _ptr(_S)), ('ChangeSignal', 'change_signal', _ptr(_S))],
    'DispatchPayloadConfig': [('File', 'file', _S)],
    'Resources': [
        ('CPU', 'cpu', _ptr(_I)), ('Cores', 'cores', _ptr(_I)), ('MemoryMB', 'memory', _ptr(_I)),
        ('MemoryMaxMB', 'memory_max', _ptr(_I)), ('DiskMB', 'disk', _ptr(_I)),
        ('Networks', 'network,block', _list('NetworkResource')), ('Devices', 'device,block', _list('RequestedDevice')),
        ('IOPS', 'iops', _ptr(_I)),
    ],
    'NetworkResource': [
        ('Mode', 'mode', _S), ('Device', 'device', _S), ('CIDR', 'cidr', _S), ('IP', 'ip', _S),
        ('DNS', 'dns,block', _one('DNSConfig')), ('ReservedPorts', 'reserved_ports,block', _slice(_struct('Port'))),
        ('DynamicPorts', 'port,block', _slice(_struct('Port'))), ('MBits', 'mbits', _ptr(_I)),
    ],
    'DNSConfig': [('Servers', 'servers', _slice(_S)), ('Searches', 'searches', _slice(_S)),
                  ('Options', 'options', _slice(_S))],
    'Port': [('Label', ',label', _S), ('Value', 'static', _I), ('To', 'to', _I), ('HostNetwork', 'host_network', _S)],
    'RequestedDevice': [('Name', ',label', _S), ('Count', 'count', _ptr('uint64')),
                        ('Constraints', 'constraint,block', _list('Constraint')),
                        ('Affinities', 'affinity,block', _list('Affinity'))],
    'Service': [
        ('Id', 'id', _S), ('Name', 'name', _S), ('Tags', 'tags', _slice(_S)), ('CanaryTags', 'canary_tags', _slice(_S)),
        ('EnableTagOverride', 'enable_tag_override', _B), ('PortLabel', 'port', _S),
        ('AddressMode', 'address_mode', _S), ('Checks', 'check,block', _slice(_struct('ServiceCheck'))),
        ('CheckRestart', 'check_restart,block', _one('CheckRestart')),
        ('Connect', 'connect,block', _one('ConsulConnect')), ('Meta', 'meta,block', _map(_S)),
        ('CanaryMeta', 'canary_meta,block', _map(_S)), ('TaskName', 'task', _S), ('OnUpdate', 'on_update', _S),
    ],
    'ServiceCheck': [
        ('Id', 'id', _S), ('Name', 'name', _S), ('Type', 'type', _S), ('Command', 'command', _S),
        ('Args', 'args', _slice(_S)), ('Path', 'path', _S), ('Protocol', 'protocol', _S), ('PortLabel', 'port', _S),
        ('Expose', 'expose', _B), ('AddressMode', 'address_mode', _S), ('Interval', 'interval', _D),
        ('Timeout', 'timeout', _D), ('InitialStatus', 'initial_status', _S),
        ('TLSSkipVerify', 'tls_skip_verify', _B), ('Header', 'header,block', _map(_slice(_S))),
        ('Method', 'method', _S), ('CheckRestart', 'check_restart,block', _one('CheckRestart')),
        ('GRPCService', 'grpc_service', _S), ('GRPCUseTLS', 'grpc_use_tls', _B), ('TaskName', 'task', _S),
        ('SuccessBeforePassing', 'success_before_passing', _I),
        ('FailuresBeforeCritical', 'failures_before_critical', _I), ('Body', 'body', _S),
        ('OnUpdate', 'on_update', _S),
    ],
    'CheckRestart': [('Limit', 'limit', _I), ('Grace', 'grace', _ptr(_D)),
                     ('IgnoreWarnings', 'ignore_warnings', _B)],
    'ConsulConnect': [('Native', 'native', _B), ('Gateway', 'gateway,block', _one('ConsulGateway')),
                      ('SidecarService', 'sidecar_service,block', _one('ConsulSidecarService')),
                      ('SidecarTask', 'sidecar_task,block', _one('SidecarTask'))],
    'ConsulSidecarService': [('Tags', 'tags', _slice(_S)), ('Port', 'port', _S),
                             ('Proxy', 'proxy,block', _one('ConsulProxy')),
                             ('DisableDefaultTCPCheck', 'disable_default_tcp_check', _B)],
    'SidecarTask': [
        ('Name', 'name', _S), ('Driver', 'driver', _S), ('User', 'user', _S), ('Config', 'config,block', _map(_ANY)),
        ('Env', 'env,block', _map(_S)), ('Resources', 'resources,block', _one('Resources')),
        ('Meta', 'meta,block', _map(_S)), ('KillTimeout', 'kill_timeout', _ptr(_D)),
        ('LogConfig', 'logs,block', _one('LogConfig')), ('ShutdownDelay', 'shutdown_delay', _ptr(_D)),
        ('KillSignal', 'kill_signal', _S),
    ],
    'ConsulProxy': [
        ('LocalServiceAddress', 'local_service_address', _S), ('LocalServicePort', 'local_service_port', _I),
        ('ExposeConfig', 'expose,block', _one('ConsulExposeConfig')),
        ('Upstreams', 'upstreams,block', _list('ConsulUpstream')), ('Config', 'config,block', _map(_ANY)),
    ],
    'ConsulUpstream': [('DestinationName', 'destination_name', _S), ('LocalBindPort', 'local_bind_port', _I),
                       ('Datacenter', 'datacenter', _S), ('LocalBindAddress', 'local_bind_address', _S)],
    'ConsulExposeConfig': [('Path', 'path,block', _list('ConsulExposePath'))],
    'ConsulExposePath': [('Path', 'path', _S), ('Protocol', 'protocol', _S), ('LocalPathPort', 'local_path_port', _I),
                         ('ListenerPort', 'listener_port', _S)],
    'ConsulGateway': [('Proxy', 'proxy,block', _one('ConsulGatewayProxy')),
                      ('Ingress', 'ingress,block', _one('ConsulIngressConfigEntry')),
                      ('Terminating', 'terminating,block', _one('ConsulTerminatingConfigEntry'))],
    'ConsulGatewayProxy': [
        ('ConnectTimeout', 'connect_timeout', _ptr(_D)),
        ('EnvoyGatewayBindTaggedAddresses', 'envoy_gateway_bind_tagged_addresses', _B),
        ('EnvoyGatewayBindAddresses', 'envoy_gateway_bind_addresses,block', _map(_one('ConsulGatewayBindAddress'))),
        ('EnvoyGatewayNoDefaultBind', 'envoy_gateway_no_default_bind', _B),
        ('EnvoyDNSDiscoveryType', 'envoy_dns_discovery_type', _S), ('Config', 'config,block', _map(_ANY)),
    ],
    'ConsulGatewayBindAddress': [('Name', ',label', _S), ('Address', 'address', _S), ('Port', 'port', _I)],
    'ConsulGatewayTLSConfig': [('Enabled', 'enabled', _B)],
    'ConsulIngressConfigEntry': [('TLS', 'tls,block', _one('ConsulGatewayTLSConfig')),
                                 ('Listeners', 'listener,block', _list('ConsulIngressListener'))],
    'ConsulIngressListener': [('Port', 'port', _I), ('Protocol', 'protocol', _S),
                              ('Services', 'service,block', _list('ConsulIngressService'))],
    'ConsulIngressService': [('Name', 'name', _S), ('Hosts', 'hosts', _slice(_S))],
    'ConsulTerminatingConfigEntry': [('Services', 'service,block', _list('ConsulLinkedService'))],
    'ConsulLinkedService': [('Name', 'name', _S), ('CAFile', 'ca_file', _S), ('CertFile', 'cert_file', _S),
                            ('KeyFile', 'key_file', _S), ('SNI', 'sni', _S)],
    'ScalingPolicy': [
        ('Min', 'min', _ptr('int64')), ('Max', 'max', _ptr('int64')), ('Policy', 'policy,block', _map(_ANY)),
        ('Enabled', 'enabled', _ptr(_B)), ('Type', 'type', _S), ('ID', None, _S), ('Namespace', None, _S),
        ('Target', None, _map(_S)), ('CreateIndex', None, 'uint64'), ('ModifyIndex', None, 'uint64'),
    ],
}

# Fields Go's JSON encoder leaves out when nil (`json:",omitempty"`).
_OMIT_EMPTY = {'Task': ('CSIPluginConfig',)}

_INT_RANGES = {'int': (-(1 << 63), (1 << 63) - 1), 'int64': (-(1 << 63), (1 << 63) - 1), 'int8': (-128, 127),
               'uint8': (0, 255), 'uint64': (0, (1 << 64) - 1), _D: (-(1 << 63), (1 << 63) - 1)}


def _schema(name):
    """(attributes, blocks, labels) of a struct: {hcl name: (field, kind)},
    {hcl name: (field, kind, label names)} and [(field, kind)]."""
    cached = _SCHEMAS.get(name)
    if cached is not None:
        return cached
    attrs, blocks, labels = {}, {}, []
    for field, tag, kind in STRUCTS_1X[name]:
        if tag is None:
            continue
        hcl, _sep, mode = tag.partition(',')
        if mode == 'label':
            labels.append((field, kind))
        elif mode == 'block':
            blocks[hcl] = (field, kind, _label_names(kind))
        else:
            attrs[hcl] = (field, kind)
    _SCHEMAS[name] = (attrs, blocks, labels)
    return _SCHEMAS[name]


_SCHEMAS = {}


def _strip(kind):
    """(is slice, is map, inner kind) of a block field's Go type."""
    is_slice = is_map = False
    if kind[0] == 'slice':
        is_slice, kind = True, kind[1]
    elif kind[0] == 'map':
        is_map, kind = True, kind[1]
    if isinstance(kind, tuple) and kind[0] == 'ptr':
        kind = kind[1]
    return is_slice, is_map, kind


def _label_names(kind):
    """The block header's label names, as gohcl takes them from the tags
    (``,label`` gives an empty name, which shows in Nomad's messages)."""
    _is_slice, _is_map, inner = _strip(kind)
    if isinstance(inner, tuple) and inner[0] == 'struct':
        return tuple(tag.split(',')[0] for _f, tag, _k in STRUCTS_1X[inner[1]] if tag and tag.endswith(',label'))
    return ()


def _cty_type(kind):
    """gocty.ImpliedType of a Go type."""
    if isinstance(kind, tuple):
        if kind[0] == 'ptr':
            return _cty_type(kind[1])
        if kind[0] == 'slice':
            return ('list', _cty_type(kind[1]))
        if kind[0] == 'map':
            return ('map', _cty_type(kind[1]))
        raise AssertionError(kind)
    if kind == _S:
        return hx.STRING
    if kind == _B:
        return hx.BOOL
    if kind == _ANY:
        return hx.ANY
    return hx.NUMBER


# ---------------------------------------------------------------- blocks as Nomad sees them

class _Inst:
    """A block to decode: a literal block, or one a ``dynamic`` block made,
    with the context (iterators) its expressions see."""

    __slots__ = ('type', 'labels', 'label_rngs', 'type_rng', 'def_rng', 'body', 'ctx', 'open_rng')

    def __init__(self, type_, labels, label_rngs, type_rng, def_rng, body, ctx, open_rng):
        self.type, self.labels, self.label_rngs, self.type_rng = type_, labels, label_rngs, type_rng
        self.def_rng, self.body, self.ctx, self.open_rng = def_rng, body, ctx, open_rng

    @classmethod
    def of(cls, block, ctx):
        return cls(block.type, block.labels, block.label_rngs, block.type_rng, block.def_rng, block.body, ctx,
                   block.open_rng)


def _range_text(rng):
    src, start, end = rng
    return src.range_text(start, end)


class _Decoder:
    """gohcl with Nomad's custom decoders, over our AST."""

    # -- body content ------------------------------------------------------

    def content(self, inst, attr_names, block_labels, partial=False, dynamic=True):
        """hcl Body.Content (with dynblock expansion inside the job): the
        attributes by name and the blocks in source order. ``block_labels``
        maps each block type to its label names."""
        body = inst.body
        wanted = dict(block_labels)
        for block in body.blocks:
            if block.type == 'dynamic' and dynamic:
                self.check_labels(block, ('type',))
            elif block.type in wanted:
                self.check_labels(block, wanted[block.type])
        if not partial:
            for name, attr in body.attrs.items():
                if name not in attr_names:
                    hint = hx.suggestion(name, [n for n in attr_names if n not in body.attrs])
                    if hint:
                        hint = ' Did you mean "%s"?' % hint
                    elif name in wanted:
                        hint = ' Did you mean to define a block of type "%s"?' % name
                    raise hx.Diag('Unsupported argument', 'An argument named "%s" is not expected here.%s'
                                  % (name, hint), attr.name_rng)
            for block in body.blocks:
                if not (block.type == 'dynamic' and dynamic) and block.type not in wanted:
                    hint = hx.suggestion(block.type, list(wanted) + (['dynamic'] if dynamic else []))
                    if hint:
                        hint = ' Did you mean "%s"?' % hint
                    elif block.type in attr_names:
                        hint = (' Did you mean to define argument "%s"? If so, use the equals sign to assign it a '
                                'value.' % block.type)
                    raise hx.Diag('Unsupported block type', 'Blocks of type "%s" are not expected here.%s'
                                  % (block.type, hint), block.type_rng)
        attrs = dict((n, a) for n, a in body.attrs.items() if n in attr_names)
        blocks = []
        for block in body.blocks:
            if block.type != 'dynamic' or not dynamic:
                if block.type in wanted:
                    blocks.append(_Inst.of(block, inst.ctx))
                continue
            real = block.labels[0]
            if real not in wanted:
                if not partial:
                    raise hx.Diag('Unsupported block type', 'Blocks of type "%s" are not expected here.' % real,
                                  block.label_rngs[0])
                continue
            blocks.extend(self.expand(block, wanted[real], inst.ctx))
        return attrs, blocks

    @staticmethod
    def check_labels(block, names):
        count = len(names)
        if len(block.labels) > count:
            if count == 0:
                detail = 'No labels are expected for %s blocks.' % block.type
            else:
                detail = 'Only %d labels (%s) are expected for %s blocks.' % (count, ', '.join(names), block.type)
            raise hx.Diag('Extraneous label for %s' % block.type, detail, block.label_rngs[count])
        if len(block.labels) < count:
            raise hx.Diag('Missing %s for %s' % (names[len(block.labels)], block.type),
                          'All %s blocks must have %d labels (%s).' % (block.type, count, ', '.join(names)),
                          block.open_rng)

    def expand(self, block, label_names, ctx):
        """ext/dynblock: one block per element of for_each."""
        label_count = len(label_names)
        spec = _Inst.of(block, ctx)
        attr_names = ('for_each', 'iterator', 'labels') if label_count else ('for_each', 'iterator')
        attrs, contents = self.content(spec, attr_names, {'content': ()}, dynamic=False)
        for required in attr_names:
            if required != 'iterator' and required not in attrs:
                raise hx.Diag('Missing required argument', 'The argument "%s" is required, but no definition was '
                              'found.' % required, block.body.missing_rng)
        each_attr = attrs['for_each']
        each = each_attr.expr.value_in(ctx)
        if each is None:
            raise hx.Diag('Invalid dynamic for_each value', 'Cannot use a null value in for_each.', each_attr.expr.rng)
        if not isinstance(each, (list, dict)):
            raise hx.Diag('Invalid dynamic for_each value', 'Cannot use a %s value in for_each. An iterable '
                          'collection is required.' % hx.friendly_name(hx.implied_type(each)), each_attr.expr.rng)
        iterator = block.labels[0]
        if 'iterator' in attrs:
            expr = attrs['iterator'].expr
            if type(expr) is not hx.Traversal:
                raise hx.Diag('Invalid expression', 'A single static variable reference is required: only attribute '
                              'access and indexing with constant keys. No calculations, function calls, template '
                              'expressions, etc are allowed here.', expr.rng)
            if expr.steps:
                raise hx.Diag('Invalid dynamic iterator name', 'Dynamic iterator must be a single variable name.',
                              expr.rng)
            iterator = expr.name
        label_exprs = []
        if 'labels' in attrs:
            expr = attrs['labels'].expr
            if type(expr) is not hx.TupleCons:
                raise hx.Diag('Invalid expression', 'A static list expression is required.', expr.rng)
            label_exprs = expr.items
            if len(label_exprs) > label_count:
                raise hx.Diag('Extraneous dynamic block label', 'Blocks of type "%s" require %d label(s).'
                              % (block.labels[0], label_count), label_exprs[label_count].rng)
            if len(label_exprs) < label_count:
                raise hx.Diag('Insufficient dynamic block labels', 'Blocks of type "%s" require %d label(s).'
                              % (block.labels[0], label_count), expr.rng)
        if not contents:
            raise hx.Diag('Missing dynamic content block', 'A dynamic block must have a nested block of type "content" '
                          'to describe the body of each generated block.', block.body.missing_rng)
        if len(contents) > 1:
            raise hx.Diag('Extraneous dynamic content block', 'Only one nested content block is allowed for each '
                          'dynamic block.', contents[1].def_rng)
        out = []
        for key, value in hx._iterate(each, each_attr.expr, 'for_each'):
            child = hx.Ctx({iterator: {'key': key, 'value': value}}, ctx)
            labels, label_rngs = [], []
            for expr in label_exprs:
                label = expr.value_in(child)
                if label is None:
                    raise hx.Diag('Invalid dynamic block label', 'Cannot use a null value as a dynamic block label.',
                                  expr.rng)
                try:
                    labels.append(hx.convert(label, hx.STRING))
                except hx.ConvertError as exc:
                    raise hx.Diag('Invalid dynamic block label', 'Cannot use this value as a dynamic block label: %s.'
                                  % exc, expr.rng)
                label_rngs.append(expr.rng)
            out.append(_Inst(block.labels[0], labels, label_rngs, block.label_rngs[0], block.def_rng,
                             contents[0].body, child, contents[0].open_rng))
        return out

    # -- values --------------------------------------------------------------

    def attr_value(self, attr, ctx, kind):
        """gohcl DecodeExpression of one attribute into a Go-typed field."""
        expr = attr.expr
        inner = kind[1] if isinstance(kind, tuple) and kind[0] == 'ptr' else kind
        if inner == _D:
            return self.duration(expr, ctx)
        value = expr.value_in(ctx)
        try:
            value = hx.convert(value, _cty_type(kind))
        except hx.ConvertError as exc:
            raise hx.Diag('Unsuitable value type', 'Unsuitable value: %s' % exc, expr.start_rng())
        return self.go_value(value, kind, expr)

    def go_value(self, value, kind, expr):
        """gocty.FromCtyValue: nulls only into pointers, slices and maps;
        whole numbers within the Go type's range."""
        if isinstance(kind, tuple):
            tag = kind[0]
            if value is None:
                return None
            if tag == 'ptr':
                return self.go_value(value, kind[1], expr)
            if tag == 'slice':
                return [self.go_value(v, kind[1], expr) for v in value]
            if tag == 'map':
                return dict((k, self.go_value(v, kind[1], expr)) for k, v in value.items())
            raise AssertionError(kind)
        if value is None:
            raise hx.Diag('Unsuitable value type', 'Unsuitable value: null value is not allowed', expr.start_rng())
        if kind == _ANY:
            return hx.to_interface(value)
        if kind in _INT_RANGES:
            low, high = _INT_RANGES[kind]
            if type(value) is not int or not low <= value <= high:
                if low:
                    detail = 'value must be a whole number, between %d and %d' % (low, high)
                else:
                    detail = 'value must be a whole number, between 0 and %d inclusive' % high
                raise hx.Diag('Unsuitable value type', 'Unsuitable value: %s' % detail, expr.start_rng())
        return value

    def duration(self, expr, ctx):
        """jobspec2's decodeDuration: a Go duration string or nanoseconds."""
        value = expr.value_in(ctx)
        if type(value) is str:
            try:
                value = parse_duration(value)
            except ValueError as exc:
                raise hx.Diag('Unsuitable value type', 'Unsuitable duration value: %s' % exc, expr.start_rng())
        if not hx.is_number(value):
            raise hx.Diag('Unsuitable value type', 'Unsuitable value: expected a string but found %s'
                          % hx.friendly_name(hx.implied_type(value)), expr.start_rng())
        return self.go_value(value, _D, expr)

    def string_map_attr(self, inst, name):
        """decodeAsAttribute: ``env = {...}`` / ``meta = {...}``, which
        Nomad accepts next to the block form (not both)."""
        attr = inst.body.attrs.get(name)
        if attr is None:
            return None
        for block in inst.body.blocks:
            if block.type == name:
                raise hx.Diag('Duplicate %s block' % name, '%s may not be defined more than once. Another definition '
                              'is defined at %s.' % (name, _range_text(attr.rng)), block.def_rng)
        return self.attr_value(attr, inst.ctx, _map(_S))

    def just_attributes(self, inst):
        """hclutil.BlocksAsAttrs: a map block's attributes, where a literal
        object is wrapped in a one-element list and nested blocks become
        lists of objects keyed by their labels (the shape Nomad 1.1.0 gives
        task configs: ``port_map = [{http = 5678}]``)."""
        out = []
        for name, attr in inst.body.attrs.items():
            out.append((name, attr.expr, lambda a=attr: self.wrapped(a.expr, inst.ctx)))
        seen = []
        for block in inst.body.blocks:
            if block.type not in seen:
                seen.append(block.type)
        for type_ in seen:
            group = [b for b in inst.body.blocks if b.type == type_]
            out = [item for item in out if item[0] != type_]
            out.append((type_, None, lambda g=group: [self.block_object(b, inst.ctx) for b in g]))
        return out

    def wrapped(self, expr, ctx):
        value = expr.value_in(ctx)
        return [value] if type(expr) is hx.ObjectCons else value

    def block_object(self, block, ctx):
        obj = {}
        for name, attr in block.body.attrs.items():
            obj[name] = self.wrapped(attr.expr, ctx)
        types = []
        for nested in block.body.blocks:
            if nested.type not in types:
                types.append(nested.type)
        for type_ in types:
            obj[type_] = [self.block_object(b, ctx) for b in block.body.blocks if b.type == type_]
        for label in reversed(block.labels):
            obj = {label: [obj]}
        return obj

    def map_block(self, inst, elem):
        """decodeBodyToMap: a block whose attributes are the map's entries."""
        out = {}
        for name, expr, thunk in self.just_attributes(inst):
            value = thunk()
            if elem == _ANY:
                out[name] = hx.to_interface(value)
                continue
            at = expr if expr is not None else _At(inst.def_rng)
            try:
                value = hx.convert(value, _cty_type(elem))
            except hx.ConvertError as exc:
                raise hx.Diag('Unsuitable value type', 'Unsuitable value: %s' % exc, at.start_rng())
            out[name] = self.go_value(value, elem, at)
        return out

    # -- structs -------------------------------------------------------------

    def decode(self, inst, name, extra_attrs=(), extra_blocks=None, skip_blocks=()):
        """gohcl's decodeBodyToStruct, through Nomad's custom decoders."""
        custom = getattr(self, 'decode_' + name, None)
        if custom is not None and not extra_attrs and extra_blocks is None:
            return custom(inst)
        attrs_schema, blocks_schema, labels = _schema(name)
        block_labels = dict((n, spec[2]) for n, spec in blocks_schema.items())
        block_labels.update(extra_blocks or {})
        attrs, blocks = self.content(inst, set(attrs_schema) | set(extra_attrs), block_labels)
        out = new_struct(name, structs=STRUCTS_1X)
        for field_kind, label in zip(labels, inst.labels):
            field, kind = field_kind
            out[field] = label
        for hcl_name, attr in attrs.items():
            if hcl_name in attrs_schema:
                field, kind = attrs_schema[hcl_name]
                out[field] = self.attr_value(attr, inst.ctx, kind)
        by_type = {}
        for block in blocks:
            by_type.setdefault(block.type, []).append(block)
        for hcl_name, found in by_type.items():
            if hcl_name not in blocks_schema or hcl_name in skip_blocks:
                continue
            field, kind, label_names = blocks_schema[hcl_name]
            label_count = len(label_names)
            is_slice, is_map, inner = _strip(kind)
            if len(found) > 1 and not is_slice and not (is_map and label_count == 1):
                raise hx.Diag('Duplicate %s block' % hcl_name, 'Only one %s block is allowed. Another was defined at %s.'
                              % (hcl_name, _range_text(found[0].def_rng)), found[1].def_rng)
            if is_slice:
                out[field] = [self.decode(b, inner[1]) for b in found]
            elif is_map and label_count == 1:
                out[field] = dict((b.labels[0], self.decode(b, inner[1])) for b in found)
            elif is_map:
                out[field] = self.map_block(found[0], inner)
            else:
                out[field] = self.decode(found[0], inner[1])
        for field in _OMIT_EMPTY.get(name, ()):
            if out[field] is None:
                del out[field]
        return out

    def decode_TaskGroup(self, inst):
        meta = self.string_map_attr(inst, 'meta')
        vaults = self.content(inst, set(inst.body.attrs), {'vault': ()}, partial=True)[1]
        vault = None
        if vaults:
            if len(vaults) > 1:
                raise hx.Diag('Duplicate vault block', 'Only one vault block is allowed. Another was defined at %s.'
                              % _range_text(vaults[0].def_rng), vaults[1].def_rng)
            vault = self.decode(vaults[0], 'Vault')
        group = self.decode(inst, 'TaskGroup', extra_attrs=('meta',), extra_blocks={'vault': ()})
        if meta is not None:
            group['Meta'] = meta
        if vault is not None:
            for task in group['Tasks'] or []:
                if task['Vault'] is None:
                    task['Vault'] = vault
        scaling = group['Scaling']
        if scaling is not None:
            if scaling['Type'] == '':
                scaling['Type'] = 'horizontal'
            self.check_group_scaling(inst, scaling)
        return group

    def check_group_scaling(self, inst, scaling):
        """validateGroupScalingPolicy: a group policy needs a max."""
        if scaling['Max'] is not None and scaling['Type'] == 'horizontal':
            return
        block = self.content(inst, set(inst.body.attrs), {'scaling': ()}, partial=True)[1][0]
        if 'max' not in block.body.attrs:
            raise hx.Diag('Missing required argument', 'The argument "max" is required, but no definition was found.',
                          block.body.missing_rng)
        if scaling['Type'] != 'horizontal' and 'type' in block.body.attrs:
            raise hx.Diag('Invalid group scaling type', 'task group scaling policy had invalid type: "%s"'
                          % scaling['Type'], block.body.attrs['type'].expr.rng)

    def decode_Task(self, inst):
        env = self.string_map_attr(inst, 'env')
        meta = self.string_map_attr(inst, 'meta')
        _attrs, scalings = self.content(inst, set(inst.body.attrs), {'scaling': ('name',)}, partial=True)
        policies = self.task_scaling(scalings)
        task = self.decode(inst, 'Task', extra_attrs=('env', 'meta'), extra_blocks={'scaling': ('name',)},
                           skip_blocks=('scaling',))
        task['ScalingPolicies'] = policies
        if env is not None:
            task['Env'] = env
        if meta is not None:
            task['Meta'] = meta
        return task

    def task_scaling(self, blocks):
        """decodeTaskScalingPolicies: ``scaling "cpu"`` and ``scaling "mem"``."""
        out, seen = None, {}
        for block in blocks:
            label = block.labels[0].lower()
            policy_type = {'cpu': 'vertical_cpu', 'mem': 'vertical_mem'}.get(label)
            if policy_type is None:
                raise hx.Diag('Invalid scaling policy name', 'scaling policy name must be "cpu" or "mem"',
                              block.label_rngs[0])
            if label in seen:
                raise hx.Diag('Duplicate scaling "%s" block' % label, 'Only one scaling %s block is allowed. Another '
                              'was defined at %s.' % (label, _range_text(seen[label].def_rng)), block.def_rng)
            seen[label] = block
            policy = self.decode(_Inst(block.type, [], [], block.type_rng, block.def_rng, block.body, block.ctx,
                                       block.open_rng), 'ScalingPolicy')
            if policy['Type'] == '':
                policy['Type'] = policy_type
            elif policy['Type'] != policy_type:
                raise hx.Diag('Invalid scaling policy type', 'Invalid policy type, expected "%s" but found "%s"'
                              % (policy['Type'], policy_type), block.def_rng)
            out = (out or []) + [policy]
        return out

    def typed_attrs(self, inst, spec):
        """hcldec.Decode of an ObjectSpec of typed attributes."""
        attrs, _blocks = self.content(inst, set(spec), {})
        out = {}
        for name, attr in attrs.items():
            value = attr.expr.value_in(inst.ctx)
            try:
                out[name] = hx.convert(value, spec[name])
            except hx.ConvertError as exc:
                raise hx.Diag('Incorrect attribute value type', 'Inappropriate value for attribute "%s": %s.'
                              % (name, exc), attr.expr.rng)
        return out

    def decode_Affinity(self, inst):
        spec = dict((n, hx.STRING) for n in ('attribute', 'value', 'operator', 'version', 'semver', 'regexp',
                                             'set_contains', 'set_contains_all', 'set_contains_any'))
        spec['weight'] = hx.NUMBER
        v = self.typed_attrs(inst, spec)
        affinity = new_struct('Affinity', structs=STRUCTS_1X, LTarget=v.get('attribute') or '',
                              RTarget=v.get('value') or '', Operand=v.get('operator') or '')
        if v.get('weight') is not None:
            # int8(w) in Go: the fraction is dropped and the value wraps.
            weight = int(v['weight']) & 0xff
            affinity['Weight'] = weight - 256 if weight > 127 else weight
        for operand in ('version', 'semver', 'regexp', 'set_contains_any', 'set_contains_all', 'set_contains'):
            if v.get(operand):
                affinity['Operand'], affinity['RTarget'] = operand, v[operand]
        if affinity['Operand'] == '':
            affinity['Operand'] = '='
        return affinity

    def decode_Constraint(self, inst):
        spec = dict((n, hx.STRING) for n in ('attribute', 'value', 'operator', 'distinct_property', 'regexp',
                                             'version', 'semver', 'set_contains', 'set_contains_all',
                                             'set_contains_any', 'attribute_is_set', 'attribute_is_not_set'))
        spec['distinct_hosts'] = hx.BOOL
        v = self.typed_attrs(inst, spec)
        constraint = new_struct('Constraint', structs=STRUCTS_1X, LTarget=v.get('attribute') or '',
                                RTarget=v.get('value') or '', Operand=v.get('operator') or '')
        # Nomad 1.1.0 maps only these operand attributes (not set_contains_any/all).
        for operand in ('version', 'semver', 'regexp', 'set_contains'):
            if v.get(operand):
                constraint['Operand'], constraint['RTarget'] = operand, v[operand]
        if v.get('distinct_hosts'):
            constraint['Operand'] = 'distinct_hosts'
        if v.get('distinct_property'):
            constraint['Operand'], constraint['LTarget'] = 'distinct_property', v['distinct_property']
        if constraint['Operand'] == '':
            constraint['Operand'] = '='
        return constraint


class _At:
    """Stands for an expression when only its range is known."""

    def __init__(self, rng):
        self.rng = rng

    def start_rng(self):
        return self.rng


# ---------------------------------------------------------------- variables

class _Variable:
    __slots__ = ('name', 'type', 'values', 'validations', 'def_rng')

    def __init__(self, name, def_rng):
        self.name, self.def_rng = name, def_rng
        self.type = None     # cty.NilType until a type or a default says otherwise
        self.values = []     # (from, value, expression or None)
        self.validations = []


_IDENT_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_-]*$')


def _looks_like_sentences(text):
    if not text:
        return False
    first, last = text[0], text[-1]
    if first.isalpha() and not first.isupper():
        return False
    return last in '.?!'


def _references(expr, bound=()):
    """hcl's Expression.Variables(): the root traversals an expression reads,
    without the names its 'for' expressions bind."""
    out = []
    kind = type(expr)
    if kind is hx.Traversal:
        if expr.name not in bound:
            out.append(expr)
        return out
    if kind is hx.ForExpr:
        out += _references(expr.coll, bound)
        inner = tuple(bound) + tuple(n for n in (expr.key_var, expr.val_var) if n)
        for sub in (expr.key, expr.value, expr.cond):
            if sub is not None:
                out += _references(sub, inner)
        return out
    for sub in _subexpressions(expr):
        out += _references(sub, bound)
    return out


def _subexpressions(expr):
    kind = type(expr)
    if kind in (hx.TemplateWrap,):
        return [expr.inner]
    if kind is hx.Template:
        return _template_exprs(expr.parts)
    if kind is hx.RelTraversal or kind is hx.Splat:
        return [expr.source] + [s[1] for s in expr.steps if s[0] == 'expr']
    if kind is hx.Index:
        return [expr.coll, expr.key]
    if kind is hx.Call:
        return list(expr.args)
    if kind is hx.Conditional:
        return [expr.cond, expr.true, expr.false]
    if kind is hx.BinaryOp:
        return [expr.left, expr.right]
    if kind is hx.UnaryOp:
        return [expr.operand]
    if kind is hx.TupleCons:
        return list(expr.items)
    if kind is hx.ObjectCons:
        return [k for k, lit, _v in expr.items if lit is None] + [v for _k, _l, v in expr.items]
    return []


def _template_exprs(parts):
    out = []
    for part in parts:
        if type(part) is hx.Interp:
            out.append(part.expr)
        elif type(part) is hx.IfDirective:
            out += [part.cond] + _template_exprs(part.then) + _template_exprs(part.otherwise or [])
        elif type(part) is hx.ForDirective:
            out += [part.coll] + _template_exprs(part.body)
    return out


class _JobConfig:
    """jobspec2's jobConfig: variables, locals, then the job block."""

    def __init__(self, text, filename, variables, var_files, env=None, base_dir=None):
        self.base_dir = base_dir
        self.text = text
        self.filename = filename
        self.arg_vars = variables or {}
        self.var_files = var_files or []
        self.env_vars = env or {}
        self.variables = {}
        self.locals = {}

    def parse(self):
        body, parsed_files = self.read()
        return self.decode_body(body, parsed_files)

    def read(self):
        try:
            src, body = hx.parse_config(self.text, self.filename)
            syntax = None
        except hx.Diag as exc:
            src, body, syntax = None, None, exc
        parsed_files = [self.parse_var_file(name, text) for name, text in self.var_files]
        if syntax is not None:
            raise syntax
        self.src = src
        return body, parsed_files

    def set_values(self):
        """Every variable the caller set (environment, var files, ``-var``), by
        name, typed and validated; defaults are left to whoever parses the job."""
        body, parsed_files = self.read()
        self.decode_variables(body)
        self.collect_values(parsed_files)
        values = {}
        for name, variable in sorted(self.variables.items()):
            if variable.values and variable.values[-1][0] != 'default':
                values[name] = self.variable_value(variable)
        return values

    def parse_var_file(self, name, text):
        if isinstance(text, bytes):
            text = text.decode('utf-8')
        stripped = text.lstrip(' ')
        try:
            if stripped.startswith('{'):
                return name, 'json', hx.from_json(text)
            return name, 'hcl', hx.parse_config(text, name)[1]
        except ValueError as exc:
            raise hx.Diag('Failed to read variables file', 'unable to parse var file: %s: %s' % (name, exc))

    def decode_body(self, body, var_files):
        self.decode_variables(body)
        local_attrs = []
        for block in body.blocks:
            if block.type == 'locals':
                self.just_attributes(block)
                local_attrs.extend(block.body.attrs.values())
        self.collect_values(var_files)
        for variable in self.variables.values():
            self.variable_value(variable)
        self.evaluate_locals(local_attrs)
        return self.decode_job(body)

    def decode_variables(self, body):
        top = _Inst('', [], [], None, None, body, None, None)
        _Decoder().content(top, (), {'variables': (), 'variable': ('name',), 'locals': (), 'job': ('name',)},
                           dynamic=False)
        for block in body.blocks:
            if block.type == 'variable':
                self.decode_variable_block(block)
            elif block.type == 'variables':
                self.just_attributes(block)
                for name, attr in block.body.attrs.items():
                    self.decode_variable(name, attr)

    @staticmethod
    def just_attributes(block):
        for nested in block.body.blocks:
            raise hx.Diag('Unexpected "%s" block' % nested.type, 'Blocks are not allowed here.', nested.type_rng)

    def decode_variable(self, name, attr):
        if name in self.variables:
            raise hx.Diag('Duplicate variable', 'Duplicate %s variable definition found.' % name, attr.name_rng)
        value = attr.expr.value_in(None)
        variable = _Variable(name, attr.rng)
        variable.values.append(('default', value, attr.expr))
        variable.type = hx.implied_type(value)
        self.variables[name] = variable

    def decode_variable_block(self, block):
        name = block.labels[0]
        if name in self.variables:
            raise _context(hx.Diag('Duplicate variable', 'Duplicate %s variable definition found.' % name),
                           block.def_rng)
        decoder = _Decoder()
        attrs, validations = decoder.content(_Inst.of(block, None), ('description', 'default', 'type'),
                                             {'validation': ()}, dynamic=False)
        if not _IDENT_RE.match(name):
            raise hx.Diag('Invalid variable name', 'A name must start with a letter or underscore and may contain only '
                          'letters, digits, underscores, and dashes.', block.label_rngs[0])
        variable = _Variable(name, block.def_rng)
        if 'description' in attrs:
            decoder.attr_value(attrs['description'], None, _S)
        if 'type' in attrs:
            variable.type = hx.parse_type(attrs['type'].expr)
        if 'default' in attrs:
            expr = attrs['default'].expr
            value = expr.value_in(None)
            if variable.type is not None:
                try:
                    value = hx.convert(value, variable.type)
                except hx.ConvertError as exc:
                    raise hx.Diag('Invalid default value for variable', "This default value is not compatible with the "
                                  "variable's type constraint: %s." % exc, expr.rng)
            variable.values.append(('default', value, expr))
            if variable.type is None:
                variable.type = hx.implied_type(value)
        for validation in validations:
            variable.validations.append(self.decode_validation(name, validation))
        self.variables[name] = variable

    def decode_validation(self, name, inst):
        decoder = _Decoder()
        attrs, _blocks = decoder.content(inst, ('condition', 'error_message'), {}, dynamic=False)
        for required in ('condition', 'error_message'):
            if required not in attrs:
                raise hx.Diag('Missing required argument', 'The argument "%s" is required, but no definition was '
                              'found.' % required, inst.body.missing_rng)
        condition = attrs['condition'].expr
        good = 0
        for ref in _references(condition):
            if ref.name == 'var' and ref.steps and ref.steps[0][0] == 'attr' and ref.steps[0][1] == name:
                good += 1
                continue
            raise hx.Diag('Invalid reference in variable validation', 'The condition for variable "%s" can only refer '
                          'to the variable itself, using var.%s.' % (name, name), ref.rng)
        if not good:
            raise hx.Diag('Invalid variable validation condition', 'The condition for variable "%s" must refer to '
                          'var.%s in order to test incoming values.' % (name, name), condition.rng)
        message_expr = attrs['error_message'].expr
        message = decoder.attr_value(attrs['error_message'], None, _S)
        if message == '':
            raise hx.Diag('Invalid validation error message', 'An empty string is not a valid nor useful error '
                          'message.', message_expr.rng)
        if not _looks_like_sentences(message):
            raise hx.Diag('Invalid validation error message', 'Validation error message must be at least one full '
                          'sentence starting with an uppercase letter ( if the alphabet permits it ) and ending with '
                          'a period or question mark.', message_expr.rng)
        return condition, message, inst.def_rng

    def collect_values(self, var_files):
        """collectInputVariableValues: NOMAD_VAR_* values, then -var-file
        values, then -var values; the last one set wins."""
        for key, raw in sorted(self.env_vars.items()):
            variable = self.variables.get(key)
            if variable is None:
                continue  # the CLI skips what no job file declares
            value, expr = self.flag_value(key, str(raw), variable, '<value for var.%s from env>' % key)
            value = self.typed(variable, value, expr, 'Invalid value for variable', 'The value')
            variable.values.append(('env', value, expr))
        for name, kind, content in var_files:
            if kind == 'json':
                if not isinstance(content, dict):
                    raise hx.Diag('Incorrect JSON value type', 'A JSON object is required here, to define arguments '
                                  'and child blocks.')
                items = [(key, value, None) for key, value in content.items()]
            else:
                for block in content.blocks:
                    if block.type == 'variable':
                        raise hx.Diag('Variable declaration in a .var file', 'A .var file is used to assign values to '
                                      'variables that have already been declared in job files, not to declare new '
                                      'variables. To declare variable "%s", place this block in one of your job files'
                                      '\n\nTo set a value for this variable in %s, use the definition syntax instead:'
                                      '\n    %s = <value>' % (block.labels[0] if block.labels else '', name,
                                                              block.labels[0] if block.labels else ''),
                                      block.type_rng)
                for block in content.blocks:
                    raise hx.Diag('Unexpected "%s" block' % block.type, 'Blocks are not allowed here.', block.type_rng)
                items = [(key, None, attr) for key, attr in content.attrs.items()]
            for key, value, attr in items:
                variable = self.variables.get(key)
                if variable is None:
                    diag = hx.Diag('Undefined variable', 'A "%s" variable was set but was not found in known variables. '
                                   'To declare variable "%s", place this block in your job files' % (key, key))
                    raise _context(diag, attr.rng if attr is not None else None, name)
                if attr is not None:
                    value = attr.expr.value_in(None)
                if variable.type is not None:
                    try:
                        value = hx.convert(value, variable.type)
                    except hx.ConvertError as exc:
                        diag = hx.Diag('Invalid value for variable', "The value for %s is not compatible with the "
                                       "variable's type constraint: %s." % (key, exc),
                                       attr.expr.rng if attr is not None else None)
                        raise _context(diag, None, name)
                variable.values.append(('varfile', value, attr.expr if attr is not None else None))
        for key, raw in self.arg_vars.items():
            variable = self.variables.get(key)
            if variable is None:
                raise hx.Diag('Undefined -var variable', 'A "%s" variable was passed in the command line but was not '
                              'found in known variables. To declare variable "%s", place this block in your job file'
                              % (key, key))
            expr = None
            if isinstance(raw, str):
                value, expr = self.flag_value(key, str(raw), variable, '<value for var.%s from arguments>' % key)
            else:
                try:
                    value = hx.from_python(raw)
                except hx.ConvertError as exc:
                    raise _context(hx.Diag('Invalid argument value for -var variable', 'The received arg value for %s '
                                           'is not compatible with the variable\'s type constraint: %s.' % (key, exc)),
                                   variable.def_rng)
            value = self.typed(variable, value, expr, 'Invalid argument value for -var variable',
                               'The received arg value')
            variable.values.append(('cmd', value, expr))

    @staticmethod
    def typed(variable, value, expr, summary, what):
        """A value from the environment or -var in the variable's type, or
        Nomad's diagnostic (a literal taken as is has an empty range)."""
        if variable.type is None:
            return value
        try:
            return hx.convert(value, variable.type)
        except hx.ConvertError as exc:
            diag = hx.Diag(summary, "%s for %s is not compatible with the variable's type constraint: %s."
                           % (what, variable.name, exc), expr.rng if expr is not None else None, zero=expr is None)
            raise _context(diag, variable.def_rng)

    @staticmethod
    def flag_value(key, raw, variable, where):
        """expressionFromVariableDefinition: string, number and untyped
        variables take the text literally; the others parse it as HCL."""
        if variable.type in (hx.STRING, hx.NUMBER, None):
            return raw, None
        expr = hx.parse_expression(raw, where)
        return expr.value_in(None), expr

    def variable_value(self, variable):
        """Variable.Value(): the last value set, checked by its validations."""
        if not variable.values:
            raise _context(hx.Diag('Unset variable "%s"' % variable.name, 'A used variable must be set or have a default '
                                   'value; see https://www.nomadproject.io/docs/job-specification/hcl2/variables for '
                                   'details.'), variable.def_rng)
        source, value, expr = variable.values[-1]
        ctx = hx.Ctx({'var': {variable.name: value}})
        for condition, message, decl_rng in variable.validations:
            result = condition.value_in(ctx)
            if result is None:
                raise hx.Diag('Invalid variable validation result', 'Validation condition expression must return either '
                              'true or false, not null.', condition.rng)
            try:
                result = hx.convert(result, hx.BOOL)
            except hx.ConvertError as exc:
                raise hx.Diag('Invalid variable validation result', 'Invalid validation condition result value: %s.'
                              % exc, condition.rng)
            if not result:
                # A -var value taken literally has an empty range (":0,0-0").
                diag = hx.Diag('Invalid value for %s variable' % source, '%s\n\nThis was checked by the validation '
                               'rule at %s.' % (message, _range_text(decl_rng)), expr.rng if expr is not None else None,
                               zero=expr is None and source == 'cmd')
                raise _context(diag, decl_rng)
        return value

    def eval_ctx(self):
        values = dict((name, v.values[-1][1]) for name, v in self.variables.items())
        return hx.Ctx({'var': values, 'local': dict(self.locals)}, undefined=self.src.text, base_dir=self.base_dir)

    def evaluate_locals(self, attrs):
        """evaluateLocalVariables: a local that fails (it may use a local not
        evaluated yet) is retried after the others."""
        pending = list(attrs)
        retry, previous = 0, 0
        while pending:
            attr = pending[0]
            try:
                self.locals[attr.name] = attr.expr.value_in(self.eval_ctx())
                retry = 0
            except hx.Diag:
                if len(pending) == 1:
                    raise
                if previous == len(pending):
                    if retry == 100:
                        raise
                    retry += 1
                previous = len(pending)
                pending.append(attr)
            pending.pop(0)

    def decode_job(self, body):
        ctx = self.eval_ctx()
        decoder = _Decoder()
        jobs = [b for b in body.blocks if b.type == 'job']
        if not jobs:
            raise hx.Diag('Missing job block', 'A job block is required')
        if len(jobs) > 1:
            raise hx.Diag('Duplicate job block', 'Only one block of type "job" is allowed. Previous definition was at %s.'
                          % _range_text(jobs[0].def_rng), jobs[1].def_rng)
        block = jobs[0]
        inst = _Inst.of(block, ctx)
        job_id = block.labels[0]
        meta = decoder.string_map_attr(inst, 'meta')
        _attrs, extras = decoder.content(inst, set(block.body.attrs), {'vault': (), 'task': ('name',)}, partial=True)
        vault, tasks = None, []
        found_vault = None
        for extra in extras:
            if extra.type == 'vault':
                if found_vault is not None:
                    raise hx.Diag('Duplicate vault block', 'Only one block of type "vault" is allowed. Previous '
                                  'definition was at %s.' % _range_text(found_vault.def_rng), extra.def_rng)
                found_vault = extra
                vault = decoder.decode(extra, 'Vault')
            else:
                task = decoder.decode(extra, 'Task')
                tasks.append(task)
        job = decoder.decode(inst, 'Job', extra_attrs=('meta',), extra_blocks={'vault': (), 'task': ('name',)})
        if meta is not None:
            job['Meta'] = meta
        return _normalize(job, job_id, vault, tasks)


def _context(diag, rng, filename=None):
    """A diagnostic Nomad prints without a position (``<nil>:``) but whose
    Context range we know (the variable's declaration, say): keep it, so the
    error still names a place."""
    diag.context = rng
    diag.context_file = filename
    return diag


def _normalize(job, job_id, vault, tasks):
    """normalizeJob: defaults jobspec2 fills after decoding."""
    if job['Name'] is None:
        job['Name'] = job_id
    if job['ID'] is None:
        job['ID'] = job_id
    periodic = job['Periodic']
    if periodic is not None and periodic['Spec'] is not None:
        periodic['SpecType'] = 'cron'
    _normalize_vault(vault)
    if tasks:
        alone = [new_struct('TaskGroup', structs=STRUCTS_1X, Name=t['Name'], Tasks=[t]) for t in tasks]
        job['TaskGroups'] = alone + (job['TaskGroups'] or [])
    for group in job['TaskGroups'] or []:
        _normalize_ports(group['Networks'])
        for task in group['Tasks'] or []:
            if task['Resources'] is not None:
                _normalize_ports(task['Resources']['Networks'])
            for template in task['Templates'] or []:
                if template['ChangeMode'] is None:
                    template['ChangeMode'] = 'restart'
                if template['Perms'] is None:
                    template['Perms'] = '0644'
                if template['Splay'] is None:
                    template['Splay'] = 5 * 1000000000
            _normalize_vault(task['Vault'])
            if task['Vault'] is None and vault is not None:
                task['Vault'] = copy.deepcopy(vault)
    return job


def _normalize_vault(vault):
    if vault is None:
        return
    if vault['Env'] is None:
        vault['Env'] = True
    if vault['ChangeMode'] is None:
        vault['ChangeMode'] = 'restart'


def _normalize_ports(networks):
    """Ports declared with ``static`` become reserved ports."""
    for network in networks or []:
        if not network['DynamicPorts']:
            continue
        dynamic = [p for p in network['DynamicPorts'] if p['Value'] <= 0]
        reserved = [p for p in network['DynamicPorts'] if p['Value'] > 0]
        network['DynamicPorts'] = dynamic or None
        network['ReservedPorts'] = reserved or None


# ---------------------------------------------------------------- public entry

def nomad_var_env(environ):
    """The ``NOMAD_VAR_<name>`` entries of an environment, by variable name."""
    prefix = 'NOMAD_VAR_'
    return dict((key[len(prefix):], value) for key, value in environ.items()
                if key.startswith(prefix) and len(key) > len(prefix))


def parse_hcl2_jobspec(text, filename=None, variables=None, var_files=None, env=None, base_dir=None):
    """Parse a Nomad 1.x HCL2 job file into the API job (the value under
    ``"Job"`` in ``nomad job run -output``), as Nomad 1.1.0 does.

    ``variables`` are ``-var`` values by name: a string is taken like the
    CLI's ``-var name=value`` (literally for string, number and untyped
    variables, as an HCL expression for the others); any other Python value
    (list, dict, number, bool) is used as it is and converted to the
    variable's type. ``var_files`` is a list of ``(name, text)`` pairs of
    ``-var-file`` contents, HCL or JSON. ``env`` maps variable names to
    ``NOMAD_VAR_*`` values (see ``nomad_var_env``). ``base_dir`` enables the
    filesystem functions (``file``, ``fileset``, ...) and is where they resolve
    relative paths, as the CLI's base directory; without it they fail as on
    Nomad's API. Raises :class:`JobspecError`.
    """
    config = _job_config(text, filename, variables, var_files, env, base_dir)
    try:
        return config.parse()
    except hx.Diag as diag:
        raise _error(diag, filename)


def hcl2_variable_values(text, filename=None, variables=None, var_files=None, env=None, base_dir=None):
    """The values the caller gives a job file's variables, as ``nomad job
    run`` would give them (same arguments as ``parse_hcl2_jobspec``): typed,
    converted to each variable's type and checked by its validations, as
    plain JSON-ready Python values. Only the variable blocks are read, so a
    job block in a newer release's language does not stand in the way; the
    agent that parses the job applies the defaults. Raises :class:`JobspecError`.
    """
    config = _job_config(text, filename, variables, var_files, env, base_dir)
    try:
        values = config.set_values()
    except hx.Diag as diag:
        raise _error(diag, filename)
    return dict((name, hx.to_interface(value)) for name, value in values.items())


def _job_config(text, filename, variables, var_files, env, base_dir=None):
    if not hx.HAS_HCL2:
        raise JobspecError('the python "python-hcl2" package (8.1.4 or later 8.x) is required on the controller to '
                           'read HCL2 job files: %s' % hx.HCL2_IMPORT_ERROR, (), filename)
    text = job_text(text, filename)
    if variables is not None and not isinstance(variables, dict):
        raise JobspecError('variables must be a mapping of variable names to values', (), filename)
    if text.lstrip(' ').startswith('{'):
        raise JobspecError('JSON job files (HCL2 JSON syntax) are not supported; use the API job JSON instead', (),
                           filename)
    return _JobConfig(text, filename, variables, var_files, env, base_dir)


def _error(diag, filename):
    where, line, column = diag.position()
    if line is None and diag.context:
        src, start, _end = diag.context
        line, column = src.pos(start)
        where = src.filename
    if not where:
        where = diag.context_file or filename
    error = JobspecError(diag.message, (), where, line, column)
    # Nomad's own line for the problem: "FILE:L,C-C: Summary; Detail".
    error.diagnostic = str(diag)
    return error
