# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Nomad 0.9 job files (HCL1) to the API job, the way Nomad 0.9.1 parses them.

``parse_jobspec(text)`` returns what ``nomad job run -output`` prints under
``"Job"``: every field of the API job, ``None`` where the file leaves it
unset, durations in nanoseconds. Nomad's own parser decodes each block into
a map and then into the API structs with weak typing (``true`` becomes
``"1"`` in a string map, ``"10"`` becomes ``10`` in a count). The small
decoder below reproduces those conversions field by field, so the job sent
is the job Nomad's CLI would have sent.

Pure: no I/O, standard library plus our HCL1 parser, so it runs on managed
hosts that have nothing but python3.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re
from decimal import Decimal

from ansible_collections.nomadops.nomad.plugins.module_utils.go import go_type, parse_duration
from ansible_collections.nomadops.nomad.plugins.module_utils.hcl import (
    HCLError,
    ObjectList,
    ObjectType,
    decode as hcl_decode,
    parse as hcl_parse,
)

__all__ = ['JobspecError', 'parse_jobspec', 'parse_duration']

PORT_LABEL_RE = re.compile(r'^[a-zA-Z0-9_]+$')
PORT_LABEL_MESSAGE = 'Port label does not conform to naming requirements ^[a-zA-Z0-9_]+$'


class JobspecError(Exception):
    """Anything Nomad 0.9.1's job parser would reject.

    ``problem`` is Nomad's wording, ``path`` the blocks leading to it (for
    example ``("group 'web'", "task 'server'", 'resources')``), ``filename``
    and ``line``/``column`` where it was found, when known.
    """

    def __init__(self, problem, path=(), filename=None, line=None, column=None):
        self.problem = problem
        self.path = tuple(path)
        self.filename = filename
        self.line = line
        self.column = column
        super(JobspecError, self).__init__(self.__str__())

    def __str__(self):
        text = self.problem
        if self.path:
            text = '%s -> %s' % (', '.join(self.path), text)
        where = []
        if self.filename:
            where.append(self.filename)
        if self.line is not None:
            where.append('line %d' % self.line)
            if self.column:
                where[-1] += ', column %d' % self.column
        if where:
            text = '%s (at %s)' % (text, ' '.join(where))
        return text


class _DecodeError(Exception):
    """A type conversion failed; the caller knows the block and the line."""

    def __init__(self, key, message):
        self.key = key
        self.message = message
        super(_DecodeError, self).__init__(message)


# ---------------------------------------------------------------- Go's conversions

_INT_BITS = {'int': (64, True), 'int64': (64, True), 'int8': (8, True), 'duration': (64, True),
             'uint8': (8, False), 'uint64': (64, False)}


def _go_quote(text):
    return json.dumps(text, ensure_ascii=False)


def _parse_go_int(text, bits, signed):
    """strconv.ParseInt/ParseUint with base 0 (0x, 0o, 0b and 0 prefixes)."""
    func = 'ParseInt' if signed else 'ParseUint'
    syntax = ValueError('strconv.%s: parsing %s: invalid syntax' % (func, _go_quote(text)))
    body = text
    neg = False
    if signed and body[:1] in ('+', '-'):
        neg = body[0] == '-'
        body = body[1:]
    lower = body.lower()
    base = 10
    if lower.startswith('0x'):
        base, body = 16, body[2:]
    elif lower.startswith('0b'):
        base, body = 2, body[2:]
    elif lower.startswith('0o'):
        base, body = 8, body[2:]
    elif len(body) > 1 and body.startswith('0'):
        base, body = 8, body[1:]
    if '_' in body:
        # base 0 allows underscores between digits only
        if not re.match(r'^_?[0-9a-zA-Z]+(_[0-9a-zA-Z]+)*$', body) or (base == 10 and body.startswith('_')):
            raise syntax
        body = body.replace('_', '')
    if not body:
        raise syntax
    try:
        value = int(body, base)
    except ValueError:
        raise syntax
    value = -value if neg else value
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if value < low or value > high:
        raise ValueError('strconv.%s: parsing %s: value out of range' % (func, _go_quote(text)))
    return value


def _parse_go_bool(text):
    if text in ('1', 't', 'T', 'TRUE', 'true', 'True'):
        return True
    if text in ('0', 'f', 'F', 'FALSE', 'false', 'False'):
        return False
    raise ValueError('strconv.ParseBool: parsing %s: invalid syntax' % _go_quote(text))


def _format_go_float(value):
    """strconv.FormatFloat(f, 'f', -1, 64): shortest digits, no exponent."""
    text = format(Decimal(repr(value)).normalize(), 'f')
    return text


def _wrap(value, kind):
    """A Go integer conversion into a narrower type keeps the low bits."""
    bits, signed = _INT_BITS[kind]
    value &= (1 << bits) - 1
    if signed and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def _go_kind(value):
    """reflect.Kind's name for what the HCL decoder produces."""
    name = go_type(value)
    return 'map' if name.startswith('map') else 'slice' if name.startswith('[]') else name


# ---------------------------------------------------------------- the API structs
# Field name, mapstructure tag (None: the field name, matched without regard
# to case, as mapstructure does) and Go type, as in Nomad 0.9.1's api package.

def _ptr(kind):
    return ('ptr', kind)


def _slice(kind):
    return ('slice', kind)


def _map(kind):
    return ('map', kind)


def _struct(name):
    return ('struct', name)


_STR, _INT, _BOOL, _DUR = 'string', 'int', 'bool', 'duration'

STRUCTS = {
    'Job': [
        ('Stop', None, _ptr(_BOOL)), ('Region', None, _ptr(_STR)), ('Namespace', None, _ptr(_STR)),
        ('ID', None, _ptr(_STR)), ('ParentID', None, _ptr(_STR)), ('Name', None, _ptr(_STR)),
        ('Type', None, _ptr(_STR)), ('Priority', None, _ptr(_INT)), ('AllAtOnce', 'all_at_once', _ptr(_BOOL)),
        ('Datacenters', None, _slice(_STR)), ('Constraints', None, _slice(_ptr(_struct('Constraint')))),
        ('Affinities', None, _slice(_ptr(_struct('Affinity')))),
        ('TaskGroups', None, _slice(_ptr(_struct('TaskGroup')))),
        ('Update', None, _ptr(_struct('UpdateStrategy'))), ('Spreads', None, _slice(_ptr(_struct('Spread')))),
        ('Periodic', None, _ptr(_struct('PeriodicConfig'))),
        ('ParameterizedJob', None, _ptr(_struct('ParameterizedJobConfig'))),
        ('Dispatched', None, _BOOL), ('Payload', None, _slice('uint8')),
        ('Reschedule', None, _ptr(_struct('ReschedulePolicy'))), ('Migrate', None, _ptr(_struct('MigrateStrategy'))),
        ('Meta', None, _map(_STR)), ('VaultToken', 'vault_token', _ptr(_STR)), ('Status', None, _ptr(_STR)),
        ('StatusDescription', None, _ptr(_STR)), ('Stable', None, _ptr(_BOOL)), ('Version', None, _ptr('uint64')),
        ('SubmitTime', None, _ptr('int64')), ('CreateIndex', None, _ptr('uint64')),
        ('ModifyIndex', None, _ptr('uint64')), ('JobModifyIndex', None, _ptr('uint64')),
    ],
    'TaskGroup': [
        ('Name', None, _ptr(_STR)), ('Count', None, _ptr(_INT)),
        ('Constraints', None, _slice(_ptr(_struct('Constraint')))),
        ('Affinities', None, _slice(_ptr(_struct('Affinity')))), ('Tasks', None, _slice(_ptr(_struct('Task')))),
        ('Spreads', None, _slice(_ptr(_struct('Spread')))), ('RestartPolicy', None, _ptr(_struct('RestartPolicy'))),
        ('ReschedulePolicy', None, _ptr(_struct('ReschedulePolicy'))),
        ('EphemeralDisk', None, _ptr(_struct('EphemeralDisk'))), ('Update', None, _ptr(_struct('UpdateStrategy'))),
        ('Migrate', None, _ptr(_struct('MigrateStrategy'))), ('Meta', None, _map(_STR)),
    ],
    'Task': [
        ('Name', None, _STR), ('Driver', None, _STR), ('User', None, _STR), ('Config', None, _map('any')),
        ('Constraints', None, _slice(_ptr(_struct('Constraint')))),
        ('Affinities', None, _slice(_ptr(_struct('Affinity')))), ('Env', None, _map(_STR)),
        ('Services', None, _slice(_ptr(_struct('Service')))), ('Resources', None, _ptr(_struct('Resources'))),
        ('Meta', None, _map(_STR)), ('KillTimeout', 'kill_timeout', _ptr(_DUR)),
        ('LogConfig', 'logs', _ptr(_struct('LogConfig'))), ('Artifacts', None, _slice(_ptr(_struct('TaskArtifact')))),
        ('Vault', None, _ptr(_struct('Vault'))), ('Templates', None, _slice(_ptr(_struct('Template')))),
        ('DispatchPayload', None, _ptr(_struct('DispatchPayloadConfig'))), ('Leader', None, _BOOL),
        ('ShutdownDelay', 'shutdown_delay', _DUR), ('KillSignal', 'kill_signal', _STR),
    ],
    'Constraint': [('LTarget', None, _STR), ('RTarget', None, _STR), ('Operand', None, _STR)],
    'Affinity': [('LTarget', None, _STR), ('RTarget', None, _STR), ('Operand', None, _STR),
                 ('Weight', None, _ptr('int8'))],
    'Spread': [('Attribute', None, _STR), ('Weight', None, _ptr('int8')),
               ('SpreadTarget', None, _slice(_ptr(_struct('SpreadTarget'))))],
    'SpreadTarget': [('Value', None, _STR), ('Percent', None, 'uint8')],
    'UpdateStrategy': [
        ('Stagger', 'stagger', _ptr(_DUR)), ('MaxParallel', 'max_parallel', _ptr(_INT)),
        ('HealthCheck', 'health_check', _ptr(_STR)), ('MinHealthyTime', 'min_healthy_time', _ptr(_DUR)),
        ('HealthyDeadline', 'healthy_deadline', _ptr(_DUR)), ('ProgressDeadline', 'progress_deadline', _ptr(_DUR)),
        ('AutoRevert', 'auto_revert', _ptr(_BOOL)), ('Canary', 'canary', _ptr(_INT)),
    ],
    'MigrateStrategy': [
        ('MaxParallel', 'max_parallel', _ptr(_INT)), ('HealthCheck', 'health_check', _ptr(_STR)),
        ('MinHealthyTime', 'min_healthy_time', _ptr(_DUR)), ('HealthyDeadline', 'healthy_deadline', _ptr(_DUR)),
    ],
    'PeriodicConfig': [
        ('Enabled', None, _ptr(_BOOL)), ('Spec', None, _ptr(_STR)), ('SpecType', None, _ptr(_STR)),
        ('ProhibitOverlap', 'prohibit_overlap', _ptr(_BOOL)), ('TimeZone', 'time_zone', _ptr(_STR)),
    ],
    'ParameterizedJobConfig': [
        ('Payload', None, _STR), ('MetaRequired', 'meta_required', _slice(_STR)),
        ('MetaOptional', 'meta_optional', _slice(_STR)),
    ],
    'RestartPolicy': [('Interval', None, _ptr(_DUR)), ('Attempts', None, _ptr(_INT)), ('Delay', None, _ptr(_DUR)),
                      ('Mode', None, _ptr(_STR))],
    'ReschedulePolicy': [
        ('Attempts', 'attempts', _ptr(_INT)), ('Interval', 'interval', _ptr(_DUR)), ('Delay', 'delay', _ptr(_DUR)),
        ('DelayFunction', 'delay_function', _ptr(_STR)), ('MaxDelay', 'max_delay', _ptr(_DUR)),
        ('Unlimited', 'unlimited', _ptr(_BOOL)),
    ],
    'EphemeralDisk': [('Sticky', None, _ptr(_BOOL)), ('Migrate', None, _ptr(_BOOL)), ('SizeMB', 'size', _ptr(_INT))],
    'Resources': [
        ('CPU', None, _ptr(_INT)), ('MemoryMB', 'memory', _ptr(_INT)), ('DiskMB', 'disk', _ptr(_INT)),
        ('Networks', None, _slice(_ptr(_struct('NetworkResource')))),
        ('Devices', None, _slice(_ptr(_struct('RequestedDevice')))), ('IOPS', None, _ptr(_INT)),
    ],
    'NetworkResource': [
        ('Device', None, _STR), ('CIDR', None, _STR), ('IP', None, _STR), ('MBits', None, _ptr(_INT)),
        ('ReservedPorts', None, _slice(_struct('Port'))), ('DynamicPorts', None, _slice(_struct('Port'))),
    ],
    'Port': [('Label', None, _STR), ('Value', 'static', _INT)],
    'RequestedDevice': [
        ('Name', None, _STR), ('Count', None, _ptr('uint64')),
        ('Constraints', None, _slice(_ptr(_struct('Constraint')))),
        ('Affinities', None, _slice(_ptr(_struct('Affinity')))),
    ],
    'LogConfig': [('MaxFiles', 'max_files', _ptr(_INT)), ('MaxFileSizeMB', 'max_file_size', _ptr(_INT))],
    'DispatchPayloadConfig': [('File', None, _STR)],
    'TaskArtifact': [
        ('GetterSource', 'source', _ptr(_STR)), ('GetterOptions', 'options', _map(_STR)),
        ('GetterMode', 'mode', _ptr(_STR)), ('RelativeDest', 'destination', _ptr(_STR)),
    ],
    'Template': [
        ('SourcePath', 'source', _ptr(_STR)), ('DestPath', 'destination', _ptr(_STR)),
        ('EmbeddedTmpl', 'data', _ptr(_STR)), ('ChangeMode', 'change_mode', _ptr(_STR)),
        ('ChangeSignal', 'change_signal', _ptr(_STR)), ('Splay', 'splay', _ptr(_DUR)),
        ('Perms', 'perms', _ptr(_STR)), ('LeftDelim', 'left_delimiter', _ptr(_STR)),
        ('RightDelim', 'right_delimiter', _ptr(_STR)), ('Envvars', 'env', _ptr(_BOOL)),
        ('VaultGrace', 'vault_grace', _ptr(_DUR)),
    ],
    'Vault': [
        ('Policies', None, _slice(_STR)), ('Env', None, _ptr(_BOOL)), ('ChangeMode', 'change_mode', _ptr(_STR)),
        ('ChangeSignal', 'change_signal', _ptr(_STR)),
    ],
    'Service': [
        ('Id', None, _STR), ('Name', None, _STR), ('Tags', None, _slice(_STR)),
        ('CanaryTags', 'canary_tags', _slice(_STR)), ('PortLabel', 'port', _STR),
        ('AddressMode', 'address_mode', _STR), ('Checks', None, _slice(_struct('ServiceCheck'))),
        ('CheckRestart', 'check_restart', _ptr(_struct('CheckRestart'))),
    ],
    'ServiceCheck': [
        ('Id', None, _STR), ('Name', None, _STR), ('Type', None, _STR), ('Command', None, _STR),
        ('Args', None, _slice(_STR)), ('Path', None, _STR), ('Protocol', None, _STR), ('PortLabel', 'port', _STR),
        ('AddressMode', 'address_mode', _STR), ('Interval', None, _DUR), ('Timeout', None, _DUR),
        ('InitialStatus', 'initial_status', _STR), ('TLSSkipVerify', 'tls_skip_verify', _BOOL),
        ('Header', None, _map(_slice(_STR))), ('Method', None, _STR),
        ('CheckRestart', 'check_restart', _ptr(_struct('CheckRestart'))),
        ('GRPCService', 'grpc_service', _STR), ('GRPCUseTLS', 'grpc_use_tls', _BOOL),
    ],
    'CheckRestart': [('Limit', 'limit', _INT), ('Grace', 'grace', _ptr(_DUR)),
                     ('IgnoreWarnings', 'ignore_warnings', _BOOL)],
}


def _zero(kind, structs=None):
    if isinstance(kind, tuple):
        if kind[0] == 'struct':
            return new_struct(kind[1], structs=structs)
        return None
    if kind == _STR:
        return ''
    if kind == _BOOL:
        return False
    if kind == 'any':
        return None
    return 0


def new_struct(name, structs=None, **values):
    """An API struct as Go's JSON encoder writes a zero value: pointers,
    slices and maps ``None``, strings ``''``, numbers ``0``. ``structs`` is
    the schema table (default: Nomad 0.9.1's ``STRUCTS``; the HCL2 parser
    passes its Nomad 1.1.0 table)."""
    table = STRUCTS if structs is None else structs
    out = dict((field, _zero(kind, structs)) for field, _tag, kind in table[name])
    for key, value in values.items():
        if key not in out:
            raise KeyError('%s has no field %s' % (name, key))
        out[key] = value
    return out


def _convert(value, kind, name, hook):
    """mapstructure's weakly typed decode of one HCL value into ``kind``."""
    if isinstance(kind, tuple):
        tag = kind[0]
        if tag == 'ptr':
            return _convert(value, kind[1], name, hook)
        if tag == 'slice':
            if isinstance(value, list):
                return [_convert(v, kind[1], '%s[%d]' % (name, i), hook) for i, v in enumerate(value)]
            if isinstance(value, dict) and not value:
                return []
            raise _DecodeError(name, "'%s': source data must be an array or slice, got %s" % (name, _go_kind(value)))
        if tag == 'map':
            if isinstance(value, dict):
                return dict((k, _convert(v, kind[1], '%s[%s]' % (name, k), hook)) for k, v in value.items())
            if isinstance(value, list) and not value:
                return {}
            raise _DecodeError(name, "'%s' expected a map, got '%s'" % (name, _go_kind(value)))
        if tag == 'struct':
            if not isinstance(value, dict):
                raise _DecodeError(name, "'%s' expected a map, got '%s'" % (name, _go_kind(value)))
            return decode_struct(value, kind[1], hook, prefix=name)
        raise AssertionError(kind)
    if kind == 'any':
        return value
    if kind == _DUR and hook and isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise _DecodeError(name, "'%s': %s" % (name, exc))
    if kind == _STR:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return '1' if value else '0'
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return _format_go_float(value)
        raise _DecodeError(name, "'%s' expected type 'string', got unconvertible type '%s'" % (name, go_type(value)))
    if kind == _BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return value != 0
        if isinstance(value, str):
            if value == '':
                return False
            try:
                return _parse_go_bool(value)
            except ValueError as exc:
                raise _DecodeError(name, "cannot parse '%s' as bool: %s" % (name, exc))
        raise _DecodeError(name, "'%s' expected type 'bool', got unconvertible type '%s'" % (name, go_type(value)))
    if kind in _INT_BITS:
        bits, signed = _INT_BITS[kind]
        go_name = {'duration': 'time.Duration'}.get(kind, kind)
        if isinstance(value, bool):
            return 1 if value else 0
        if isinstance(value, int):
            return _wrap(value, kind)
        if isinstance(value, float):
            return _wrap(int(value), kind)
        if isinstance(value, str):
            try:
                return _parse_go_int(value, bits, signed)
            except ValueError as exc:
                raise _DecodeError(name, "cannot parse '%s' as %s: %s" % (name, 'int' if signed else 'uint', exc))
        raise _DecodeError(name, "'%s' expected type '%s', got unconvertible type '%s'"
                           % (name, go_name, go_type(value)))
    raise AssertionError(kind)


def decode_struct(m, name, hook=False, into=None, prefix=''):
    """mapstructure.WeakDecode of the map ``m`` into the API struct ``name``
    (``hook``: durations may be strings such as ``"10s"``). Keys that match
    no field are ignored, as in Nomad; the callers reject unknown keys."""
    out = into if into is not None else new_struct(name)
    keys = list(m)
    for field, tag, kind in STRUCTS[name]:
        wanted = tag or field
        key = wanted if wanted in m else next((k for k in keys if k.lower() == wanted.lower()), None)
        if key is None or m[key] is None:
            continue
        out[field] = _convert(m[key], kind, ('%s.%s' % (prefix, key)) if prefix else key, hook)
    return out


# ---------------------------------------------------------------- the parser

_JOB_KEYS = ('all_at_once', 'constraint', 'affinity', 'spread', 'datacenters', 'group', 'id', 'meta', 'migrate',
             'name', 'namespace', 'parameterized', 'periodic', 'priority', 'region', 'reschedule', 'task', 'type',
             'update', 'vault', 'vault_token')
_GROUP_KEYS = ('count', 'constraint', 'affinity', 'restart', 'meta', 'task', 'ephemeral_disk', 'update',
               'reschedule', 'vault', 'migrate', 'spread')
_TASK_KEYS = ('artifact', 'config', 'constraint', 'affinity', 'dispatch_payload', 'driver', 'env', 'kill_timeout',
              'leader', 'logs', 'meta', 'resources', 'service', 'shutdown_delay', 'template', 'user', 'vault',
              'kill_signal')
_CONSTRAINT_KEYS = ('attribute', 'distinct_hosts', 'distinct_property', 'operator', 'regexp', 'set_contains',
                    'value', 'version')
_AFFINITY_KEYS = ('attribute', 'operator', 'regexp', 'set_contains', 'set_contains_any', 'set_contains_all',
                  'value', 'version', 'weight')
_UPDATE_KEYS = ('stagger', 'max_parallel', 'health_check', 'min_healthy_time', 'healthy_deadline',
                'progress_deadline', 'auto_revert', 'canary')
_MIGRATE_KEYS = ('max_parallel', 'health_check', 'min_healthy_time', 'healthy_deadline')
_TEMPLATE_KEYS = ('change_mode', 'change_signal', 'data', 'destination', 'left_delimiter', 'perms',
                  'right_delimiter', 'source', 'splay', 'env', 'vault_grace')
_SERVICE_KEYS = ('name', 'tags', 'canary_tags', 'port', 'check', 'address_mode', 'check_restart')
_CHECK_KEYS = ('name', 'type', 'interval', 'timeout', 'path', 'protocol', 'port', 'command', 'args',
               'initial_status', 'tls_skip_verify', 'header', 'method', 'check_restart', 'address_mode',
               'grpc_service', 'grpc_use_tls')
_RESOURCES_KEYS = ('cpu', 'iops', 'disk', 'memory', 'network', 'device')


class _Parser:
    def __init__(self, filename):
        self.filename = filename

    # -- common steps ----------------------------------------------------

    def fail(self, problem, path, node=None):
        line = getattr(node, 'line', None)
        column = getattr(node, 'column', None)
        raise JobspecError(problem, path, self.filename, line, column)

    def body(self, item, path, what):
        """The ObjectList inside ``item``'s braces."""
        if not isinstance(item.val, ObjectType):
            self.fail('%s: should be an object' % what, path, item)
        return item.val.list

    def check_keys(self, item, valid, path, what=None):
        if not isinstance(item.val, ObjectType):
            self.fail('%s should be a block or a map, not a single value' % (what or 'this'), path, item)
        bad = [i for i in item.val.list.items if i.keys[0].value not in valid]
        if bad:
            names = ', '.join(i.keys[0].value for i in bad)
            self.fail('invalid key%s: %s' % ('s' if len(bad) > 1 else '', names), path, bad[0].keys[0])

    def decode_map(self, item, path, what, skip=()):
        """Nomad's ``hcl.DecodeObject(&m, o.Val)``: a block body as a dict.
        Keys in ``skip`` (the blocks parsed on their own, which Nomad
        deletes from the map) are never decoded, to save the work."""
        if not isinstance(item.val, ObjectType):
            self.fail('%s should be a block or a map, not a single value' % what, path, item)
        if not skip:
            return hcl_decode(item.val)
        return hcl_decode(ObjectList([i for i in item.val.list.items if i.keys[0].value not in skip]))

    def decode(self, m, struct, item, path, hook=False, into=None):
        try:
            return decode_struct(m, struct, hook, into)
        except _DecodeError as exc:
            self.fail(exc.message, path, self.key_node(item, exc.key))

    def convert(self, value, kind, key, item, path):
        try:
            return _convert(value, kind, key, False)
        except _DecodeError as exc:
            self.fail(exc.message, path, self.key_node(item, exc.key))

    @staticmethod
    def key_node(item, key):
        """The node to blame for ``key`` (``count``, ``meta[x]``...)."""
        base = re.split(r'[.\[]', key or '', 1)[0]
        if isinstance(getattr(item, 'val', None), ObjectType):
            for inner in item.val.list.items:
                if inner.keys[0].value == base:
                    return inner
        return item

    def single(self, found, name, path, message=None):
        """The one unlabelled block of a kind that may appear once."""
        elems = found.elem()
        if len(elems.items) > 1:
            self.fail(message or "only one '%s' block allowed" % name, path, elems.items[1])
        if not elems.items:
            # Nomad 0.9.1 crashes on a labelled block here; say what is wrong instead.
            self.fail("'%s' block takes no label" % name, path, found.items[0])
        return elems.items[0]

    def string_map(self, found, path, what, into=None):
        """meta/env blocks: merged, every value weakly turned into a string."""
        out = into
        for item in found.elem().items:
            m = self.decode_map(item, path, what)
            out = dict(out or {})
            for key, value in m.items():
                out[key] = self.convert(value, _STR, key, item, path)
        return out

    # -- job -------------------------------------------------------------

    def parse(self, text):
        try:
            root = hcl_parse(text, self.filename)
        except HCLError as exc:
            raise JobspecError('error parsing: %s' % exc.message, (), self.filename, exc.line, exc.column)
        bad = [i for i in root.items if i.keys[0].value != 'job']
        if bad:
            self.fail('invalid key: %s' % bad[0].keys[0].value, (), bad[0])
        matches = root.filter('job')
        if not matches.items:
            self.fail("'job' stanza not found", ())
        if len(matches.items) != 1:
            self.fail("only one 'job' block allowed", (), matches.items[1])
        named = matches.children()
        if len(named.items) != 1:
            self.fail("'job' block missing name", (), matches.items[0])
        return self.job(named.items[0])

    def job(self, item):
        job_id = item.keys[0].value
        path = ('job',)
        self.check_keys(item, _JOB_KEYS, path, "job '%s'" % job_id)
        body = item.val.list
        # group and task match no field of the job; Nomad ignores them here.
        m = self.decode_map(item, path, 'job', skip=('constraint', 'affinity', 'meta', 'migrate', 'parameterized',
                                                     'periodic', 'reschedule', 'update', 'vault', 'spread',
                                                     'group', 'task'))
        job = new_struct('Job', ID=job_id, Name=job_id)
        self.decode(m, 'Job', item, path, into=job)

        found = body.filter('constraint')
        if found.items:
            job['Constraints'] = self.constraints(found, path + ('constraint',))
        found = body.filter('affinity')
        if found.items:
            job['Affinities'] = self.affinities(found, path + ('affinity',))
        found = body.filter('update')
        if found.items:
            job['Update'] = self.strategy(found, 'update', 'UpdateStrategy', _UPDATE_KEYS, path + ('update',))
        found = body.filter('periodic')
        if found.items:
            job['Periodic'] = self.periodic(found, path + ('periodic',))
        found = body.filter('spread')
        if found.items:
            job['Spreads'] = self.spreads(found, path + ('spread',))
        found = body.filter('parameterized')
        if found.items:
            job['ParameterizedJob'] = self.parameterized(found, path + ('parameterized',))
        found = body.filter('reschedule')
        if found.items:
            job['Reschedule'] = self.policy(found, 'reschedule', 'ReschedulePolicy',
                                            ('attempts', 'interval', 'unlimited', 'delay', 'max_delay',
                                             'delay_function'), path + ('reschedule',))
        found = body.filter('migrate')
        if found.items:
            job['Migrate'] = self.strategy(found, 'migrate', 'MigrateStrategy', _MIGRATE_KEYS, path + ('migrate',))
        found = body.filter('meta')
        if found.items:
            job['Meta'] = self.string_map(found, path + ('meta',), 'meta', job['Meta'])

        # Tasks written directly in the job each get a group of their own.
        found = body.filter('task')
        if found.items:
            groups = []
            for task in self.tasks(found, ()) or []:
                group = new_struct('TaskGroup', Name=task['Name'], Tasks=[task])
                groups.append(group)
            job['TaskGroups'] = groups

        found = body.filter('group')
        groups = self.groups(found) if found.items else None
        if groups:
            job['TaskGroups'] = (job['TaskGroups'] or []) + groups

        found = body.filter('vault')
        if found.items:
            vault = self.vault(found, path + ('vault',))
            for group in job['TaskGroups'] or []:
                for task in group['Tasks'] or []:
                    if task['Vault'] is None:
                        task['Vault'] = copy.deepcopy(vault)
        return job

    def groups(self, found):
        out = []
        seen = set()
        for item in found.children().items:
            name = item.keys[0].value
            path = ("group '%s'" % name,)
            if name in seen:
                self.fail("group '%s' defined more than once" % name, (), item)
            seen.add(name)
            body = self.body(item, (), "group '%s'" % name)
            self.check_keys(item, _GROUP_KEYS, path)
            # reschedule matches no field of the group; Nomad ignores it here.
            m = self.decode_map(item, path, 'group', skip=('constraint', 'affinity', 'meta', 'task', 'restart',
                                                           'ephemeral_disk', 'update', 'vault', 'migrate', 'spread',
                                                           'reschedule'))
            group = new_struct('TaskGroup', Name=name)
            self.decode(m, 'TaskGroup', item, path, into=group)

            found_ = body.filter('constraint')
            if found_.items:
                group['Constraints'] = self.constraints(found_, path + ('constraint',))
            found_ = body.filter('affinity')
            if found_.items:
                group['Affinities'] = self.affinities(found_, path + ('affinity',))
            found_ = body.filter('restart')
            if found_.items:
                group['RestartPolicy'] = self.policy(found_, 'restart', 'RestartPolicy',
                                                     ('attempts', 'interval', 'delay', 'mode'), path + ('restart',))
            found_ = body.filter('spread')
            if found_.items:
                group['Spreads'] = self.spreads(found_, path + ('spread',))
            found_ = body.filter('reschedule')
            if found_.items:
                group['ReschedulePolicy'] = self.policy(found_, 'reschedule', 'ReschedulePolicy',
                                                        ('attempts', 'interval', 'unlimited', 'delay', 'max_delay',
                                                         'delay_function'), path + ('reschedule',))
            found_ = body.filter('ephemeral_disk')
            if found_.items:
                group['EphemeralDisk'] = self.ephemeral_disk(found_, path + ('ephemeral_disk',))
            found_ = body.filter('update')
            if found_.items:
                group['Update'] = self.strategy(found_, 'update', 'UpdateStrategy', _UPDATE_KEYS, path + ('update',))
            found_ = body.filter('migrate')
            if found_.items:
                group['Migrate'] = self.strategy(found_, 'migrate', 'MigrateStrategy', _MIGRATE_KEYS,
                                                 path + ('migrate',))
            found_ = body.filter('meta')
            if found_.items:
                group['Meta'] = self.string_map(found_, path + ('meta',), 'meta', group['Meta'])
            found_ = body.filter('task')
            if found_.items:
                group['Tasks'] = self.tasks(found_, path)
            found_ = body.filter('vault')
            if found_.items:
                vault = self.vault(found_, path + ('vault',))
                for task in group['Tasks'] or []:
                    if task['Vault'] is None:
                        task['Vault'] = copy.deepcopy(vault)
            out.append(group)
        return out

    # -- task ------------------------------------------------------------

    def tasks(self, found, group_path):
        """The labelled tasks (Nomad skips unlabelled ones), or None if none."""
        if not found.children().items:
            return None
        out = []
        seen = set()
        # Static ports are shared by the whole group; a task written at
        # job level is a group of its own.
        static_ports = {}
        for item in found.children().items:
            name = item.keys[0].value
            path = group_path + ("task '%s'" % name,)
            if name in seen:
                self.fail("task '%s' defined more than once" % name, group_path, item)
            seen.add(name)
            body = self.body(item, group_path, "task '%s'" % name)
            self.check_keys(item, _TASK_KEYS, path)
            m = self.decode_map(item, path, 'task', skip=('artifact', 'config', 'constraint', 'affinity',
                                                          'dispatch_payload', 'env', 'logs', 'meta', 'resources',
                                                          'service', 'template', 'vault'))
            task = new_struct('Task', Name=name)
            self.decode(m, 'Task', item, path, hook=True, into=task)

            found_ = body.filter('env')
            if found_.items:
                task['Env'] = self.string_map(found_, path + ('env',), 'env', task['Env'])
            found_ = body.filter('service')
            if found_.items:
                task['Services'] = self.services(found_, path)
            found_ = body.filter('config')
            if found_.items:
                for cfg in found_.elem().items:
                    m = self.decode_map(cfg, path + ('config',), 'config')
                    task['Config'] = dict(task['Config'] or {})
                    task['Config'].update(m)
            found_ = body.filter('constraint')
            if found_.items:
                task['Constraints'] = self.constraints(found_, path + ('constraint',))
            found_ = body.filter('affinity')
            if found_.items:
                task['Affinities'] = self.affinities(found_, path + ('affinity',))
            found_ = body.filter('meta')
            if found_.items:
                task['Meta'] = self.string_map(found_, path + ('meta',), 'meta', task['Meta'])
            found_ = body.filter('resources')
            if found_.items:
                task['Resources'] = self.resources(found_, path, name, static_ports if group_path else {})
            found_ = body.filter('logs')
            if found_.items:
                if len(found_.items) > 1:
                    self.fail('only one logs block is allowed in a Task. Number of logs block found: %d'
                              % len(found_.items), path, found_.items[1])
                logs = found_.items[0]
                self.check_keys(logs, ('max_files', 'max_file_size'), path + ('logs',), 'logs')
                m = self.decode_map(logs, path + ('logs',), 'logs')
                task['LogConfig'] = self.decode(m, 'LogConfig', logs, path + ('logs',))
            found_ = body.filter('artifact')
            if found_.items:
                task['Artifacts'] = self.artifacts(found_, path + ('artifact',))
            found_ = body.filter('template')
            if found_.items:
                task['Templates'] = self.templates(found_, path + ('template',))
            found_ = body.filter('vault')
            if found_.items:
                task['Vault'] = self.vault(found_, path + ('vault',))
            found_ = body.filter('dispatch_payload')
            if found_.items:
                if len(found_.items) > 1:
                    self.fail('only one dispatch_payload block is allowed in a task. Number of dispatch_payload '
                              'blocks found: %d' % len(found_.items), path, found_.items[1])
                block = found_.items[0]
                self.check_keys(block, ('file',), path + ('dispatch_payload',), 'dispatch_payload')
                m = self.decode_map(block, path + ('dispatch_payload',), 'dispatch_payload')
                task['DispatchPayload'] = self.decode(m, 'DispatchPayloadConfig', block, path + ('dispatch_payload',))
            out.append(task)
        return out

    def resources(self, found, task_path, task_name, static_ports):
        path = task_path + ('resources',)
        result = new_struct('Resources')
        elems = found.elem()
        if not elems.items:
            return result
        if len(elems.items) > 1:
            self.fail("only one 'resource' block allowed per task", task_path, elems.items[1])
        item = elems.items[0]
        body = self.body(item, task_path, 'resource')
        self.check_keys(item, _RESOURCES_KEYS, path)
        m = self.decode_map(item, path, 'resources', skip=('network', 'device'))
        self.decode(m, 'Resources', item, path, into=result)

        networks = body.filter('network')
        if networks.items:
            if len(networks.items) > 1:
                self.fail("only one 'network' resource allowed", path, networks.items[1])
            net = networks.items[0]
            net_path = path + ('network',)
            self.check_keys(net, ('mbits', 'port'), net_path, 'network')
            m = self.decode_map(net, net_path, 'network', skip=('port',))
            network = self.decode(m, 'NetworkResource', net, net_path)
            self.ports(net.val.list, network, net_path, task_name, static_ports)
            result['Networks'] = [network]

        devices = body.filter('device')
        if devices.items:
            result['Devices'] = []
            for idx, dev in enumerate(devices.items):
                dev_path = path + ('device[%d]' % idx,)
                if not dev.keys:
                    self.fail('missing device name', dev_path, dev)
                if len(dev.keys) > 1:
                    self.fail('only one name may be specified', dev_path, dev)
                name = dev.keys[0].value
                dev_path = path + ("device '%s'" % name,)
                dev_body = self.body(dev, dev_path, 'device')
                self.check_keys(dev, ('name', 'count', 'affinity', 'constraint'), dev_path, 'device')
                m = self.decode_map(dev, dev_path, 'device', skip=('constraint', 'affinity'))
                device = new_struct('RequestedDevice', Name=name)
                self.decode(m, 'RequestedDevice', dev, dev_path, into=device)
                found_ = dev_body.filter('constraint')
                if found_.items:
                    device['Constraints'] = self.constraints(found_, dev_path + ('constraint',))
                found_ = dev_body.filter('affinity')
                if found_.items:
                    device['Affinities'] = self.affinities(found_, dev_path + ('affinity',))
                result['Devices'].append(device)
        return result

    def ports(self, net_body, network, net_path, task_name, static_ports):
        known = set()
        for port in net_body.filter('port').items:
            if not port.keys:
                self.fail('ports must be named', net_path, port)
            label = port.keys[0].value
            port_path = net_path + ("port '%s'" % label,)
            if not PORT_LABEL_RE.match(label):
                self.fail(PORT_LABEL_MESSAGE, port_path, port.keys[0])
            lower = label.lower()
            if lower in known:
                self.fail('found a port label collision: %s' % label, port_path, port.keys[0])
            m = self.decode_map(port, port_path, 'port')
            value = self.decode(m, 'Port', port, port_path)
            value['Label'] = label
            if value['Value'] > 0:
                # Nomad checks this when the job is registered; we catch it offline.
                other = static_ports.get(value['Value'])
                if other is not None:
                    self.fail('Static port %d already reserved by %s' % (value['Value'], other), port_path,
                              self.key_node(port, 'static'))
                static_ports[value['Value']] = '%s:%s' % (task_name, label)
                network['ReservedPorts'] = (network['ReservedPorts'] or []) + [value]
            else:
                network['DynamicPorts'] = (network['DynamicPorts'] or []) + [value]
            known.add(lower)

    def services(self, found, task_path):
        out = []
        for idx, item in enumerate(found.items):
            self.check_keys(item, _SERVICE_KEYS, task_path + ('service (%d)' % idx,), 'service')
            m = self.decode_map(item, task_path + ('service',), 'service', skip=('check', 'check_restart'))
            service = self.decode(m, 'Service', item, task_path + ('service (%d)' % idx,))
            path = task_path + ("service '%s'" % service['Name'],)
            body = item.val.list
            checks = body.filter('check')
            if checks.items:
                service['Checks'] = [self.check(c, path + ('check',)) for c in checks.items]
            restarts = body.filter('check_restart')
            if restarts.items:
                if len(restarts.items) > 1:
                    self.fail("check_restart '%s': cannot have more than 1 check_restart" % service['Name'], path,
                              restarts.items[1])
                service['CheckRestart'] = self.check_restart(restarts.items[0], path + ('check_restart',))
            out.append(service)
        return out

    def check(self, item, path):
        self.check_keys(item, _CHECK_KEYS, path, 'check')
        m = self.decode_map(item, path, 'check', skip=('check_restart',))
        check = new_struct('ServiceCheck')
        if 'header' in m:
            header_node = self.key_node(item, 'header')
            raw = m.pop('header')
            if not (isinstance(raw, list) and all(isinstance(x, dict) for x in raw)):
                self.fail('header -> expected a []map[string][]string but found %s' % go_type(raw), path,
                          header_node)
            header = {}
            for block in raw:
                for key, values in block.items():
                    if not isinstance(values, list):
                        self.fail('header -> %s expected a []string but found %s' % (_go_quote(key), go_type(values)),
                                  path, header_node)
                    for value in values:
                        if not isinstance(value, str):
                            self.fail('header -> %s expected a string but found %s'
                                      % (_go_quote(key), go_type(value)), path, header_node)
                        header.setdefault(key, []).append(value)
            check['Header'] = header
        self.decode(m, 'ServiceCheck', item, path, hook=True, into=check)
        restarts = item.val.list.filter('check_restart')
        if restarts.items:
            if len(restarts.items) > 1:
                self.fail("check_restart '%s': cannot have more than 1 check_restart" % check['Name'], path,
                          restarts.items[1])
            check['CheckRestart'] = self.check_restart(restarts.items[0], path + ('check_restart',))
        return check

    def check_restart(self, item, path):
        self.check_keys(item, ('limit', 'grace', 'ignore_warnings'), path, 'check_restart')
        m = self.decode_map(item, path, 'check_restart')
        return self.decode(m, 'CheckRestart', item, path, hook=True)

    def artifacts(self, found, path):
        out = []
        for item in found.elem().items:
            self.check_keys(item, ('source', 'options', 'mode', 'destination'), path, 'artifact')
            m = self.decode_map(item, path, 'artifact', skip=('options',))
            artifact = self.decode(m, 'TaskArtifact', item, path)
            options = item.val.list.filter('options')
            if options.items:
                opt = self.single(options, 'options', path + ('options',),
                                  "only one 'options' block allowed per artifact")
                m = self.decode_map(opt, path + ('options',), 'options')
                artifact['GetterOptions'] = self.convert(m, _map(_STR), 'options', opt, path + ('options',))
            out.append(artifact)
        return out

    def templates(self, found, path):
        out = []
        for item in found.elem().items:
            self.check_keys(item, _TEMPLATE_KEYS, path, 'template')
            m = self.decode_map(item, path, 'template')
            template = new_struct('Template', ChangeMode='restart', Splay=5 * 1000000000, Perms='0644')
            out.append(self.decode(m, 'Template', item, path, hook=True, into=template))
        return out

    def vault(self, found, path):
        vault = new_struct('Vault', Env=True, ChangeMode='restart')
        elems = found.elem()
        if not elems.items:
            return vault
        if len(elems.items) > 1:
            self.fail("only one 'vault' block allowed per task", path, elems.items[1])
        item = elems.items[0]
        self.check_keys(item, ('policies', 'env', 'change_mode', 'change_signal'), path, 'vault')
        m = self.decode_map(item, path, 'vault')
        return self.decode(m, 'Vault', item, path, into=vault)

    # -- placement ---------------------------------------------------------

    def constraints(self, found, path):
        out = []
        for item in found.elem().items:
            self.check_keys(item, _CONSTRAINT_KEYS, path, 'constraint')
            m = self.decode_map(item, path, 'constraint')
            m['LTarget'] = m.get('attribute')
            m['RTarget'] = m.get('value')
            m['Operand'] = m.get('operator')
            for operand in ('version', 'regexp', 'set_contains'):
                if operand in m:
                    m['Operand'] = operand
                    m['RTarget'] = m[operand]
            if 'distinct_hosts' in m:
                enabled = self.go_bool(m['distinct_hosts'], 'distinct_hosts should be set to true or false; %s',
                                       item, path, 'distinct_hosts')
                if not enabled:
                    continue
                m['Operand'] = 'distinct_hosts'
            if 'distinct_property' in m:
                m['Operand'] = 'distinct_property'
                m['LTarget'] = m['distinct_property']
            constraint = self.decode(m, 'Constraint', item, path)
            if constraint['Operand'] == '':
                constraint['Operand'] = '='
            out.append(constraint)
        return out

    def affinities(self, found, path):
        out = []
        for item in found.elem().items:
            self.check_keys(item, _AFFINITY_KEYS, path, 'affinity')
            m = self.decode_map(item, path, 'affinity')
            m['LTarget'] = m.get('attribute')
            m['RTarget'] = m.get('value')
            m['Operand'] = m.get('operator')
            for operand in ('version', 'regexp', 'set_contains_any', 'set_contains_all', 'set_contains'):
                if operand in m:
                    m['Operand'] = operand
                    m['RTarget'] = m[operand]
            affinity = self.decode(m, 'Affinity', item, path)
            if affinity['Operand'] == '':
                affinity['Operand'] = '='
            out.append(affinity)
        return out

    def spreads(self, found, path):
        out = []
        for item in found.elem().items:
            self.check_keys(item, ('attribute', 'weight', 'target'), path, 'spread')
            m = self.decode_map(item, path, 'spread', skip=('target',))
            spread = self.decode(m, 'Spread', item, path)
            targets = item.val.list.filter('target')
            if targets.items:
                seen = set()
                spread['SpreadTarget'] = []
                for target in targets.items:
                    if len(target.keys) != 1:
                        self.fail('missing spread target', path + ('target',), target)
                    name = target.keys[0].value
                    tpath = path + ("target '%s'" % name,)
                    if name in seen:
                        self.fail("target '%s' defined more than once" % name, path + ('target',), target)
                    seen.add(name)
                    self.body(target, path + ('target',), 'target')
                    self.check_keys(target, ('percent', 'value'), tpath, 'target')
                    m = self.decode_map(target, tpath, 'target')
                    spread['SpreadTarget'].append(
                        self.decode(m, 'SpreadTarget', target, tpath, into=new_struct('SpreadTarget', Value=name)))
            out.append(spread)
        return out

    # -- job and group policies ------------------------------------------

    def strategy(self, found, name, struct, valid, path):
        item = self.single(found, name, path)
        self.check_keys(item, valid, path, name)
        m = self.decode_map(item, path, name)
        return self.decode(m, struct, item, path, hook=True)

    def policy(self, found, name, struct, valid, path):
        return self.strategy(found, name, struct, valid, path)

    def ephemeral_disk(self, found, path):
        item = self.single(found, 'ephemeral_disk', path)
        self.check_keys(item, ('sticky', 'size', 'migrate'), path, 'ephemeral_disk')
        m = self.decode_map(item, path, 'ephemeral_disk')
        return self.decode(m, 'EphemeralDisk', item, path)

    def periodic(self, found, path):
        item = self.single(found, 'periodic', path, "only one 'periodic' block allowed per job")
        self.check_keys(item, ('enabled', 'cron', 'prohibit_overlap', 'time_zone'), path, 'periodic')
        m = self.decode_map(item, path, 'periodic')
        if 'enabled' in m:
            m['Enabled'] = self.go_bool(m['enabled'], 'periodic.enabled should be set to true or false; %s',
                                        item, path, 'enabled')
        if 'cron' in m:
            m['SpecType'] = 'cron'
            m['Spec'] = m['cron']
        return self.decode(m, 'PeriodicConfig', item, path)

    def parameterized(self, found, path):
        item = self.single(found, 'parameterized', path, "only one 'parameterized' block allowed per job")
        self.check_keys(item, ('payload', 'meta_required', 'meta_optional'), path, 'parameterized')
        m = self.decode_map(item, path, 'parameterized')
        return self.decode(m, 'ParameterizedJobConfig', item, path)

    def go_bool(self, value, message, item, path, key):
        """Nomad's parseBool: a bool or a string strconv.ParseBool accepts."""
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return _parse_go_bool(value)
            except ValueError as exc:
                self.fail(message % exc, path, self.key_node(item, key))
        shown = _format_go_float(value) if isinstance(value, float) else value
        if isinstance(value, (list, dict)):
            shown = json.dumps(value)
        self.fail(message % ("%s couldn't be converted to boolean value" % shown), path, self.key_node(item, key))


def parse_jobspec(text, filename=None):
    """Parse a Nomad 0.9 HCL job file into the API job (the value under
    ``"Job"`` in ``nomad job run -output``). Raises :class:`JobspecError`."""
    return _Parser(filename).parse(job_text(text, filename))


def job_text(text, filename=None):
    """A job file's content as text, whichever dialect reads it."""
    if isinstance(text, bytes):
        try:
            text = text.decode('utf-8')
        except UnicodeDecodeError as exc:
            raise JobspecError('job file is not UTF-8: %s' % exc, (), filename)
    if not isinstance(text, str):
        raise JobspecError('job file must be text, got %s' % type(text).__name__, (), filename)
    return text


def strip_empty(value):
    """The conformance comparison rule: drop ``None``, ``''``, ``[]`` and
    ``{}`` recursively (a dict left empty is dropped too); ``0`` and
    ``False`` stay, and list positions are kept."""
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            inner = strip_empty(inner)
            if not _is_empty(inner):
                out[key] = inner
        return out
    if isinstance(value, list):
        return [strip_empty(v) for v in value]
    return value


def _is_empty(value):
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def is_json_job(text, filename=None):
    """A job file in JSON (the API form) rather than HCL, as `nomad job run`
    tells them apart: by the .json extension, or by a leading brace."""
    return (filename or '').lower().endswith('.json') or (text or '').lstrip().startswith('{')
