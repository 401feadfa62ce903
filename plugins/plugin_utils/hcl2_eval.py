# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HCL2 native syntax, read and evaluated the way Nomad 1.1.0 does it.

Nomad 1.1.0 parses job files with HashiCorp's hclsyntax (a fork of hcl
v2.9.1) and evaluates them with go-cty v1.8.0. This module reproduces the
parts a job file can reach: the syntax (through python-hcl2's Lark grammar,
which we lower to a small AST with source ranges), expression evaluation with
hclsyntax's diagnostics, cty's type conversions, and the function table of
Nomad's ``jobspec2/functions.go``.

Values are plain Python: ``str``, ``bool``, ``int``/``Decimal`` for numbers,
``None`` for null, ``list`` for tuples and ``dict`` for objects. A value
converted to a list, set or map type is a ``CtyList``/``CtySet``/``CtyMap``,
which remembers its element type, because cty treats those differently from
tuples and objects in a few places (unification, ``-var`` parsing).

Controller side only: it needs python-hcl2 and lark.
"""

from __future__ import annotations

# Exact type checks on purpose: HCL's bool is not a number, but Python's bool is an int.
# pylint: disable=unidiomatic-typecheck

import base64
import bisect
import csv
import hashlib
import io
import ipaddress
import json
import math
import os
import re
import unicodedata
import urllib.parse
import uuid
from decimal import Context, Decimal, InvalidOperation

from ansible_collections.nomadops.nomad.plugins.module_utils.go import parse_duration

try:
    from hcl2.parser import parser as hcl2_lark_parser
    from lark import Token, Tree
    from lark.exceptions import UnexpectedCharacters, UnexpectedInput
    HAS_HCL2 = True
    HCL2_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - depends on the controller
    HAS_HCL2 = False
    HCL2_IMPORT_ERROR = _exc

__all__ = ['HAS_HCL2', 'Diag', 'Source', 'Ctx', 'parse_config', 'parse_expression', 'parse_type', 'convert', 'ConvertError',
           'implied_type', 'friendly_name', 'to_interface', 'format_number', 'from_json', 'CtyList', 'CtyMap',
           'CtySet', 'STRING', 'NUMBER', 'BOOL', 'ANY']

# cty numbers are 512-bit floats; 155 significant digits keep the same
# precision for the arithmetic a job file does.
_DEC = Context(prec=155)


# ---------------------------------------------------------------- sources and diagnostics

class Source:
    """A text and its name, to turn character offsets into hcl.Pos."""

    __slots__ = ('text', 'filename', '_starts')

    def __init__(self, text, filename):
        self.text = text
        self.filename = filename or ''
        self._starts = None

    def pos(self, offset):
        if self._starts is None:
            self._starts = [0] + [m.end() for m in re.finditer('\n', self.text)]
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1

    def range_text(self, start, end):
        """hcl.Range.String(): ``name:L,C-C`` (Nomad prints base names)."""
        name = os.path.basename(self.filename)
        line, col = self.pos(start)
        end_line, end_col = self.pos(end)
        if line == end_line:
            return '%s:%d,%d-%d' % (name, line, col, end_col)
        return '%s:%d,%d-%d,%d' % (name, line, col, end_line, end_col)


class Diag(Exception):
    """One error diagnostic, with hclsyntax's summary and detail. ``rng`` is
    ``(source, start, end)`` or None when Nomad gives no position."""

    def __init__(self, summary, detail, rng=None, zero=False):
        self.summary = summary
        self.detail = detail
        self.rng = rng
        # Nomad prints ":0,0-0:" for a subject with an empty range (a -var
        # value taken literally), "<nil>:" for no subject at all.
        self.zero = zero
        self.context = None
        self.context_file = None
        super().__init__(str(self))

    @property
    def message(self):
        return '%s; %s' % (self.summary, self.detail)

    def position(self):
        """(filename, line, column) of the subject, or (None, None, None)."""
        if not self.rng:
            return None, None, None
        src, start, _end = self.rng
        line, col = src.pos(start)
        return src.filename, line, col

    def __str__(self):
        # Nomad's own line: "FILE:LINE,COL-COL: Summary; Detail".
        if not self.rng:
            return '%s: %s' % (':0,0-0' if self.zero else '<nil>', self.message)
        src, start, end = self.rng
        return '%s: %s' % (src.range_text(start, end), self.message)


# ---------------------------------------------------------------- types

STRING, NUMBER, BOOL, ANY = 'string', 'number', 'bool', 'any'
_PRIMITIVES = (STRING, NUMBER, BOOL)


class CtyList(list):
    __slots__ = ('ety',)

    def __init__(self, items=(), ety=ANY):
        super().__init__(items)
        self.ety = ety


class CtySet(list):
    __slots__ = ('ety',)

    def __init__(self, items=(), ety=ANY):
        super().__init__(items)
        self.ety = ety


class CtyMap(dict):
    __slots__ = ('ety',)

    def __init__(self, items=(), ety=ANY):
        super().__init__(items)
        self.ety = ety


class ConvertError(Exception):
    """A cty conversion failed; the message is cty's."""


def is_number(value):
    return type(value) is int or type(value) is Decimal


def implied_type(value):
    """The cty type of a value (literal lists are tuples, literal maps objects)."""
    kind = type(value)
    if kind is str:
        return STRING
    if kind is bool:
        return BOOL
    if kind is int or kind is Decimal:
        return NUMBER
    if value is None:
        return ANY
    if kind is CtyList:
        return ('list', value.ety)
    if kind is CtySet:
        return ('set', value.ety)
    if kind is CtyMap:
        return ('map', value.ety)
    if isinstance(value, list):
        return ('tuple', tuple(implied_type(v) for v in value))
    if isinstance(value, dict):
        return ('object', tuple(sorted((k, implied_type(v)) for k, v in value.items())))
    raise TypeError('not an HCL value: %r' % (value,))


def friendly_name(typ, constraint=False):
    """cty's FriendlyName / FriendlyNameForConstraint."""
    if typ == ANY:
        return 'any type' if constraint else 'dynamic'
    if typ in _PRIMITIVES:
        return typ
    kind = typ[0]
    if kind in ('list', 'set', 'map'):
        return '%s of %s' % (kind, friendly_name(typ[1], constraint))
    return kind


def _type_kind(typ):
    return typ if isinstance(typ, str) else typ[0]


def format_number(num):
    """big.Float.Text('f', -1): the shortest decimal form, no exponent."""
    if type(num) is int:
        return str(num)
    if num.is_infinite():
        return '-Inf' if num < 0 else '+Inf'
    if num == num.to_integral_value():
        return str(int(num))
    return format(num.normalize(_DEC), 'f')


def _number(value):
    """A number result: ints stay exact, integral decimals become ints."""
    if type(value) is Decimal and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return value


_NUMBER_RE = re.compile(r'^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$')


def parse_number(text):
    """cty.ParseNumberVal (big.ParseFloat, base 10)."""
    if not _NUMBER_RE.match(text):
        raise ConvertError('a number is required')
    try:
        return _number(Decimal(text))
    except InvalidOperation:
        raise ConvertError('a number is required')


def _prim_error(want):
    return ConvertError('%s required' % friendly_name(want, True))


def convert(value, want):
    """convert.Convert(value, want); raises ConvertError with cty's message."""
    if want == ANY or value is None:
        return value
    kind = type(value)
    if want == STRING:
        if kind is str:
            return value
        if kind is bool:
            return 'true' if value else 'false'
        if kind is int or kind is Decimal:
            return format_number(value)
        raise _prim_error(want)
    if want == NUMBER:
        if kind is int or kind is Decimal:
            return value
        if kind is str:
            return parse_number(value)
        raise _prim_error(want)
    if want == BOOL:
        if kind is bool:
            return value
        if kind is str:
            if value in ('true', '1'):
                return True
            if value in ('false', '0'):
                return False
            if value.lower() in ('true', 'false'):
                raise ConvertError('a bool is required; to convert from string, use lowercase "%s"' % value.lower())
            raise ConvertError('a bool is required')
        raise _prim_error(want)
    tag = want[0]
    if tag in ('list', 'set'):
        if not isinstance(value, list):
            raise _prim_error(want)
        ety = want[1]
        items = list(value)
        if ety == ANY:
            if isinstance(value, (CtyList, CtySet)):
                ety = value.ety
            else:
                ety = unify([implied_type(v) for v in items]) if items else ANY
                if ety is None:
                    raise ConvertError('all %s elements must have the same type' % tag)
        items = [convert(v, ety) for v in items]
        if tag == 'set':
            return CtySet(_set_order(items), ety)
        return CtyList(items, ety)
    if tag == 'map':
        if not isinstance(value, dict):
            raise _prim_error(want)
        ety = want[1]
        if ety == ANY:
            if isinstance(value, CtyMap):
                ety = value.ety
            else:
                ety = unify([implied_type(v) for v in value.values()]) if value else ANY
                if ety is None:
                    raise ConvertError('all map elements must have the same type')
        return CtyMap(((k, convert(v, ety)) for k, v in value.items()), ety)
    if tag == 'object':
        if not isinstance(value, dict):
            raise _prim_error(want)
        out = {}
        for name, aty in want[1]:
            if name not in value:
                raise ConvertError('attribute "%s" is required' % name)
            out[name] = convert(value[name], aty)
        return out
    if tag == 'tuple':
        if not isinstance(value, list) or len(value) != len(want[1]):
            raise _prim_error(want)
        return [convert(v, t) for v, t in zip(value, want[1])]
    raise AssertionError(want)


def _set_order(items):
    """cty sets of primitives iterate in sorted order and hold no duplicates."""
    out = []
    for item in items:
        if not any(equal(item, seen) for seen in out):
            out.append(item)
    if all(type(v) is str for v in out):
        out.sort()
    elif all(is_number(v) for v in out):
        out.sort()
    return out


def unify(types):
    """convert.UnifyUnsafe: a type every given type converts to, or None."""
    types = [t for t in types if t != ANY] or [ANY]
    first = types[0]
    if all(t == first for t in types):
        return first
    kinds = set(_type_kind(t) for t in types)
    if kinds <= set(_PRIMITIVES):
        return STRING if STRING in kinds else None
    if kinds <= {'tuple', 'list', 'set'}:
        if kinds == {'tuple'} and len(set(len(t[1]) for t in types)) == 1:
            elems = [unify(list(col)) for col in zip(*[t[1] for t in types])]
            if None not in elems:
                return ('tuple', tuple(elems))
        inner = []
        for t in types:
            inner.extend(t[1] if t[0] == 'tuple' else [t[1]])
        ety = unify(inner) if inner else ANY
        return None if ety is None else ('list', ety)
    if kinds <= {'object', 'map'}:
        if kinds == {'object'} and len(set(tuple(k for k, dummy in t[1]) for t in types)) == 1:
            names = [k for k, dummy in first[1]]
            elems = [unify([dict(t[1])[n] for t in types]) for n in names]
            if None in elems:
                return None
            return ('object', tuple(zip(names, elems)))
        inner = []
        for t in types:
            inner.extend([a for dummy, a in t[1]] if t[0] == 'object' else [t[1]])
        ety = unify(inner) if inner else ANY
        return None if ety is None else ('map', ety)
    return None


def equal(left, right):
    """cty Value.Equals, for known values (types must match in kind)."""
    if left is None or right is None:
        return left is None and right is None
    lk, rk = type(left), type(right)
    if lk is bool or rk is bool:
        return lk is rk and left == right
    if is_number(left) or is_number(right):
        return is_number(left) and is_number(right) and left == right
    if lk is str or rk is str:
        return lk is rk and left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(equal(a, b) for a, b in zip(left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(equal(v, right[k]) for k, v in left.items())
    return False


def to_interface(value):
    """jobspec2's interfaceFromCtyValue: what a map[string]interface{} field
    (task config, scaling policy) holds; whole numbers become ints."""
    if value is None or type(value) is str or type(value) is bool:
        return value
    if type(value) is int:
        if -(1 << 63) <= value < (1 << 63):
            return value
        return float(value)
    if type(value) is Decimal:
        return float(value)
    if isinstance(value, list):
        return [to_interface(v) for v in value]
    return dict((k, to_interface(v)) for k, v in value.items())


def from_python(value):
    """A Python value (from YAML or JSON) as an HCL value.

    Ansible may hand over subclasses of the plain types (ansible-core 2.19
    tags every templated value: _AnsibleTaggedInt, _AnsibleTaggedStr, ...),
    so each value is tested with isinstance and rebuilt as its plain type,
    which the evaluator compares with ``type(...) is``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return _number(Decimal(repr(float(value))))
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [from_python(v) for v in value]
    if isinstance(value, dict):
        return dict((str(k), from_python(v)) for k, v in value.items())
    raise ConvertError('unsupported value of type %s' % type(value).__name__)


def from_json(text):
    """JSON text as HCL values, numbers exact (like hcljson and jsondecode)."""
    return json.loads(text, parse_float=lambda s: _number(Decimal(s)), parse_int=int)


_JSON_ESCAPES = {'<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029'}


def to_json(value):
    """cty's JSON encoding: compact, sorted keys, Go's HTML-safe escapes."""
    if value is None:
        return 'null'
    kind = type(value)
    if kind is bool:
        return 'true' if value else 'false'
    if kind is int or kind is Decimal:
        return format_number(value)
    if kind is str:
        text = json.dumps(value, ensure_ascii=False)
        return re.sub('[<>&\u2028\u2029]', lambda m: _JSON_ESCAPES[m.group(0)], text)
    if isinstance(value, list):
        return '[%s]' % ','.join(to_json(v) for v in value)
    return '{%s}' % ','.join('%s:%s' % (to_json(k), to_json(value[k])) for k in sorted(value))


# ---------------------------------------------------------------- the syntax tree

class Attr:
    __slots__ = ('name', 'expr', 'name_rng', 'rng')

    def __init__(self, name, expr, name_rng, rng):
        self.name, self.expr, self.name_rng, self.rng = name, expr, name_rng, rng


class Block:
    __slots__ = ('type', 'labels', 'label_rngs', 'type_rng', 'body', 'open_rng')

    def __init__(self, type_, labels, label_rngs, type_rng, body, open_rng):
        self.type, self.labels, self.label_rngs = type_, labels, label_rngs
        self.type_rng, self.body, self.open_rng = type_rng, body, open_rng

    @property
    def def_rng(self):
        """DefRange: from the type to the last label."""
        last = self.label_rngs[-1] if self.label_rngs else self.type_rng
        return (self.type_rng[0], self.type_rng[1], last[2])


class Body:
    __slots__ = ('attrs', 'blocks', 'rng')

    def __init__(self, attrs, blocks, rng):
        self.attrs, self.blocks, self.rng = attrs, blocks, rng

    @property
    def missing_rng(self):
        """MissingItemRange: the start of the body."""
        src, start, _end = self.rng
        return (src, start, start)


class Expr:
    __slots__ = ('rng',)

    def start_rng(self):
        return self.rng


class Literal(Expr):
    __slots__ = ('value',)

    def __init__(self, value, rng):
        self.value, self.rng = value, rng

    def value_in(self, ctx):
        return self.value


class Template(Expr):
    """A quoted string or heredoc; parts are Literal, Expr or directives."""
    __slots__ = ('parts',)

    def __init__(self, parts, rng):
        self.parts, self.rng = parts, rng

    def start_rng(self):
        if not self.parts:
            return self.rng
        first = self.parts[0]
        if type(first) is Interp:
            return first.expr.start_rng()
        return first.rng if type(first) is not Literal else first.start_rng()

    def value_in(self, ctx):
        parts = self.parts
        if len(parts) == 1 and type(parts[0]) is Literal:
            return parts[0].value
        out = []
        _render(parts, ctx, out)
        return ''.join(out)


class Interp:
    __slots__ = ('expr',)

    def __init__(self, expr):
        self.expr = expr


class IfDirective:
    __slots__ = ('cond', 'then', 'otherwise', 'rng')

    def __init__(self, cond, rng):
        self.cond, self.then, self.otherwise, self.rng = cond, [], None, rng


class ForDirective:
    __slots__ = ('key_var', 'val_var', 'coll', 'body', 'rng')

    def __init__(self, key_var, val_var, coll, rng):
        self.key_var, self.val_var, self.coll, self.body, self.rng = key_var, val_var, coll, [], rng


def _interp_string(expr, value):
    if value is None:
        raise Diag('Invalid template interpolation value',
                   'The expression result is null. Cannot include a null value in a string template.', expr.rng)
    try:
        return convert(value, STRING)
    except ConvertError as exc:
        raise Diag('Invalid template interpolation value',
                   'Cannot include the given value in a string template: %s.' % exc, expr.rng)


def _render(parts, ctx, out):
    for part in parts:
        kind = type(part)
        if kind is Literal:
            out.append(part.value)
        elif kind is Interp:
            out.append(_interp_string(part.expr, part.expr.value_in(ctx)))
        elif kind is IfDirective:
            cond = part.cond.value_in(ctx)
            if cond is None:
                raise Diag('Invalid template if directive', 'The condition value is null.', part.cond.rng)
            try:
                cond = convert(cond, BOOL)
            except ConvertError as exc:
                raise Diag('Invalid template if directive',
                           'The condition value is not valid: %s.' % exc, part.cond.rng)
            _render(part.then if cond else (part.otherwise or []), ctx, out)
        else:
            coll = part.coll.value_in(ctx)
            for key, val in _iterate(coll, part.coll, "template 'for' directive"):
                child = Ctx({part.val_var: val}, ctx)
                if part.key_var:
                    child.vars[part.key_var] = key
                _render(part.body, child, out)


class TemplateWrap(Expr):
    """A template that is nothing but one interpolation: its value keeps its type."""
    __slots__ = ('inner',)

    def __init__(self, inner, rng):
        self.inner, self.rng = inner, rng

    def start_rng(self):
        return self.inner.start_rng()

    def value_in(self, ctx):
        return self.inner.value_in(ctx)


class Traversal(Expr):
    """A ScopeTraversalExpr: a root name, attribute and literal index steps."""
    __slots__ = ('name', 'steps', 'root_rng')

    def __init__(self, name, steps, rng, root_rng):
        self.name, self.steps, self.rng, self.root_rng = name, steps, rng, root_rng

    def value_in(self, ctx):
        if ctx is None:
            raise Diag('Variables not allowed', 'Variables may not be used here.', self.rng)
        scope = ctx
        while scope is not None:
            if self.name in scope.vars:
                return _apply_steps(scope.vars[self.name], self.steps, ctx)
            scope = scope.parent
        if ctx.root().undefined is not None:
            return _runtime_reference(ctx.root().undefined, self.rng)
        suggestion = _suggest(self.name, ctx.all_names())
        raise Diag('Unknown variable', 'There is no variable named "%s".%s' % (self.name, suggestion), self.root_rng)


def _runtime_reference(text, rng):
    """Nomad's UndefinedVariable handler: a reference to anything but var.*,
    local.* or an iterator is a runtime interpolation (${NOMAD_PORT_x},
    ${attr.kernel.name}, ${meta.rack}...) and stays as its own source text,
    wrapped in ${...} if it was not. The byte scan mirrors jobspec2's."""
    _src, start, end = rng
    value = text[start:end]
    bracketed = False
    i = start - 1
    while i >= 1:
        if text[i] == '{' and text[i - 1] == '$':
            bracketed = True
            value = text[i - 1:start] + value
            break
        if text[i] != ' ':
            break
        i -= 1
    if not bracketed:
        return '${' + value + '}'
    i = end + 1
    while i < len(text):
        if text[i] == '}':
            value += text[end:i]
        elif text[i] != ' ':
            value += '}'
            break
        i += 1
    return value


class RelTraversal(Expr):
    __slots__ = ('source', 'steps')

    def __init__(self, source, steps, rng):
        self.source, self.steps, self.rng = source, steps, rng

    def start_rng(self):
        return self.source.start_rng()

    def value_in(self, ctx):
        return _apply_steps(self.source.value_in(ctx), self.steps, ctx)


class Index(Expr):
    __slots__ = ('coll', 'key', 'bracket_rng')

    def __init__(self, coll, key, rng, bracket_rng):
        self.coll, self.key, self.rng, self.bracket_rng = coll, key, rng, bracket_rng

    def start_rng(self):
        return self.coll.start_rng()

    def value_in(self, ctx):
        coll = self.coll.value_in(ctx)
        key = self.key.value_in(ctx)
        return _index(coll, key, self.bracket_rng)


class Splat(Expr):
    """``x[*].a`` and ``x.*.a``: the steps apply to each element."""
    __slots__ = ('source', 'steps')

    def __init__(self, source, steps, rng):
        self.source, self.steps, self.rng = source, steps, rng

    def start_rng(self):
        return self.source.start_rng()

    def value_in(self, ctx):
        source = self.source.value_in(ctx)
        if source is None:
            return []
        if not isinstance(source, list):
            # hclsyntax upgrades a single value to a one-element tuple.
            source = [source]
        items = [_apply_steps(item, self.steps, ctx) for item in source]
        if isinstance(source, CtyList):
            return CtyList(items, unify([implied_type(v) for v in items]) or ANY)
        return items


def _apply_steps(value, steps, ctx):
    for kind, key, rng in steps:
        if kind == 'attr':
            value = _get_attr(value, key, rng)
        elif kind == 'index':
            value = _index(value, key, rng)
        else:
            value = _index(value, key.value_in(ctx), rng)
    return value


def _get_attr(value, name, rng):
    if value is None:
        raise Diag('Attempt to get attribute from null value', 'This value is null, so it does not have any attributes.',
                   rng)
    if type(value) is CtyMap:
        if name not in value:
            raise Diag('Missing map element', 'This map does not have an element with the key "%s".' % name, rng)
        return value[name]
    if isinstance(value, dict):
        if name not in value:
            raise Diag('Unsupported attribute', 'This object does not have an attribute named "%s".' % name, rng)
        return value[name]
    if not isinstance(value, list):
        raise Diag('Unsupported attribute',
                   "Can't access attributes on a primitive-typed value (%s)." % implied_type(value), rng)
    raise Diag('Unsupported attribute', 'This value does not have any attributes.', rng)


def _index(coll, key, rng):
    if coll is None:
        raise Diag('Attempt to index null value', 'This value is null, so it does not have any indices.', rng)
    if key is None:
        raise Diag('Invalid index', "Can't use a null value as an indexing key.", rng)
    if isinstance(coll, list) and type(coll) is not CtySet:
        try:
            num = convert(key, NUMBER)
        except ConvertError as exc:
            raise Diag('Invalid index', 'The given key does not identify an element in this collection value: %s.'
                       % exc, rng)
        if type(num) is not int:
            raise Diag('Invalid index', 'The given key does not identify an element in this collection value: '
                       'indexing a sequence requires a whole number, but the given index (%s) has a fractional part.'
                       % format_number(num), rng)
        if 0 <= num < len(coll):
            return coll[num]
        raise Diag('Invalid index', 'The given key does not identify an element in this collection value.', rng)
    if isinstance(coll, dict):
        try:
            name = convert(key, STRING)
        except ConvertError as exc:
            raise Diag('Invalid index', 'The given key does not identify an element in this collection value: %s.'
                       % exc, rng)
        if name in coll:
            return coll[name]
        raise Diag('Invalid index', 'The given key does not identify an element in this collection value.', rng)
    raise Diag('Invalid index', 'This value does not have any indices.', rng)


class Call(Expr):
    __slots__ = ('name', 'args', 'expand', 'name_rng', 'open_end', 'close_rng')

    def __init__(self, name, args, expand, rng, name_rng, open_end, close_rng):
        self.name, self.args, self.expand, self.rng = name, args, expand, rng
        self.name_rng, self.open_end, self.close_rng = name_rng, open_end, close_rng

    def start_rng(self):
        src, start, _end = self.rng
        return (src, start, self.open_end)

    def value_in(self, ctx):
        return _call(self, ctx)


class Conditional(Expr):
    __slots__ = ('cond', 'true', 'false')

    def __init__(self, cond, true, false, rng):
        self.cond, self.true, self.false, self.rng = cond, true, false, rng

    def start_rng(self):
        return self.cond.start_rng()

    def value_in(self, ctx):
        # hclsyntax evaluates both results first (to unify their types) and
        # only reports the errors of the one the condition selects.
        results = []
        for expr in (self.true, self.false):
            try:
                results.append((expr.value_in(ctx), None))
            except Diag as exc:
                results.append((None, exc))
        types = [implied_type(v) if err is None else ANY for v, err in results]
        result_type = unify(types)
        if result_type is None:
            src = self.rng[0]
            raise Diag('Inconsistent conditional result types',
                       'The true and false result expressions must have consistent types. The given expressions are '
                       '%s and %s, respectively.' % (friendly_name(types[0]), friendly_name(types[1])),
                       (src, self.true.rng[1], self.false.rng[2]))
        cond = self.cond.value_in(ctx)
        if cond is None:
            raise Diag('Null condition', 'The condition value is null. Conditions must either be true or false.',
                       self.cond.rng)
        try:
            cond = convert(cond, BOOL)
        except ConvertError:
            raise Diag('Incorrect condition type', 'The condition expression must be of type bool.', self.cond.rng)
        value, err = results[0] if cond else results[1]
        if err is not None:
            raise err
        if result_type != types[0 if cond else 1]:
            try:
                value = convert(value, result_type)
            except ConvertError as exc:
                raise Diag('Inconsistent conditional result types', 'The %s result value has the wrong type: %s.'
                           % ('true' if cond else 'false', exc), (self.true if cond else self.false).rng)
        return value


_ARITH = {'+', '-', '*', '/', '%'}
_COMPARE = {'<', '>', '<=', '>='}


class BinaryOp(Expr):
    __slots__ = ('op', 'left', 'right')

    def __init__(self, op, left, right, rng):
        self.op, self.left, self.right, self.rng = op, left, right, rng

    def start_rng(self):
        return self.left.start_rng()

    def value_in(self, ctx):
        op = self.op
        left = self.left.value_in(ctx)
        right = self.right.value_in(ctx)
        if op == '==':
            return equal(left, right)
        if op == '!=':
            return not equal(left, right)
        want = BOOL if op in ('&&', '||') else NUMBER
        left = self._operand(left, want, self.left, 'left')
        right = self._operand(right, want, self.right, 'right')
        if op == '&&':
            return left and right
        if op == '||':
            return left or right
        if op in _COMPARE:
            return {'<': left < right, '>': left > right, '<=': left <= right, '>=': left >= right}[op]
        try:
            if op == '+':
                return _number(_DEC.add(left, right)) if type(left) is not int or type(right) is not int else left + right
            if op == '-':
                return _number(_DEC.subtract(left, right)) if type(left) is not int or type(right) is not int \
                    else left - right
            if op == '*':
                return _number(_DEC.multiply(left, right)) if type(left) is not int or type(right) is not int \
                    else left * right
            if op == '/':
                if right == 0:
                    # big.Float: x/0 is an infinity, 0/0 is an error.
                    if left == 0:
                        raise ArithmeticError("can't divide zero by zero or infinity by infinity")
                    return Decimal('Infinity') if left > 0 else Decimal('-Infinity')
                return _number(_DEC.divide(Decimal(left), Decimal(right)))
            if right == 0:
                return left     # cty returns the dividend for x % 0
            # cty's modulo keeps the sign of the dividend, like Go's.
            return _number(_DEC.remainder(Decimal(left), Decimal(right)))
        except (ArithmeticError, InvalidOperation) as exc:
            raise Diag('Operation failed', 'Error during operation: %s.' % exc, self.rng)

    def _operand(self, value, want, expr, side):
        if value is None:
            raise Diag('Invalid operand', 'Unsuitable value for %s operand: argument must not be null.' % side, expr.rng)
        try:
            return convert(value, want)
        except ConvertError as exc:
            raise Diag('Invalid operand', 'Unsuitable value for %s operand: %s.' % (side, exc), expr.rng)


class UnaryOp(Expr):
    __slots__ = ('op', 'operand')

    def __init__(self, op, operand, rng):
        self.op, self.operand, self.rng = op, operand, rng

    def value_in(self, ctx):
        value = self.operand.value_in(ctx)
        want = NUMBER if self.op == '-' else BOOL
        if value is None:
            raise Diag('Invalid operand', 'Unsuitable value for unary operand: argument must not be null.',
                       self.operand.rng)
        try:
            value = convert(value, want)
        except ConvertError as exc:
            raise Diag('Invalid operand', 'Unsuitable value for unary operand: %s.' % exc, self.operand.rng)
        return -value if self.op == '-' else not value


class TupleCons(Expr):
    __slots__ = ('items',)

    def __init__(self, items, rng):
        self.items, self.rng = items, rng

    def value_in(self, ctx):
        return [item.value_in(ctx) for item in self.items]


class ObjectCons(Expr):
    """Items are (key expression, literal key name or None, value expression)."""
    __slots__ = ('items',)

    def __init__(self, items, rng):
        self.items, self.rng = items, rng

    def value_in(self, ctx):
        out = {}
        for key_expr, literal, val_expr in self.items:
            if literal is not None:
                key = literal
            else:
                key = key_expr.value_in(ctx)
                if key is None:
                    raise Diag('Null value as key', "Can't use a null value as a key.", key_expr.rng)
                try:
                    key = convert(key, STRING)
                except ConvertError as exc:
                    raise Diag('Incorrect key type', "Can't use this value as a key: %s." % exc, key_expr.rng)
            out[key] = val_expr.value_in(ctx)
        return out


class ForExpr(Expr):
    __slots__ = ('key_var', 'val_var', 'coll', 'key', 'value', 'cond', 'group', 'is_object')

    def __init__(self, key_var, val_var, coll, key, value, cond, group, is_object, rng):
        self.key_var, self.val_var, self.coll, self.key, self.value = key_var, val_var, coll, key, value
        self.cond, self.group, self.is_object, self.rng = cond, group, is_object, rng

    def value_in(self, ctx):
        coll = self.coll.value_in(ctx)
        out_list, out_map = [], {}
        for key, val in _iterate(coll, self.coll, "'for' expression"):
            child = Ctx({self.val_var: val}, ctx)
            if self.key_var:
                child.vars[self.key_var] = key
            if self.cond is not None:
                ok = self.cond.value_in(child)
                if ok is None:
                    raise Diag('Condition is null', "The value of the 'if' clause must not be null.", self.cond.rng)
                try:
                    ok = convert(ok, BOOL)
                except ConvertError as exc:
                    raise Diag("Invalid 'for' condition", "The 'if' clause value is invalid: %s." % exc, self.cond.rng)
                if not ok:
                    continue
            if not self.is_object:
                out_list.append(self.value.value_in(child))
                continue
            name = self.key.value_in(child)
            if name is None:
                raise Diag('Invalid object key', "Key expression in 'for' expression must not produce a null value.",
                           self.key.rng)
            try:
                name = convert(name, STRING)
            except ConvertError as exc:
                raise Diag('Invalid object key', 'The key expression produced an invalid result: %s.' % exc,
                           self.key.rng)
            item = self.value.value_in(child)
            if self.group:
                out_map.setdefault(name, []).append(item)
            elif name in out_map:
                raise Diag('Duplicate object key', "Two different items produced the key \"%s\" in this 'for' "
                           'expression. If duplicates are expected, use the ellipsis (...) after the value expression '
                           'to enable grouping by key.' % name, self.key.rng)
            else:
                out_map[name] = item
        return out_map if self.is_object else out_list


def _iterate(coll, expr, what):
    """(key, value) pairs the way cty's ElementIterator yields them."""
    if coll is None:
        raise Diag('Iteration over null value', 'A null value cannot be used as the collection in a %s.' % what,
                   expr.rng)
    if type(coll) is CtySet:
        return [(v, v) for v in coll]
    if isinstance(coll, list):
        return list(enumerate(coll))
    if isinstance(coll, dict):
        return [(k, coll[k]) for k in sorted(coll)]
    raise Diag('Iteration over non-iterable value', 'A value of type %s cannot be used as the collection in a %s.'
               % (friendly_name(implied_type(coll)), what), expr.rng)


# ---------------------------------------------------------------- evaluation context

class Ctx:
    """hcl.EvalContext: variables, the function table, a parent; the root may
    carry the job text for Nomad's runtime-interpolation handler, and the
    directory the filesystem functions read relative paths from (None: they
    are disabled, as on Nomad's API)."""

    __slots__ = ('vars', 'parent', 'functions', 'undefined', 'base_dir')

    def __init__(self, variables, parent=None, functions=True, undefined=None, base_dir=None):
        self.vars = variables
        self.parent = parent
        self.functions = functions
        self.undefined = undefined
        self.base_dir = base_dir

    def root(self):
        ctx = self
        while ctx.parent is not None:
            ctx = ctx.parent
        return ctx

    def all_names(self):
        names, ctx = [], self
        while ctx is not None:
            names.extend(ctx.vars)
            ctx = ctx.parent
        return names


def _levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def suggestion(given, names):
    """hcl's nameSuggestion: the first name within edit distance 2."""
    for name in sorted(names):
        if _levenshtein(given, name) < 3:
            return name
    return ''


def _suggest(given, names):
    name = suggestion(given, names)
    return ' Did you mean "%s"?' % name if name else ''


# ---------------------------------------------------------------- functions

class FuncError(Exception):
    """A function failed ("Error in function call")."""


class ArgError(FuncError):
    """An argument was rejected ("Invalid function argument")."""

    def __init__(self, index, message):
        self.index = index
        super().__init__(message)


class Func:
    __slots__ = ('params', 'var', 'impl', 'fs')

    def __init__(self, params, impl, var=None, fs=False):
        # params: (name, type, allow_null); var: the same for the variadic one.
        # fs: a filesystem function, called with the base directory first.
        self.params, self.impl, self.var, self.fs = params, impl, var, fs


def _call(expr, ctx):
    name = expr.name
    if ctx is None or not ctx.root().functions:
        raise Diag('Function calls not allowed', 'Functions may not be called here.', expr.rng)
    special = _SPECIAL_FORMS.get(name)
    if special is not None:
        return special(expr, ctx)
    func = FUNCTIONS.get(name)
    if func is None:
        raise Diag('Call to unknown function', 'There is no function named "%s".%s'
                   % (name, _suggest(name, list(FUNCTIONS) + list(_SPECIAL_FORMS))), expr.name_rng)
    args = list(expr.args)
    values = None
    if expr.expand:
        last = args[-1]
        expand = last.value_in(ctx)
        if expand is None or not isinstance(expand, list):
            detail = 'must not be null' if expand is None else 'must be of a tuple, list, or set type'
            raise Diag('Invalid expanding argument value', 'The expanding argument (indicated by ...) %s.' % detail,
                       last.rng)
        values = [a.value_in(ctx) for a in args[:-1]] + list(expand)
        args = args[:-1] + [last] * len(expand)
    params, var = func.params, func.var
    if len(args) < len(params):
        raise Diag('Not enough function arguments', 'Function "%s" expects%s %d argument(s). Missing value for "%s".'
                   % (name, ' at least' if var else '', len(params), params[len(args)][0]), expr.close_rng)
    if var is None and len(args) > len(params):
        raise Diag('Too many function arguments', 'Function "%s" expects only %d argument(s).' % (name, len(params)),
                   args[len(params)].start_rng())
    if values is None:
        values = [a.value_in(ctx) for a in args]
    converted = []
    for i, (arg, value) in enumerate(zip(args, values)):
        pname, ptype, allow_null = params[i] if i < len(params) else var
        try:
            value = convert(value, ptype)
        except ConvertError as exc:
            raise Diag('Invalid function argument', 'Invalid value for "%s" parameter: %s.' % (pname, exc),
                       arg.start_rng())
        if value is None and not allow_null:
            raise Diag('Invalid function argument', 'Invalid value for "%s" parameter: argument must not be null.'
                       % pname, arg.start_rng())
        converted.append(value)
    if func.fs:
        base_dir = ctx.root().base_dir
        if base_dir is None:
            # jobspec2's guardFS: Nomad's API parses with AllowFS false.
            raise Diag('Error in function call', 'Call to function "%s" failed: filesystem function disabled.' % name,
                       expr.start_rng())
        converted.insert(0, base_dir)
    try:
        return func.impl(*converted)
    except ArgError as exc:
        index = min(exc.index, len(args) - 1)
        pname = params[exc.index][0] if exc.index < len(params) else var[0]
        raise Diag('Invalid function argument', 'Invalid value for "%s" parameter: %s.' % (pname, exc),
                   args[index].start_rng())
    except (FuncError, ConvertError, ValueError, ArithmeticError, InvalidOperation) as exc:
        raise Diag('Error in function call', 'Call to function "%s" failed: %s.' % (name, exc), expr.start_rng())


def _try(expr, ctx):
    if not expr.args:
        raise Diag('Error in function call', 'Call to function "try" failed: at least one argument is required.',
                   expr.start_rng())
    problems = []
    for arg in expr.args:
        try:
            return arg.value_in(ctx)
        except Diag as exc:
            where = exc.rng[0].range_text(exc.rng[1], exc.rng[2]) if exc.rng else '<nil>'
            problems.append('- %s (at %s)\n  %s\n' % (exc.summary, where, exc.detail))
    raise Diag('Error in function call', 'Call to function "try" failed: no expression succeeded:\n%s.'
               % ''.join(problems), expr.start_rng())


def _can(expr, ctx):
    if len(expr.args) != 1:
        return _arity(expr, 1)
    try:
        expr.args[0].value_in(ctx)
    except Diag:
        return False
    return True


def _convert_func(expr, ctx):
    if len(expr.args) != 2:
        return _arity(expr, 2, ('value', 'type'))
    value = expr.args[0].value_in(ctx)
    want = parse_type(expr.args[1], constraint=True)
    try:
        return convert(value, want)
    except ConvertError as exc:
        raise Diag('Invalid function argument', 'Invalid value for "value" parameter: %s.' % exc,
                   expr.args[0].start_rng())


def _arity(expr, count, names=('expression',)):
    if len(expr.args) < count:
        raise Diag('Not enough function arguments', 'Function "%s" expects %d argument(s). Missing value for "%s".'
                   % (expr.name, count, names[len(expr.args)]), expr.close_rng)
    raise Diag('Too many function arguments', 'Function "%s" expects only %d argument(s).' % (expr.name, count),
               expr.args[count].start_rng())


_SPECIAL_FORMS = {'try': _try, 'can': _can, 'convert': _convert_func}


def _graphemes(text):
    """Grapheme clusters, approximately: a base character with its combining marks."""
    out = []
    for char in text:
        if out and unicodedata.combining(char):
            out[-1] += char
        else:
            out.append(char)
    return out


def _go_title(text):
    """Go's strings.Title: upper-case the first letter of every word."""
    out, prev = [], ' '
    for char in text:
        sep = (not (prev.isalnum() or prev == '_')) if ord(prev) < 0x80 else prev.isspace()
        out.append(char.upper() if sep else char)
        prev = char
    return ''.join(out)


def _whole(num, what='value'):
    if type(num) is not int:
        raise FuncError('%s must be a whole number' % what)
    return num


def _f_substr(text, offset, length):
    offset, length = _whole(offset), _whole(length)
    chars = _graphemes(text)
    if offset < 0:
        offset += len(chars)
    elif length == 0:
        return ''
    offset = max(offset, 0)
    if offset >= len(chars):
        return ''
    rest = chars[offset:]
    return ''.join(rest if length < 0 else rest[:length])


def _f_join(sep, *lists):
    if not lists:
        raise FuncError('at least one list is required')
    items = []
    for index, items_ in enumerate(lists):
        for pos, item in enumerate(items_):
            if item is None:
                raise ArgError(index + 1, 'element %d%s is null; cannot concatenate null values'
                               % (pos, ' of list %d' % (index + 1) if len(lists) > 1 else ''))
            items.append(item)
    return sep.join(items)


def _f_format(fmt, *args):
    return _format(fmt, args)


_VERB_RE = re.compile(r'%(?:\[(\d+)\])?([-+# 0]*)(\d+)?(?:\.(\d*))?(?:\[(\d+)\])?([a-zA-Z%])?')


def _format(fmt, args):
    """cty's format(): Go-like verbs over cty values."""
    out, pos, argnum = [], 0, 0
    for match in _VERB_RE.finditer(fmt):
        out.append(fmt[pos:match.start()])
        pos = match.end()
        raw = match.group(0)
        index1, flags, width, prec, index2, verb = match.groups()
        if verb == '%' and raw == '%%':
            out.append('%')
            continue
        if verb is None:
            raise FuncError('invalid format string starting at offset %d' % match.start())
        if index1 or index2:
            argnum = int(index1 or index2) - 1
        if argnum >= len(args):
            raise FuncError('not enough arguments for "%s" at %d: need index %d but have %d total'
                            % (raw, match.start(), argnum + 1, len(args)))
        arg = args[argnum]
        argnum += 1
        out.append(_format_verb(raw, flags, width, prec, verb, arg, match.start()))
    out.append(fmt[pos:])
    return ''.join(out)


def _pad(text, flags, width):
    if width is None or len(_graphemes(text)) >= int(width):
        return text
    pad = ('0' if '0' in flags else ' ') * (int(width) - len(_graphemes(text)))
    return text + pad if '-' in flags else pad + text


def _format_verb(raw, flags, width, prec, verb, arg, offset):
    if verb != 'v' and arg is None:
        raise FuncError('unsupported value for "%s" at %d: null value cannot be formatted' % (raw, offset))
    try:
        if verb == 'v':
            if '#' not in flags and type(arg) is str:
                return _pad(arg, flags, width)
            if '#' not in flags and is_number(arg):
                return _pad(_go_g(arg), flags, width)
            return _pad(to_json(arg), flags, width)
        if verb == 't':
            return 'true' if convert(arg, BOOL) else 'false'
        if verb in 'bdoxXeEfgG':
            num = convert(arg, NUMBER)
            if verb in 'bdoxX':
                if type(num) is not int:
                    raise FuncError('unsupported value for "%s" at %d: an integer is required' % (raw, offset))
                if verb == 'b':
                    return _pad(format(num, 'b'), flags, width)
                return ('%' + flags + (width or '') + verb) % num
            spec = '%' + flags + (width or '') + ('.' + (prec or '0') if prec is not None else '') + verb
            if prec is None and verb in 'gG':
                return _pad(_go_g(num).upper() if verb == 'G' else _go_g(num), flags, width)
            return spec % Decimal(num)
        if verb in 'sq':
            text = convert(arg, STRING)
            if prec:
                text = ''.join(_graphemes(text)[:int(prec)])
            return _pad(to_json(text) if verb == 'q' else text, flags, width)
    except ConvertError as exc:
        raise FuncError('unsupported value for "%s" at %d: %s' % (raw, offset, exc))
    raise FuncError('unsupported format verb "%s" in "%s" at offset %d' % (verb, raw, offset))


def _go_g(num):
    """big.Float.Text('g', -1)."""
    if type(num) is int and abs(num) < 10 ** 21:
        return str(num)
    text = format(Decimal(num).normalize(), 'g')
    return text.replace('E', 'e')


def _f_formatlist(fmt, *args):
    length, chooser = -1, -1
    for i, arg in enumerate(args):
        if isinstance(arg, list):
            if length == -1:
                length, chooser = len(arg), i
            elif len(arg) != length:
                raise ArgError(i + 1, 'argument %d has length %d, which is inconsistent with argument %d of length %d'
                               % (i + 1, len(arg), chooser + 1, length))
    if length == -1:
        length = 1
    out = []
    for n in range(length):
        out.append(_format(fmt, [a[n] if isinstance(a, list) else a for a in args]))
    return CtyList(out, STRING)


def _f_element(coll, index):
    if index < 0:
        raise FuncError('cannot use element function with a negative index')
    if not isinstance(coll, list) or type(coll) is CtySet:
        raise FuncError('cannot read elements from %s' % friendly_name(implied_type(coll)))
    index = _whole(index, 'index')
    if not coll:
        raise FuncError('cannot use element function with an empty list')
    return coll[index % len(coll)]


def _f_lookup(coll, key, default):
    if isinstance(coll, dict):
        if key in coll:
            return coll[key]
        if type(coll) is CtyMap:
            try:
                return convert(default, coll.ety)
            except ConvertError:
                raise ArgError(2, 'the default value must have the same type as the map elements')
        return default
    raise ArgError(0, 'lookup() requires a map as the first argument')


def _f_length(value):
    if type(value) is str:
        return len(_graphemes(value))
    if isinstance(value, (list, dict)):
        return len(value)
    raise ArgError(0, 'collection must be a list, a map or a tuple')


def _f_keys(value):
    if not isinstance(value, dict):
        raise ArgError(0, 'must have map or object type')
    return CtyList(sorted(value), STRING) if type(value) is CtyMap else sorted(value)


def _f_values(value):
    if not isinstance(value, dict):
        raise ArgError(0, 'must have map or object type')
    items = [value[k] for k in sorted(value)]
    return CtyList(items, value.ety) if type(value) is CtyMap else items


def _f_merge(*maps):
    out = {}
    for item in maps:
        if item is None:
            continue
        if not isinstance(item, dict):
            raise FuncError('arguments must be maps or objects, got "%s"' % friendly_name(implied_type(item)))
        out.update(item)
    return out


def _f_contains(coll, value):
    if not isinstance(coll, list):
        raise ArgError(0, 'argument must be list, tuple, or set')
    return any(equal(item, value) for item in coll)


def _f_coalesce(*values):
    types = [implied_type(v) for v in values]
    want = unify(types)
    if want is None:
        raise FuncError('all arguments must have the same type')
    for value in values:
        if value is not None:
            return convert(value, want)
    raise FuncError('no non-null arguments')


def _f_coalescelist(*lists):
    for i, item in enumerate(lists):
        if not isinstance(item, list):
            raise ArgError(i, 'first argument must be a list, tuple, or set')
        if item:
            return item
    raise FuncError('no non-null arguments')


def _f_concat(*seqs):
    out = []
    typed = True
    for i, seq in enumerate(seqs):
        if not isinstance(seq, list):
            raise ArgError(i, 'all arguments must be lists or tuples; got %s' % friendly_name(implied_type(seq)))
        typed = typed and type(seq) is CtyList
        out.extend(seq)
    if typed and seqs:
        return convert(out, ('list', ANY)) if out else CtyList([], seqs[0].ety)
    return out


def _f_distinct(items):
    out = []
    for item in items:
        if not any(equal(item, seen) for seen in out):
            out.append(item)
    return CtyList(out, items.ety)


def _f_flatten(items):
    out = []
    for item in items:
        if isinstance(item, list):
            out.extend(_f_flatten(item))
        else:
            out.append(item)
    return out


def _f_chunklist(items, size):
    size = _whole(size, 'size')
    if size < 0:
        raise ArgError(1, 'the size argument must be positive')
    if size == 0:
        return [CtyList(items, items.ety)]
    return CtyList([CtyList(items[i:i + size], items.ety) for i in range(0, len(items), size)], ('list', items.ety))


def _f_slice(items, start, end):
    start, end = _whole(start, 'start index'), _whole(end, 'end index')
    if start < 0:
        raise ArgError(1, 'start index must not be less than zero')
    if end > len(items):
        raise ArgError(2, 'end index must not be greater than the length of the list')
    if end < start:
        raise ArgError(1, 'start index must not be greater than end index')
    part = items[start:end]
    return CtyList(part, items.ety) if type(items) is CtyList else part


def _f_index(items, value):
    if not isinstance(items, list):
        raise ArgError(0, 'argument must be a list or tuple')
    for i, item in enumerate(items):
        if equal(item, value):
            return i
    raise FuncError('item not found')


def _f_zipmap(keys, values):
    if len(keys) != len(values):
        raise ArgError(1, 'number of keys (%d) does not match number of values (%d)' % (len(keys), len(values)))
    return dict(zip(keys, values))


def _f_range(*args):
    if len(args) == 1:
        start, end, step = 0, args[0], -1 if args[0] < 0 else 1
    elif len(args) == 2:
        start, end = args
        step = -1 if end < start else 1
    elif len(args) == 3:
        start, end, step = args
    else:
        raise FuncError('must have one, two, or three arguments')
    if step == 0:
        raise ArgError(2, 'step must not be zero')
    if step < 0 and end > start:
        raise ArgError(1, 'end must be less than start when step is negative')
    if step > 0 and end < start:
        raise ArgError(1, 'end must be greater than start when step is positive')
    out, num = [], start
    while (num > end) if step < 0 else (num < end):
        if len(out) >= 1024:
            raise FuncError('more than 1024 values were generated; either decrease the difference between start and '
                            'end or use a smaller step')
        out.append(_number(num))
        num = num + step
    return CtyList(out, NUMBER)


def _f_parseint(text, base):
    if type(text) is not str:
        raise ArgError(0, 'first argument must be a string, not %s' % friendly_name(implied_type(text)))
    base = _whole(base, 'base')
    if base < 2 or base > 62:
        raise ArgError(1, 'base must be a whole number between 2 and 62 inclusive')
    digits = '0123456789abcdefghijklmnopqrstuvwxyz' if base <= 36 else \
        '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
    body, sign = text, 1
    if body[:1] in '+-' and body:
        sign = -1 if body[0] == '-' else 1
        body = body[1:]
    value = 0
    for char in body:
        if base <= 36:
            char = char.lower()
        pos = digits.find(char)
        if pos < 0 or pos >= base:
            raise ArgError(0, 'cannot parse "%s" as a base %d integer' % (text, base))
        value = value * base + pos
    if not body:
        raise ArgError(0, 'cannot parse "%s" as a base %d integer' % (text, base))
    return sign * value


def _f_minmax(pick):
    def impl(*nums):
        if not nums:
            raise FuncError('must pass at least one number')
        return pick(nums)
    return impl


def _f_log(num, base):
    return _number(Decimal(repr(math.log(float(num)) / math.log(float(base)))))


def _f_pow(num, power):
    if type(num) is int and type(power) is int and power >= 0:
        return num ** power
    return _number(Decimal(repr(math.pow(float(num), float(power)))))


def _f_floor(num):
    return int(Decimal(num).to_integral_value(rounding='ROUND_FLOOR'))


def _f_ceil(num):
    return int(Decimal(num).to_integral_value(rounding='ROUND_CEILING'))


def _f_signum(num):
    return (num > 0) - (num < 0)


def _go_replacement(template, match):
    """Go's Regexp.Expand: $1, ${1}, $name, ${name}, $$; unknown groups
    expand to nothing."""
    def sub(m):
        if m.group(0) == '$$':
            return '$'
        name = m.group(1) or m.group(2)
        try:
            return match.group(int(name) if name.isdigit() else name) or ''
        except IndexError:
            return ''
    return re.sub(r'\$\$|\$\{(\w+)\}|\$(\w+)', sub, template)


def _f_regex_replace(text, pattern, replacement):
    try:
        regex = re.compile(_re2_to_python(pattern))
    except re.error as exc:
        raise ArgError(1, 'invalid regexp: %s' % exc)
    return regex.sub(lambda m: _go_replacement(replacement, m), text)


def _re2_to_python(pattern):
    # RE2 writes named groups (?P<name>...) like Python; \z is Python's \Z.
    return pattern.replace('\\z', '\\Z')


def _f_replace(text, old, new):
    if old == '':
        # strings.Replace with an empty needle inserts between every rune.
        return new + new.join(text) + new if text else new
    return text.replace(old, new)


def _f_sort(items):
    for i, item in enumerate(items):
        if item is None:
            raise FuncError('given list element %d is null; a null string cannot be sorted' % i)
    return CtyList(sorted(items), STRING)


def _f_compact(items):
    return CtyList([i for i in items if i], STRING)


def _f_chomp(text):
    return re.sub(r'(?:\r\n?|\n)*\Z', '', text)


def _f_indent(spaces, text):
    return text.replace('\n', '\n' + ' ' * _whole(spaces))


def _f_trim(text, cutset):
    return text.strip(cutset)


def _f_trimprefix(text, prefix):
    return text[len(prefix):] if prefix and text.startswith(prefix) else text


def _f_trimsuffix(text, suffix):
    return text[:-len(suffix)] if suffix and text.endswith(suffix) else text


def _f_jsondecode(text):
    try:
        return from_json(text)
    except ValueError as exc:
        raise FuncError(str(exc))


def _f_csvdecode(text):
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise FuncError('missing header line')
    header = rows[0]
    out = []
    for line, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            raise FuncError('record on line %d: wrong number of fields' % line)
        out.append(dict(zip(header, row)))
    return CtyList(out, ('object', tuple(sorted((h, STRING) for h in header))))


def _f_base64decode(text):
    try:
        raw = base64.b64decode(text.encode('ascii'), validate=True)
        return raw.decode('utf-8')
    except (ValueError, UnicodeError):
        raise FuncError('failed to decode base64 data \'%s\'' % text)


def _f_urlencode(text):
    return urllib.parse.quote_plus(text)


def _f_set(op):
    def impl(first, *others):
        out = list(first)
        for other in others:
            if op == 'union':
                out += [v for v in other if not any(equal(v, o) for o in out)]
            else:
                out = [v for v in out if any(equal(v, o) for o in other)]
        return CtySet(_set_order(out), first.ety)
    return impl


def _f_setproduct(*sets):
    if not sets:
        raise FuncError('at least one argument is required')
    out = [[]]
    for items in sets:
        out = [prev + [item] for prev in out for item in items]
    return out


def _f_uuidv5(namespace, name):
    spaces = {'dns': uuid.NAMESPACE_DNS, 'url': uuid.NAMESPACE_URL, 'oid': uuid.NAMESPACE_OID,
              'x500': uuid.NAMESPACE_X500}
    if namespace in spaces:
        space = spaces[namespace]
    else:
        try:
            space = uuid.UUID(namespace)
        except ValueError:
            raise FuncError('uuidv5() doesn\'t support namespace %s (invalid UUID)' % namespace)
    return str(uuid.uuid5(space, name))


def _network(prefix):
    try:
        return ipaddress.ip_network(prefix, strict=False)
    except ValueError as exc:
        raise ArgError(0, 'invalid CIDR expression: %s' % exc)


def _f_cidrhost(prefix, num):
    net = _network(prefix)
    num = _whole(num, 'host number')
    index = num if num >= 0 else net.num_addresses + num
    if index < 0 or index >= net.num_addresses:
        raise FuncError('prefix of %d does not accommodate a host numbered %d' % (net.prefixlen, num))
    return str(net.network_address + index)


def _f_cidrnetmask(prefix):
    net = _network(prefix)
    if net.version != 4:
        raise FuncError('only IPv4 networks can have a netmask')
    return str(net.netmask)


def _f_cidrsubnet(prefix, newbits, num):
    net = _network(prefix)
    newbits, num = _whole(newbits), _whole(num)
    if net.prefixlen + newbits > net.max_prefixlen:
        raise FuncError('insufficient address space to extend prefix of %d by %d' % (net.prefixlen, newbits))
    if num < 0 or num >= 1 << newbits:
        raise FuncError('prefix extension of %d does not accommodate a subnet numbered %d' % (newbits, num))
    base = int(net.network_address) + (num << (net.max_prefixlen - net.prefixlen - newbits))
    return str(ipaddress.ip_network((base, net.prefixlen + newbits)))


def _f_cidrsubnets(prefix, *newbits):
    net = _network(prefix)
    out, current = [], int(net.network_address)
    for bits in newbits:
        length = net.prefixlen + _whole(bits)
        if length > net.max_prefixlen:
            raise FuncError('would extend prefix to %d bits, which is too long for an IPv%d address'
                            % (length, net.version))
        size = 1 << (net.max_prefixlen - length)
        current = (current + size - 1) // size * size
        subnet = ipaddress.ip_network((current, length))
        if not subnet.subnet_of(net):
            raise FuncError('not enough remaining address space for a subnet with a prefix of %d bits' % length)
        out.append(str(subnet))
        current += size
    return CtyList(out, STRING)


# ---------------------------------------------------------------- time (go-cty's datetime.go, Go 1.16's time)

def _go_q(text):
    """Go's %q (strconv.Quote) for the messages that quote a value."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append('\\' + char)
        elif char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif code < 0x20 or code == 0x7f:
            out.append('\\x%02x' % code)
        elif not char.isprintable() and char != ' ':
            out.append('\\u%04x' % code if code <= 0xffff else '\\U%08x' % code)
        else:
            out.append(char)
    return '"%s"' % ''.join(out)


_GO_ESCAPES = {'\a': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v'}


class _TimeError(Exception):
    """time.ParseError: the layout element, the rest of the value, a message."""

    def __init__(self, layout_elem, value_elem, message=''):
        super().__init__(message)
        self.layout_elem, self.value_elem, self.message = layout_elem, value_elem, message


def _getnum(text, fixed):
    if not text[:1].isdigit() or not text[:1].isascii():
        return None, text
    if not (text[1:2].isdigit() and text[1:2].isascii()):
        if fixed:
            return None, text
        return int(text[0]), text[1:]
    return int(text[:2]), text[2:]


def _skip(text, prefix):
    while prefix:
        if prefix[0] == ' ':
            if text and text[0] != ' ':
                return text, False
            prefix, text = prefix.lstrip(' '), text.lstrip(' ')
            continue
        if not text or text[0] != prefix[0]:
            return text, False
        prefix, text = prefix[1:], text[1:]
    return text, True


def _days_in(month, year):
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _go_time_parse(value, short, sep, zone):
    """time.Parse for the layouts a job file meets: RFC 3339 (short=False,
    sep='T', zone=True) and go-cty-yaml's timestamp forms, where the fields
    may have one digit, the seconds a fraction and the zone be absent.
    Returns (year, month, day, hour, minute, second, offset seconds)."""
    text = value
    if len(text) < 4 or not text[0].isdigit():
        raise _TimeError('2006', text)
    digits, text = text[:4], text[4:]
    if not (digits.isdigit() and digits.isascii()):
        raise _TimeError('2006', text)
    year = int(digits)
    fields = []
    for prefix, elem, limit in (('-', '01', 13), ('-', '02', None), (sep, '15', 24), (':', '04', 60), (':', '05', 60)):
        if elem == '15' and sep is None:
            break
        text, ok = _skip(text, prefix)
        if not ok:
            raise _TimeError(prefix, text)
        fixed = not short and elem != '15'
        num, text = _getnum(text, fixed)
        if elem == '01' and num is not None and not 0 < num < 13:
            raise _TimeError(elem, text, ': month out of range')
        if limit and elem != '01' and num is not None and num >= limit:
            raise _TimeError(elem, text, ': %s out of range' % {'15': 'hour', '04': 'minute', '05': 'second'}[elem])
        if num is None:
            raise _TimeError(elem, text)
        fields.append(num)
        if elem == '05' and len(text) >= 2 and text[0] == '.' and text[1].isdigit():
            count = 1
            while count < len(text) and text[count].isdigit() and (not short or count < 10):
                count += 1
            frac, text = text[1:count], text[count:]
            if len(frac) > 18 or int(frac) >= 10 ** 9:
                raise _TimeError(elem, text, ': fractional second out of range')
    while len(fields) < 5:
        fields.append(0)
    offset = 0
    if zone:
        if text[:1] == 'Z':
            text = text[1:]
        else:
            if len(text) < 6 or text[3] != ':':
                raise _TimeError('Z07:00', text)
            sign, hours, minutes, text = text[0], text[1:3], text[4:6], text[6:]
            hours, rest_h = _getnum(hours, True)
            minutes, rest_m = _getnum(minutes, True)
            if hours is None or minutes is None or rest_h or rest_m or sign not in '+-':
                raise _TimeError('Z07:00', text)
            offset = (hours * 60 + minutes) * 60 * (-1 if sign == '-' else 1)
    if text:
        raise _TimeError('', text, ': extra text: "%s"' % text)
    month, day = fields[0], fields[1]
    if day < 1 or day > _days_in(month, year):
        raise _TimeError('', text, ': day out of range')
    return (year, month, day, fields[2], fields[3], fields[4], offset)


_TIME_WHAT = {'2006': 'year', '01': 'month', '02': 'day of month', '15': 'hour', '04': 'minute', '05': 'second',
              'Z07:00': 'UTC offset'}


def _parse_timestamp(text):
    """go-cty's parseTimestamp: time.Parse(time.RFC3339, ...) with its errors reworded."""
    try:
        return _go_time_parse(text, False, 'T', True)
    except _TimeError as err:
        if not err.layout_elem and not err.value_elem and err.message:
            raise FuncError('not a valid RFC3339 timestamp%s' % err.message)
        if err.layout_elem == 'T':
            raise FuncError("not a valid RFC3339 timestamp: missing required time introducer 'T'")
        if err.layout_elem in (':', '-'):
            if not err.value_elem:
                raise FuncError('not a valid RFC3339 timestamp: end of string where %s is expected'
                                % _go_q(err.layout_elem))
            raise FuncError('not a valid RFC3339 timestamp: found %s where %s is expected'
                            % (_go_q(err.value_elem), _go_q(err.layout_elem)))
        what = _TIME_WHAT.get(err.layout_elem, 'timestamp segment')
        if not err.value_elem:
            raise FuncError('not a valid RFC3339 timestamp: end of string before %s' % what)
        raise FuncError('not a valid RFC3339 timestamp: cannot use %s as %s' % (_go_q(err.value_elem), what))


def _days_from_civil(year, month, day):
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def _civil_from_days(days):
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (month <= 2), month, day


def _go_int(num, width):
    return ('-' if num < 0 else '') + str(abs(num)).zfill(width)


def _zone(offset, colon, zulu):
    if offset == 0 and zulu:
        return 'Z'
    sign = '-' if offset < 0 else '+'
    hours, minutes = divmod(abs(offset) // 60, 60)
    return '%s%02d%s%02d' % (sign, hours, ':' if colon else '', minutes)


def _rfc3339(fields):
    year, month, day, hour, minute, second, offset = fields
    return '%s-%02d-%02dT%02d:%02d:%02d%s' % (_go_int(year, 4), month, day, hour, minute, second,
                                              _zone(offset, True, True))


_MONTHS = ('January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
           'November', 'December')
_WEEKDAYS = ('Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday')
_DATE_VERB_ERRORS = {
    'Y': 'year must either be "YY" or "YYYY"', 'M': 'month must be "M", "MM", "MMM", or "MMMM"',
    'D': 'day of month must either be "D" or "DD"', 'E': 'day of week must either be "EEE" or "EEEE"',
    'h': '24-hour must either be "h" or "hh"', 'H': '12-hour must either be "H" or "HH"',
    'm': 'minute must either be "m" or "mm"', 's': 'second must either be "s" or "ss"',
    'Z': 'timezone must be Z, ZZZZ, or ZZZZZ',
}


def _date_tokens(fmt):
    """splitDateFormat: quoted literals, runs of one letter, other text."""
    i = 0
    while i < len(fmt):
        char = fmt[i]
        if char == "'":
            if fmt[i + 1:i + 2] == "'":
                yield fmt[i:i + 2]
                i += 2
                continue
            j = i + 1
            while j < len(fmt):
                if fmt[j] == "'":
                    if fmt[j + 1:j + 2] == "'":
                        j += 2
                        continue
                    break
                j += 1
            yield fmt[i:j + 1]
            i = j + 1
        elif char.isascii() and char.isalpha():
            j = i
            while j < len(fmt) and fmt[j] == char:
                j += 1
            yield fmt[i:j]
            i = j
        else:
            j = i + 1
            while j < len(fmt) and fmt[j] != "'" and not (fmt[j].isascii() and fmt[j].isalpha()):
                j += 1
            yield fmt[i:j]
            i = j


def _f_formatdate(fmt, timestamp):
    try:
        year, month, day, hour, minute, second, offset = _parse_timestamp(timestamp)
    except FuncError as exc:
        raise ArgError(1, str(exc))
    out = []
    for tok in _date_tokens(fmt):
        verb, size = tok[0], len(tok)
        if verb == "'":
            if tok[-1] != "'" or size == 1:
                raise ArgError(0, "unterminated literal '")
            out.append("'" if size == 2 else tok[1:-1].replace("''", "'"))
            continue
        if not (verb.isascii() and verb.isalpha()):
            out.append(tok)
            continue
        text = None
        hour12 = hour % 12 or 12
        if verb == 'Y':
            text = {2: '%02d' % (year % 100), 4: _go_int(year, 4)}.get(size)
        elif verb == 'M':
            text = {1: str(month), 2: '%02d' % month, 3: _MONTHS[month - 1][:3], 4: _MONTHS[month - 1]}.get(size)
        elif verb == 'D':
            text = {1: str(day), 2: '%02d' % day}.get(size)
        elif verb == 'E':
            weekday = _WEEKDAYS[(_days_from_civil(year, month, day) + 4) % 7]
            text = {3: weekday[:3], 4: weekday}.get(size)
        elif verb in 'hHms':
            num = {'h': hour, 'H': hour12, 'm': minute, 's': second}[verb]
            text = {1: str(num), 2: '%02d' % num}.get(size)
        elif verb in 'Aa':
            if size != 2:
                raise ArgError(0, 'invalid date format verb %s: must be "%s%s"' % (_go_q(tok), verb, verb))
            text = ('AM', 'PM')[hour // 12]
            text = text if verb == 'A' else text.lower()
        elif verb == 'Z':
            numeric = _zone(offset, False, False)
            text = {1: _zone(offset, True, True), 3: 'UTC' if numeric == '+0000' else numeric, 4: numeric,
                    5: _zone(offset, True, False)}.get(size)
        else:
            raise ArgError(0, 'invalid date format verb %s' % _go_q(tok))
        if text is None:
            raise ArgError(0, 'invalid date format verb %s: %s' % (_go_q(tok), _DATE_VERB_ERRORS[verb]))
        out.append(text)
    return ''.join(out)


def _parse_duration(text):
    """Go's time.ParseDuration (plugins/module_utils/go.py), in nanoseconds."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise FuncError(str(exc))


def _f_timeadd(timestamp, duration):
    year, month, day, hour, minute, second, offset = _parse_timestamp(timestamp)
    nanos = _parse_duration(duration)
    # Whole seconds only: RFC 3339 as Go formats it drops the fraction, and
    # the timestamp's own fraction (kept by Go) can carry into the seconds.
    frac = re.search(r':\d\d\.(\d+)', timestamp)
    frac_ns = int(frac.group(1)[:9].ljust(9, '0')) if frac else 0
    local = (_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second) * 10 ** 9 + frac_ns
    secs = (local + nanos) // 10 ** 9
    days, rest = divmod(secs, 86400)
    year, month, day = _civil_from_days(days)
    return _rfc3339((year, month, day, rest // 3600, rest // 60 % 60, rest % 60, offset))


# ---------------------------------------------------------------- YAML (go-cty-yaml 1.0.2)

_YAML_TAG = 'tag:yaml.org,2002:'
_YAML_BOOLS = dict([(s, True) for s in ('y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON')]
                   + [(s, False) for s in ('n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off',
                                           'OFF')])
_YAML_NULLS = ('', '~', 'null', 'Null', 'NULL')
_YAML_INFS = {'.inf': 1, '.Inf': 1, '.INF': 1, '+.inf': 1, '+.Inf': 1, '+.INF': 1, '-.inf': -1, '-.Inf': -1,
              '-.INF': -1}
_YAML_INT_RE = re.compile(r'\A[-+]?(|0o[0-7_]+|[0-9_]+|0x[0-9a-fA-F_]+)\Z')
_YAML_FLOAT_RE = re.compile(r'\A[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z')
_MERGE = object()


def _yaml_hint(src):
    if not src:
        return 'N'
    char = src[0]
    if char in '+-':
        return 'S'
    if char in '0123456789':
        return 'D'
    if char in 'yYnNtTfFoO~':
        return 'M'
    return '.' if char == '.' else None


def _yaml_timestamp(src):
    """go-cty-yaml's parseTimestamp: four time.Parse layouts, as RFC 3339."""
    if not re.match('[0-9]{4}-', src):
        return None
    for sep, zone in (('T', True), ('t', True), (' ', False), (None, False)):
        try:
            return _rfc3339(_go_time_parse(src, True, sep, zone))
        except _TimeError:
            continue
    return None


def _yaml_go_int(text):
    """strconv.ParseInt/ParseUint with base 0, as go-cty-yaml falls back to them."""
    match = re.match(r'\A([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z', text)
    if not match:
        return None
    digits = match.group(2)
    if len(digits) > 1 and digits[1] in 'xXoObB':
        num = int(digits[2:], {'x': 16, 'o': 8, 'b': 2}[digits[1].lower()])
    else:
        num = int(digits, 8 if len(digits) > 1 else 10)
    num = -num if match.group(1) == '-' else num
    return num if -(1 << 63) <= num < (1 << 64) and not (match.group(1) and num >= 1 << 63) else None


def _yaml_scalar(tag, src, quoted):
    """go-cty-yaml's resolveScalar."""
    if tag not in ('', _YAML_TAG + 'str', _YAML_TAG + 'bool', _YAML_TAG + 'int', _YAML_TAG + 'float',
                   _YAML_TAG + 'null', _YAML_TAG + 'timestamp', _YAML_TAG + 'binary'):
        raise FuncError('unsupported tag %s' % _go_q(tag))
    hint = _yaml_hint(src)
    if hint is not None and tag not in (_YAML_TAG + 'str', _YAML_TAG + 'binary'):
        if quoted:
            return src
        if src in _YAML_BOOLS:
            return _YAML_BOOLS[src]
        if src in _YAML_NULLS:
            return None
        if src in _YAML_INFS:
            return Decimal('Infinity') * _YAML_INFS[src]
        if tag == '' and src in ('.nan', '.NaN', '.NAN'):
            raise FuncError('floating point NaN is not supported')
        if hint == '.':
            try:
                return parse_number(src)
            except ConvertError:
                pass
        elif hint in 'DS':
            if tag in ('', _YAML_TAG + 'timestamp'):
                stamp = _yaml_timestamp(src)
                if stamp is not None:
                    return stamp
            if _YAML_INT_RE.match(src):
                tag = _YAML_TAG + 'int'
            elif _YAML_FLOAT_RE.match(src):
                tag = _YAML_TAG + 'float'
    if tag == '' and src == '<<':
        return _MERGE
    kind = tag[len(_YAML_TAG):]
    if kind in ('str', 'binary'):
        if kind == 'binary':
            try:
                base64.b64decode(src.encode('utf-8'), validate=True)
            except ValueError:
                raise FuncError('cannot parse %s as %s: not valid base64' % (_go_q(src), tag))
        return src
    if kind == 'bool':
        if src not in _YAML_BOOLS:
            raise FuncError('cannot parse %s as %s' % (_go_q(src), tag))
        return _YAML_BOOLS[src]
    if kind in ('float', 'int'):
        plain = src.replace('_', '')
        try:
            return parse_number(plain)
        except ConvertError:
            pass
        num = _yaml_go_int(plain)
        if num is None:
            raise FuncError('cannot parse %s as %s' % (_go_q(src), tag))
        return num
    if kind == 'timestamp':
        stamp = _yaml_timestamp(src)
        if stamp is None:
            raise FuncError('cannot parse %s as %s' % (_go_q(src), tag))
        return stamp
    if kind == 'null':
        return None
    return src


class _YamlError(FuncError):
    pass


def _yaml_at(mark, message):
    # go-cty-yaml reports an event's zero-based line as it is, and no
    # position at all for the first line.
    if mark is None or mark.line == 0:
        return _YamlError(message)
    return _YamlError('on line %d, column %d: %s' % (mark.line, mark.column + 1, message))


class _YamlDecoder:
    """go-cty-yaml's Unmarshal, over the events of libyaml's parser."""

    def __init__(self, events):
        self.events = events
        self.pending = {}
        self.anchors = {}

    def next(self):
        return next(self.events)

    def value(self, evt=None):
        evt = evt or self.next()
        kind = type(evt).__name__
        if kind == 'ScalarEvent':
            self.begin(evt.anchor)
            try:
                val = _yaml_scalar(evt.tag or '', evt.value, evt.style in ("'", '"'))
            except FuncError as exc:
                raise _yaml_at(evt.start_mark, str(exc))
            val = '<<' if val is _MERGE else val
            return self.complete(evt.anchor, val)
        if kind == 'AliasEvent':
            if evt.anchor in self.pending:
                raise _yaml_at(evt.start_mark, 'cannot refer to anchor %s from inside its own definition'
                               % _go_q(evt.anchor))
            if evt.anchor not in self.anchors:
                raise _yaml_at(evt.start_mark, 'reference to undefined anchor %s' % _go_q(evt.anchor))
            return self.anchors[evt.anchor]
        if kind == 'MappingStartEvent':
            return self.mapping(evt)
        if kind == 'SequenceStartEvent':
            if evt.tag and evt.tag != _YAML_TAG + 'seq':
                raise _yaml_at(evt.start_mark, "can't interpret sequence as %s" % evt.tag)
            self.begin(evt.anchor)
            items = []
            while True:
                item = self.next()
                if type(item).__name__ == 'SequenceEndEvent':
                    return self.complete(evt.anchor, items)
                items.append(self.value(item))
        if kind == 'DocumentStartEvent':
            raise _yaml_at(evt.start_mark, 'only a single document is allowed')
        if kind == 'StreamEndEvent':
            raise _yaml_at(evt.start_mark, 'expecting value but found end of stream')
        raise _yaml_at(evt.start_mark, 'unexpected parser event %s' % kind)

    def mapping(self, evt):
        if evt.tag and evt.tag != _YAML_TAG + 'map':
            raise _yaml_at(evt.start_mark, "can't interpret mapping as %s" % evt.tag)
        self.begin(evt.anchor)
        out = {}
        while True:
            key = self.next()
            kind = type(key).__name__
            if kind == 'MappingEndEvent':
                return self.complete(evt.anchor, out)
            if kind != 'ScalarEvent':
                raise _yaml_at(key.start_mark, 'only strings are allowed as mapping keys')
            name = _yaml_scalar(key.tag or '', key.value, key.style in ("'", '"'))
            if name is _MERGE:
                merged = self.value()
                if not isinstance(merged, dict):
                    raise _yaml_at(key.start_mark, 'cannot merge %s into mapping'
                                   % friendly_name(implied_type(merged)))
                out.update(merged)
                continue
            if name is None:
                raise _yaml_at(key.start_mark, 'mapping key cannot be null')
            if isinstance(name, (list, dict)):
                raise _yaml_at(key.start_mark, 'only strings are allowed as mapping keys')
            out[convert(name, STRING)] = self.value()

    def begin(self, anchor):
        if anchor:
            self.pending[anchor] = self.pending.get(anchor, 0) + 1

    def complete(self, anchor, val):
        if anchor:
            self.pending[anchor] -= 1
            if not self.pending[anchor]:
                del self.pending[anchor]
            self.anchors[anchor] = val
        return val


def _yaml_syntax_error(exc):
    """parserError: the problem, at the problem's line (scanner errors: the
    next line, column 1), else at the context's."""
    problem = getattr(exc, 'problem', None) or 'invalid YAML syntax'
    mark, context = getattr(exc, 'problem_mark', None), getattr(exc, 'context_mark', None)
    if mark is not None and mark.line != 0:
        if type(exc).__name__ == 'ScannerError':
            return _YamlError('on line %d, column 1: %s' % (mark.line + 1, problem))
        return _YamlError('on line %d, column %d: %s' % (mark.line, mark.column + 1, problem))
    if context is not None and context.line != 0:
        return _YamlError('on line %d, column %d: %s' % (context.line, context.column + 1, problem))
    return _YamlError(problem)


def _f_yamldecode(src):
    import yaml  # pylint: disable=import-outside-toplevel
    loader = getattr(yaml, 'CSafeLoader', None) or yaml.SafeLoader
    events = yaml.parse(src or '\n', Loader=loader)
    try:
        decoder = _YamlDecoder(events)
        first = decoder.next()
        second = decoder.next()
        if type(second).__name__ != 'DocumentStartEvent':
            raise _yaml_at(second.start_mark, 'missing start of document')
        val = decoder.value()
        end = decoder.next()
        if type(end).__name__ == 'DocumentStartEvent':
            raise _yaml_at(end.start_mark, 'only a single document is allowed')
        if type(end).__name__ != 'DocumentEndEvent':
            raise _yaml_at(end.start_mark, 'unexpected extra content (%s) after value' % _YAML_EVENT_NAMES.get(
                type(end).__name__, type(end).__name__))
        end = decoder.next()
        if type(end).__name__ != 'StreamEndEvent':
            raise _yaml_at(end.start_mark, 'unexpected extra content after value')
        del first
    except yaml.YAMLError as exc:
        raise _yaml_syntax_error(exc)
    return val


_YAML_EVENT_NAMES = {'ScalarEvent': 'SCALAR', 'SequenceStartEvent': 'SEQUENCE-START',
                     'MappingStartEvent': 'MAPPING-START', 'AliasEvent': 'ALIAS'}


def _yaml_printable(code):
    return (code == 0x0A or 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF
            or (0xE000 <= code <= 0xFFFD and code != 0xFEFF))


_YAML_BREAKS = '\r\n\x85\u2028\u2029'
_YAML_ESCAPES = {0: '0', 7: 'a', 8: 'b', 9: 't', 0x0A: 'n', 0x0B: 'v', 0x0C: 'f', 0x0D: 'r', 0x1B: 'e', 0x22: '"',
                 0x5C: '\\', 0x85: 'N', 0xA0: '_', 0x2028: 'L', 0x2029: 'P'}


class _YamlEmitter:
    """The part of go-cty-yaml's libyaml emitter (Standard converter: block
    style, unicode, indent 2, width 80) that cty values reach."""

    def __init__(self):
        self.out = []
        self.column, self.indent, self.indents = 0, -1, []
        self.whitespace = self.indention = True
        self.open_ended = False
        self.flow_level = 0
        self.root = self.mapping_ctx = self.simple_key = False

    def put(self, text):
        self.out.append(text)
        self.column += len(text)

    def put_break(self):
        self.out.append('\n')
        self.column = 0

    def write_indent(self):
        indent = max(self.indent, 0)
        if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
            self.put_break()
        self.put(' ' * (indent - self.column) if indent > self.column else '')
        self.whitespace = self.indention = True

    def indicator(self, text, need_whitespace, is_whitespace, is_indention):
        if need_whitespace and not self.whitespace:
            self.put(' ')
        self.put(text)
        self.whitespace = is_whitespace
        self.indention = self.indention and is_indention
        self.open_ended = False

    def increase_indent(self, flow, indentless):
        self.indents.append(self.indent)
        if self.indent < 0:
            self.indent = 2 if flow else 0
        elif not indentless:
            self.indent += 2

    def document(self, value):
        self.node(value, root=True)
        self.write_indent()
        if self.open_ended:
            self.indicator('...', True, False, False)
            self.write_indent()
        return ''.join(self.out)

    def node(self, value, root=False, mapping=False, simple_key=False):
        self.root, self.mapping_ctx, self.simple_key = root, mapping, simple_key
        if isinstance(value, list):
            if not value:
                return self.empty('[', ']')
            self.increase_indent(False, self.mapping_ctx and not self.indention)
            for item in value:
                self.write_indent()
                self.indicator('-', True, False, True)
                self.node(item)
            self.indent = self.indents.pop()
        elif isinstance(value, dict):
            if not value:
                return self.empty('{', '}')
            self.increase_indent(False, False)
            for key in sorted(value):
                self.write_indent()
                if '\n' not in key and not any(c in _YAML_BREAKS for c in key) and len(key.encode('utf-8')) <= 128:
                    self.node(key, mapping=True, simple_key=True)
                    self.indicator(':', False, False, False)
                else:
                    self.indicator('?', True, False, True)
                    self.node(key, mapping=True)
                    self.write_indent()
                    self.indicator(':', True, False, True)
                self.node(value[key], mapping=True)
            self.indent = self.indents.pop()
        else:
            self.scalar(value)
        return None

    def empty(self, start, end):
        self.indicator(start, True, True, False)
        self.increase_indent(True, False)
        self.indent = self.indents.pop()
        self.indicator(end, False, False, False)

    def scalar(self, value):
        self.increase_indent(True, False)
        if type(value) is str:
            if '\n' in value and self.block_allowed(value) and not self.simple_key:
                self.literal(value)
            else:
                self.double_quoted(value, not self.simple_key)
        else:
            text = 'null' if value is None else ('true' if value else 'false') if type(value) is bool \
                else format_number(value)
            if not self.whitespace:
                self.put(' ')
            self.put(text)
            self.whitespace = self.indention = False
            if self.root:
                self.open_ended = True
        self.indent = self.indents.pop()

    @staticmethod
    def block_allowed(value):
        if value.endswith(' ') or any(not _yaml_printable(ord(c)) for c in value):
            return False
        # A space before a line break rules the block styles out.
        return not any(value[i] == ' ' and value[i + 1] in _YAML_BREAKS for i in range(len(value) - 1))

    def double_quoted(self, value, allow_breaks):
        self.indicator('"', True, False, False)
        bom = value.startswith('\ufeff')
        spaces = False
        for i, char in enumerate(value):
            code = ord(char)
            if not _yaml_printable(code) or bom or char in _YAML_BREAKS or char in '"\\':
                if code in _YAML_ESCAPES:
                    self.put('\\' + _YAML_ESCAPES[code])
                elif code <= 0xFF:
                    self.put('\\x%02X' % code)
                elif code <= 0xFFFF:
                    self.put('\\u%04X' % code)
                else:
                    self.put('\\U%08X' % code)
                spaces = False
            elif char == ' ':
                if allow_breaks and not spaces and self.column > 80 and 0 < i < len(value) - 1:
                    self.write_indent()
                    if value[i + 1] == ' ':
                        self.put('\\')
                else:
                    self.put(char)
                spaces = True
            else:
                self.put(char)
                spaces = False
        self.indicator('"', False, False, False)
        self.whitespace = self.indention = False

    def literal(self, value):
        self.indicator('|', True, False, False)
        if value[0] == ' ' or value[0] in _YAML_BREAKS:
            self.indicator('2', False, False, False)
        chomp = None
        if value[-1] not in _YAML_BREAKS:
            chomp = '-'
        elif len(value) == 1 or value[-2] in _YAML_BREAKS:
            chomp = '+'
        if chomp:
            self.indicator(chomp, False, False, False)
        self.put_break()
        self.indention = self.whitespace = True
        breaks = True
        for char in value:
            if char in _YAML_BREAKS:
                if char == '\n':
                    self.put_break()
                else:
                    self.out.append(char)
                    self.column = 0
                self.indention = breaks = True
            else:
                if breaks:
                    self.write_indent()
                self.put(char)
                self.indention = breaks = False


def _f_yamlencode(value):
    return _YamlEmitter().document(value)


# ---------------------------------------------------------------- filesystem (go-cty-funcs' filesystem package)

def _go_clean(path):
    """Go's filepath.Clean on a POSIX system."""
    if path == '':
        return '.'
    rooted = path.startswith('/')
    parts = []
    for part in path.split('/'):
        if part in ('', '.'):
            continue
        if part == '..':
            if parts and parts[-1] != '..':
                parts.pop()
            elif not rooted:
                parts.append('..')
            continue
        parts.append(part)
    cleaned = '/'.join(parts)
    if rooted:
        return '/' + cleaned
    return cleaned or '.'


def _go_join(*parts):
    parts = [p for p in parts if p]
    return _go_clean('/'.join(parts)) if parts else ''


def _home_expand(path):
    """go-homedir's Expand."""
    if not path or path[0] != '~':
        return path
    if len(path) > 1 and path[1] not in '/\\':
        raise FuncError('cannot expand user-specific home dir')
    home = os.environ.get('HOME') or os.path.expanduser('~')
    return _go_join(home, path[1:])


def _fs_path(base_dir, path):
    try:
        path = _home_expand(path)
    except FuncError as exc:
        raise FuncError('failed to expand ~: %s' % exc)
    if not path.startswith('/'):
        path = _go_join(base_dir, path)
    return _go_clean(path)


def _go_mode(mode):
    """Go's FileMode.String for what os.Stat reports."""
    import stat  # pylint: disable=import-outside-toplevel
    kinds = ''
    if stat.S_ISDIR(mode):
        kinds += 'd'
    if stat.S_ISBLK(mode) or stat.S_ISCHR(mode):
        kinds += 'D'
    if stat.S_ISFIFO(mode):
        kinds += 'p'
    if stat.S_ISSOCK(mode):
        kinds += 'S'
    if mode & stat.S_ISUID:
        kinds += 'u'
    if mode & stat.S_ISGID:
        kinds += 'g'
    if stat.S_ISCHR(mode):
        kinds += 'c'
    if mode & stat.S_ISVTX:
        kinds += 't'
    return (kinds or '-') + ''.join(c if mode & (1 << (8 - i)) else '-' for i, c in enumerate('rwxrwxrwx'))


def _f_file(base_dir, path):
    full = _fs_path(base_dir, path)
    try:
        with open(full, 'rb') as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise FuncError('no file exists at %s' % full)
    except OSError:
        raise FuncError('failed to read %s' % full)
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        raise FuncError('contents of %s are not valid UTF-8; use the filebase64 function to obtain the Base64 '
                        'encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file '
                        'hashing results instead' % path)
    # cty.StringVal keeps strings in NFC.
    return unicodedata.normalize('NFC', text)


def _f_fileexists(base_dir, path):
    import stat  # pylint: disable=import-outside-toplevel
    full = _fs_path(base_dir, path)
    try:
        info = os.stat(full)
    except FileNotFoundError:
        return False
    except OSError:
        raise FuncError('failed to stat %s' % full)
    if stat.S_ISREG(info.st_mode):
        return True
    raise FuncError('%s is not a regular file, but %s' % (full, _go_q(_go_mode(info.st_mode))))


def _glob_split(path, sep):
    """doublestar's splitPathOnSeparator: a separator after a backslash is kept."""
    if sep not in path:
        return [path]
    out, start = [], 0
    while start < len(path):
        end = path.find(sep, start)
        while end > start and path[end - 1] == '\\':
            end = path.find(sep, end + 1)
        if end == -1:
            out.append(path[start:])
            return out
        out.append(path[start:end])
        start = end + 1
    out.append('')
    return out


class _BadPattern(Exception):
    pass


def _glob_match(pattern, name):
    """doublestar 1.1.5's matchComponent."""
    if not pattern:
        return not name
    if not name and pattern != '*':
        return False
    p = n = 0
    while p < len(pattern) and n < len(name):
        char = pattern[p]
        if char == '\\':
            p += 1
            if p >= len(pattern):
                raise _BadPattern()
            if pattern[p] != name[n]:
                return False
            p, n = p + 1, n + 1
        elif char == '*':
            p += 1
            if p >= len(pattern):
                return True
            return any(_glob_match(pattern[p:], name[i:]) for i in range(n, len(name)))
        elif char == '[':
            p += 1
            end = _escaped_index(pattern[p:], ']')
            if end == -1:
                raise _BadPattern()
            end += p
            runes = pattern[p:end]
            if not runes:
                raise _BadPattern()
            i, matched = (1 if runes[0] == '^' else 0), False
            while i < len(runes):
                low = runes[i]
                if low == '-':
                    raise _BadPattern()
                i += 1
                if low == '\\':
                    if i >= len(runes):
                        raise _BadPattern()
                    low, i = runes[i], i + 1
                high = low
                if i < len(runes) and runes[i] == '-':
                    i += 1
                    if i >= len(runes):
                        raise _BadPattern()
                    high = runes[i]
                    if high == '-':
                        raise _BadPattern()
                    i += 1
                    if high == '\\':
                        if i >= len(runes):
                            raise _BadPattern()
                        high, i = runes[i], i + 1
                if low <= name[n] <= high:
                    matched = True
            if matched == (runes[0] == '^'):
                return False
            p, n = end + 1, n + 1
        elif char == '{':
            p += 1
            end = _escaped_index(pattern[p:], '}')
            if end == -1:
                raise _BadPattern()
            end += p
            options = _glob_split(pattern[p:end], ',')
            rest = pattern[end + 1:]
            return any(_glob_match(option + rest, name[n:]) for option in options)
        elif char == '?' or char == name[n]:
            p, n = p + 1, n + 1
        else:
            return False
    if p >= len(pattern) and n >= len(name):
        return True
    return (n >= len(name) and pattern[p:] == '*') or pattern[p:] == '**'


def _escaped_index(text, char):
    end = text.find(char)
    if end > 0 and text[end - 1] == '\\':
        rest = _escaped_index(text[end + 1:], char)
        return -1 if rest == -1 else rest + end + 1
    return end


def _glob(base, components, matches):
    """doublestar 1.1.5's doGlob; returns the error it would (bad pattern)."""
    idx = 0
    while idx < len(components) and not any(c in components[idx] for c in '*?[{\\'):
        idx += 1
    if idx:
        base = _go_join(base, _go_join(*components[:idx]))
    try:
        info = os.lstat(base)
    except OSError:
        return None
    if idx >= len(components):
        matches.append(base)
        return None
    if os.path.islink(base):
        try:
            info = os.stat(base)
        except OSError:
            return None
    import stat  # pylint: disable=import-outside-toplevel
    if not stat.S_ISDIR(info.st_mode):
        return None
    try:
        names = os.listdir(base)
    except OSError:
        return None
    err = None
    last = idx + 1 >= len(components)
    if components[idx] == '**':
        for name in names:
            path = _go_join(base, name)
            if os.path.isdir(path):
                if last:
                    matches.append(path)
                err = _glob(path, components[idx:], matches)
            elif last and (os.path.exists(path) or not os.path.islink(path)):
                matches.append(path)
        if last:
            return err
        idx += 1
        last = idx + 1 >= len(components)
    for name in names:
        try:
            matched = _glob_match(components[idx], name)
            err = None
        except _BadPattern as exc:
            return exc
        if matched:
            if last:
                matches.append(_go_join(base, name))
            else:
                err = _glob(_go_join(base, name), components[idx + 1:], matches)
    return err


def _f_fileset(base_dir, path, pattern):
    if not path.startswith('/'):
        path = _go_join(base_dir, path)
    pattern = _go_join(path, pattern)
    components = _glob_split(pattern, '/')
    matches = []
    if components[0] == '':
        err = _glob('/', components[1:], matches)
    else:
        err = _glob('.', components, matches)
    if err is not None:
        raise FuncError('failed to glob pattern (%s): syntax error in pattern' % pattern)
    import stat  # pylint: disable=import-outside-toplevel
    out = []
    for match in matches:
        try:
            info = os.stat(match)
        except OSError as exc:
            raise FuncError('failed to stat (%s): stat %s: %s' % (match, match, exc.strerror.lower()))
        if not stat.S_ISREG(info.st_mode):
            continue
        out.append(os.path.relpath(match, path))
    return CtySet(_set_order(out), STRING)


def _f_abspath(base_dir, path):
    # Nomad's CLI resolves against its working directory, which is also its
    # base directory; the base directory stands in for both here.
    if path.startswith('/'):
        return _go_clean(path)
    return _go_clean(_go_join(os.path.abspath(base_dir), path))


def _f_basename(path):
    if path == '':
        return '.'
    path = path.rstrip('/')
    if path == '':
        return '/'
    return path[path.rfind('/') + 1:]


def _f_dirname(path):
    return _go_clean(path[:path.rfind('/') + 1])


def _f_pathexpand(path):
    return _home_expand(path)


def _unsupported():
    def impl(*_args):
        raise FuncError('not supported by this evaluator (Nomad computes it; use a literal value instead)')
    return impl


def _digest(algo):
    return lambda text: hashlib.new(algo, text.encode('utf-8')).hexdigest()


_S, _N, _B = (STRING, False), (NUMBER, False), (BOOL, False)


def _p(*specs):
    """Parameter list: ('name', (type, allow_null)) pairs."""
    return [(name, spec[0], spec[1]) for name, spec in specs]


_LIST_ANY, _LIST_STR = ('list', ANY), ('list', STRING)
_DYN = (ANY, False)

FUNCTIONS = {
    'abs': Func(_p(('num', _N)), abs),
    'base64decode': Func(_p(('str', _S)), _f_base64decode),
    'base64encode': Func(_p(('str', _S)), lambda s: base64.b64encode(s.encode('utf-8')).decode('ascii')),
    'bcrypt': Func(_p(('str', _S)), _unsupported(), var=('cost', NUMBER, False)),
    'ceil': Func(_p(('num', _N)), _f_ceil),
    'chomp': Func(_p(('str', _S)), _f_chomp),
    'chunklist': Func(_p(('list', (_LIST_ANY, False)), ('size', _N)), _f_chunklist),
    'cidrhost': Func(_p(('prefix', _S), ('hostnum', _N)), _f_cidrhost),
    'cidrnetmask': Func(_p(('prefix', _S)), _f_cidrnetmask),
    'cidrsubnet': Func(_p(('prefix', _S), ('newbits', _N), ('netnum', _N)), _f_cidrsubnet),
    'cidrsubnets': Func(_p(('prefix', _S)), _f_cidrsubnets, var=('newbits', NUMBER, False)),
    'coalesce': Func([], _f_coalesce, var=('vals', ANY, True)),
    'coalescelist': Func([], _f_coalescelist, var=('vals', ANY, True)),
    'compact': Func(_p(('list', (_LIST_STR, False))), _f_compact),
    'concat': Func([], _f_concat, var=('seqs', ANY, False)),
    'contains': Func(_p(('list', _DYN), ('value', _DYN)), _f_contains),
    'csvdecode': Func(_p(('str', _S)), _f_csvdecode),
    'distinct': Func(_p(('list', (_LIST_ANY, False))), _f_distinct),
    'element': Func(_p(('list', _DYN), ('index', _N)), _f_element),
    'flatten': Func(_p(('list', _DYN)), _f_flatten),
    'floor': Func(_p(('num', _N)), _f_floor),
    'format': Func(_p(('format', _S)), _f_format, var=('args', ANY, True)),
    'formatdate': Func(_p(('format', _S), ('time', _S)), _f_formatdate),
    'formatlist': Func(_p(('format', _S)), _f_formatlist, var=('args', ANY, True)),
    'indent': Func(_p(('spaces', _N), ('str', _S)), _f_indent),
    'index': Func(_p(('list', _DYN), ('value', _DYN)), _f_index),
    'join': Func(_p(('separator', _S)), _f_join, var=('lists', _LIST_STR, False)),
    'jsondecode': Func(_p(('str', _S)), _f_jsondecode),
    'jsonencode': Func(_p(('val', (ANY, True))), to_json),
    'keys': Func(_p(('inputMap', _DYN)), _f_keys),
    'length': Func(_p(('value', _DYN)), _f_length),
    'log': Func(_p(('num', _N), ('base', _N)), _f_log),
    'lookup': Func(_p(('inputMap', _DYN), ('key', _S), ('default', _DYN)), _f_lookup),
    'lower': Func(_p(('str', _S)), lambda s: s.lower()),
    'max': Func([], _f_minmax(max), var=('numbers', NUMBER, False)),
    'md5': Func(_p(('str', _S)), _digest('md5')),
    'merge': Func([], _f_merge, var=('maps', ANY, True)),
    'min': Func([], _f_minmax(min), var=('numbers', NUMBER, False)),
    'parseint': Func(_p(('number', _DYN), ('base', _N)), _f_parseint),
    'pow': Func(_p(('num', _N), ('power', _N)), _f_pow),
    'range': Func([], _f_range, var=('params', NUMBER, False)),
    # Nomad maps reverse to cty's string reverse, like strrev.
    'reverse': Func(_p(('str', _S)), lambda s: ''.join(reversed(_graphemes(s)))),
    'replace': Func(_p(('str', _S), ('substr', _S), ('replace', _S)), _f_replace),
    'regex_replace': Func(_p(('str', _S), ('substr', _S), ('replace', _S)), _f_regex_replace),
    'rsadecrypt': Func(_p(('ciphertext', _S), ('privatekey', _S)), _unsupported()),
    'setintersection': Func(_p(('first_set', (('set', ANY), False))), _f_set('intersection'),
                            var=('other_sets', ('set', ANY), False)),
    'setproduct': Func([], _f_setproduct, var=('sets', ('list', ANY), False)),
    'setunion': Func(_p(('first_set', (('set', ANY), False))), _f_set('union'), var=('other_sets', ('set', ANY), False)),
    'sha1': Func(_p(('str', _S)), _digest('sha1')),
    'sha256': Func(_p(('str', _S)), _digest('sha256')),
    'sha512': Func(_p(('str', _S)), _digest('sha512')),
    'signum': Func(_p(('num', _N)), _f_signum),
    'slice': Func(_p(('list', (_LIST_ANY, False)), ('start_index', _N), ('end_index', _N)), _f_slice),
    'sort': Func(_p(('list', (_LIST_STR, False))), _f_sort),
    'split': Func(_p(('separator', _S), ('str', _S)), lambda sep, s: CtyList(s.split(sep) if sep else list(s), STRING)),
    'strrev': Func(_p(('str', _S)), lambda s: ''.join(reversed(_graphemes(s)))),
    'substr': Func(_p(('str', _S), ('offset', _N), ('length', _N)), _f_substr),
    'timeadd': Func(_p(('timestamp', _S), ('duration', _S)), _f_timeadd),
    'title': Func(_p(('str', _S)), _go_title),
    'trim': Func(_p(('str', _S), ('cutset', _S)), _f_trim),
    'trimprefix': Func(_p(('str', _S), ('prefix', _S)), _f_trimprefix),
    'trimspace': Func(_p(('str', _S)), lambda s: s.strip(' \t\n\r\v\f\u0085\u00a0')),
    'trimsuffix': Func(_p(('str', _S), ('suffix', _S)), _f_trimsuffix),
    'upper': Func(_p(('str', _S)), lambda s: s.upper()),
    'urlencode': Func(_p(('str', _S)), _f_urlencode),
    'uuidv4': Func([], lambda: str(uuid.uuid4())),
    'uuidv5': Func(_p(('namespace', _S), ('name', _S)), _f_uuidv5),
    'values': Func(_p(('mapping', _DYN)), _f_values),
    'yamldecode': Func(_p(('src', _S)), _f_yamldecode),
    'yamlencode': Func(_p(('value', (ANY, True))), _f_yamlencode),
    'zipmap': Func(_p(('keys', (_LIST_STR, False)), ('values', _DYN)), _f_zipmap),
}
# Nomad's CLI parses with AllowFS and the job file's directory as base; its
# API does neither.
FUNCTIONS.update({
    'abspath': Func(_p(('path', _S)), _f_abspath, fs=True),
    'basename': Func(_p(('path', _S)), lambda _base, path: _f_basename(path), fs=True),
    'dirname': Func(_p(('path', _S)), lambda _base, path: _f_dirname(path), fs=True),
    'file': Func(_p(('path', _S)), _f_file, fs=True),
    'fileexists': Func(_p(('path', _S)), _f_fileexists, fs=True),
    'fileset': Func(_p(('path', _S), ('pattern', _S)), _f_fileset, fs=True),
    'pathexpand': Func(_p(('path', _S)), lambda _base, path: _f_pathexpand(path), fs=True),
})


# ---------------------------------------------------------------- type expressions

def parse_type(expr, constraint=False):
    """typeexpr.Type (constraint=False, as Nomad's variable blocks use it) or
    TypeConstraint (``any`` allowed)."""
    summary = 'Invalid type specification'
    if type(expr) is Traversal and not expr.steps:
        kw = expr.name
        if kw in _PRIMITIVES:
            return kw
        if kw == 'any':
            if constraint:
                return ANY
            raise Diag(summary, 'The keyword "any" cannot be used in this type specification: an exact type is '
                       'required.', expr.rng)
        if kw in ('list', 'map', 'set'):
            raise Diag(summary, 'The %s type constructor requires one argument specifying the element type.' % kw,
                       expr.rng)
        if kw == 'object':
            raise Diag(summary, 'The object type constructor requires one argument specifying the attribute types '
                       'and values as a map.', expr.rng)
        if kw == 'tuple':
            raise Diag(summary, 'The tuple type constructor requires one argument specifying the element types as a '
                       'list.', expr.rng)
        raise Diag(summary, 'The keyword "%s" is not a valid type specification.' % kw, expr.rng)
    if type(expr) is not Call:
        raise Diag(summary, 'A type specification is either a primitive type keyword (bool, number, string) or a '
                   'complex type constructor call, like list(string).', expr.rng)
    name = expr.name
    if name in _PRIMITIVES:
        raise Diag(summary, 'Primitive type keyword "%s" does not expect arguments.' % name, expr.rng)
    if name in ('list', 'map', 'set'):
        if len(expr.args) != 1:
            raise Diag(summary, 'The %s type constructor requires one argument specifying the element type.' % name,
                       expr.rng)
        return (name, parse_type(expr.args[0], constraint))
    if name == 'object':
        if len(expr.args) != 1 or type(expr.args[0]) is not ObjectCons:
            raise Diag(summary, 'Object type constructor requires a map whose keys are attribute names and whose '
                       'values are the corresponding attribute types.', expr.rng)
        attrs = []
        for key_expr, literal, val_expr in expr.args[0].items:
            if literal is None:
                raise Diag(summary, 'Object constructor map keys must be attribute names.', key_expr.rng)
            attrs.append((literal, parse_type(val_expr, constraint)))
        return ('object', tuple(sorted(attrs)))
    if name == 'tuple':
        if len(expr.args) != 1 or type(expr.args[0]) is not TupleCons:
            raise Diag(summary, 'Tuple type constructor requires a list of element types.', expr.rng)
        return ('tuple', tuple(parse_type(e, constraint) for e in expr.args[0].items))
    raise Diag(summary, 'Keyword "%s" is not a valid type constructor.' % name, expr.rng)


# ---------------------------------------------------------------- parsing

_ESCAPES = {'n': '\n', 'r': '\r', 't': '\t', '"': '"', '\\': '\\'}
_ESCAPE_RE = re.compile(r'\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)', re.S)


def _lark():
    # python-hcl2 builds its Lark parser once per process, from a cache file
    # kept next to its grammar; reusing it avoids a 2-second grammar build.
    return hcl2_lark_parser()


def _span(node):
    if isinstance(node, Token):
        return node.start_pos, node.end_pos
    return node.meta.start_pos, node.meta.end_pos


def _children(tree):
    """The children that matter: comments and newlines dropped."""
    return [c for c in tree.children if not (isinstance(c, Tree) and c.data == 'new_line_or_comment')
            and not (isinstance(c, Token) and c.type == 'NL_OR_COMMENT')]


def _first_token(node):
    while isinstance(node, Tree):
        node = node.children[0]
    return node


class _Lowerer:
    """Turns python-hcl2's Lark tree into our AST, with offsets into ``src``.
    ``shift`` moves positions when the text parsed is a piece of ``src``."""

    def __init__(self, src, shift=0):
        self.src = src
        self.shift = shift

    def rng(self, node, end_node=None):
        start, end = _span(node)
        if end_node is not None:
            end = _span(end_node)[1]
        return (self.src, start + self.shift, end + self.shift)

    def fail(self, summary, detail, node):
        raise Diag(summary, detail, self.rng(node))

    # -- structure ---------------------------------------------------------

    def body(self, tree, outer=None):
        attrs, blocks = {}, []
        previous = None
        for item in tree.children:
            if not isinstance(item, Tree) or item.data not in ('attribute', 'block'):
                continue
            if item.data == 'attribute':
                name_node = item.children[0]
                name = _first_token(name_node).value
                name_rng = self.rng(name_node)
                self.check_newline(previous, name_rng[1])
                if name in attrs:
                    earlier = attrs[name].name_rng
                    raise Diag('Attribute redefined', 'The argument "%s" was already set at %s. Each argument may be '
                               'set only once.' % (name, self.src.range_text(earlier[1], earlier[2])), name_rng)
                expr = self.expr(item.children[-1])
                attrs[name] = Attr(name, expr, name_rng, (self.src, name_rng[1], expr.rng[2]))
                previous = ('attribute', expr.rng[2])
            else:
                block = self.block(item)
                self.check_newline(previous, block.type_rng[1])
                blocks.append(block)
                previous = ('block', block.body.rng[2])
        if outer is not None:
            rng = outer
        elif tree.meta.empty:
            rng = (self.src, self.shift, self.shift)
        else:
            rng = self.rng(tree)
        return Body(attrs, blocks, rng)

    def check_newline(self, previous, start):
        # The grammar lets items share a line; HCL wants one per line.
        if previous is None or self.src.pos(previous[1])[0] != self.src.pos(start)[0]:
            return
        if previous[0] == 'attribute':
            raise Diag('Missing newline after argument', 'An argument definition must end with a newline.',
                       (self.src, start, start))
        raise Diag('Missing newline after block definition', 'A block definition must end with a newline.',
                   (self.src, start, start))

    def block(self, tree):
        children = tree.children
        type_node = children[0]
        labels, label_rngs = [], []
        open_brace = None
        body_tree = None
        for child in children[1:]:
            if isinstance(child, Token):
                if child.type == 'LBRACE':
                    open_brace = child
                continue
            if child.data == 'string':
                parts = self.template_parts(child)
                if any(type(p) is not Literal for p in parts):
                    self.fail('Invalid string literal', 'Template sequences are not allowed in this string. To include '
                              'a literal "$", double it (as "$$") to escape it.', child)
                labels.append(''.join(p.value for p in parts))
                label_rngs.append(self.rng(child))
            elif child.data in ('identifier', 'keyword', 'literal_value'):
                labels.append(_first_token(child).value)
                label_rngs.append(self.rng(child))
            elif child.data == 'body':
                body_tree = child
            elif child.data == 'new_line_or_comment' and open_brace is None:
                self.fail('Invalid block definition', 'A block definition must have block content delimited by "{" '
                          'and "}", starting on the same line as the block header.', child)
        open_rng = self.rng(open_brace)
        close = children[-1]
        body_rng = (self.src, open_rng[1], _span(close)[1] + self.shift)
        body = self.body(body_tree, body_rng)
        return Block(_first_token(type_node).value, labels, label_rngs, self.rng(type_node), body, open_rng)

    # -- expressions -------------------------------------------------------

    def expr(self, node):
        if isinstance(node, Token):
            raise AssertionError(node)
        method = getattr(self, 'x_' + node.data)
        return method(node)

    def x_expr_term(self, tree):
        kids = _children(tree)
        if len(kids) == 1:
            return self.expr(kids[0])
        # ( expression ): parentheses only group.
        return self.expr(kids[1])

    def x_int_lit(self, tree):
        return Literal(int(tree.children[0].value), self.rng(tree))

    def x_float_lit(self, tree):
        return Literal(_number(Decimal(tree.children[0].value)), self.rng(tree))

    def x_literal_value(self, tree):
        token = tree.children[0].value
        return Literal({'true': True, 'false': False, 'null': None}[token], self.rng(tree))

    def x_identifier(self, tree):
        token = tree.children[0]
        rng = self.rng(tree)
        return Traversal(token.value, [], rng, rng)

    def x_string(self, tree):
        parts = self.template_parts(tree)
        return self.template(parts, self.rng(tree))

    def x_template_string(self, tree):
        self.fail('Invalid expression', 'Expected the start of an expression, but found an invalid expression token.',
                  tree)

    def template(self, parts, rng):
        if len(parts) == 1 and type(parts[0]) is Interp:
            return TemplateWrap(parts[0].expr, rng)
        if not parts:
            parts = [Literal('', (rng[0], rng[1] + 1, rng[1] + 1))]
        return Template(parts, rng)

    def x_heredoc_template(self, tree, flush=False):
        token = tree.children[0]
        text = token.value
        first_nl = text.index('\n')
        # The token ends with the closing marker's line; split at the last
        # newline before it so blank lines stay part of the content.
        inner = text[first_nl + 1:len(text) - 1]
        cut = inner.rfind('\n')
        content = inner[:cut + 1] if cut >= 0 else ''
        base = token.start_pos + self.shift + first_nl + 1
        parts = _scan_template(content, self.src, base, flush=flush)
        # The token takes the newline after the closing marker; the range does not.
        src, start, end = self.rng(tree)
        return self.template(parts, (src, start, end - 1))

    def x_heredoc_template_trim(self, tree):
        return self.x_heredoc_template(tree, flush=True)

    def x_tuple(self, tree):
        items = [self.expr(c) for c in _children(tree) if isinstance(c, Tree)]
        return TupleCons(items, self.rng(tree))

    def x_object(self, tree):
        items = []
        for elem in _children(tree):
            if not isinstance(elem, Tree) or elem.data != 'object_elem':
                continue
            key_node, value_node = elem.children[0], elem.children[-1]
            key_inner = key_node.children[0]
            literal = None
            if isinstance(key_inner, Tree) and key_inner.data == 'keyword':
                literal = _first_token(key_inner).value
                key_expr = Literal(literal, self.rng(key_inner))
            else:
                term = key_inner
                kids = _children(term) if isinstance(term, Tree) and term.data == 'expr_term' else None
                key_expr = self.expr(key_inner)
                # A bare name is a literal key; parentheses force evaluation.
                if type(key_expr) is Traversal and not key_expr.steps and kids and len(kids) == 1:
                    literal = key_expr.name
            items.append((key_expr, literal, self.expr(value_node)))
        return ObjectCons(items, self.rng(tree))

    def x_function_call(self, tree):
        kids = _children(tree)
        names = [k for k in kids if isinstance(k, Tree) and k.data == 'identifier']
        if len(names) > 1:
            self.fail('Invalid function name', 'Namespaced function names are not supported by Nomad 1.1.0.', tree)
        name_node = names[0]
        lpar = next(k for k in kids if isinstance(k, Token) and k.type == 'LPAR')
        rpar = kids[-1]
        args, expand = [], False
        for k in kids:
            if isinstance(k, Tree) and k.data == 'arguments':
                for a in _children(k):
                    if isinstance(a, Tree):
                        args.append(self.expr(a))
                    elif a.type == 'ELLIPSIS':
                        expand = True
        return Call(_first_token(name_node).value, args, expand, self.rng(tree), self.rng(name_node),
                    lpar.end_pos + self.shift, self.rng(rpar))

    def x_conditional(self, tree):
        kids = [k for k in _children(tree) if isinstance(k, Tree)]
        return Conditional(self.expr(kids[0]), self.expr(kids[1]), self.expr(kids[2]), self.rng(tree))

    def x_binary_op(self, tree):
        left, term = [k for k in _children(tree) if isinstance(k, Tree)][:2]
        op_node, right = [k for k in _children(term) if isinstance(k, Tree)][:2]
        op = _first_token(op_node).value.strip().split()[-1]
        left, right = self.expr(left), self.expr(right)
        # The rule's span may run over a trailing newline; use the operands'.
        return BinaryOp(op, left, right, (self.src, left.rng[1], right.rng[2]))

    def x_unary_op(self, tree):
        op = tree.children[0].value
        operand = self.expr(tree.children[1])
        if op == '-' and type(operand) is Literal and is_number(operand.value):
            return Literal(-operand.value, self.rng(tree))
        return UnaryOp(op, operand, self.rng(tree))

    def step(self, node):
        """One traversal step: ('attr', name, rng), ('index', key, rng) or
        ('expr', key expression, rng) when the key is not a literal."""
        rng = self.rng(node)
        if node.data == 'get_attr':
            return ('attr', _first_token(node.children[1]).value, rng)
        if node.data == 'short_index':
            return ('index', int(node.children[1].value), rng)
        key = self.expr([k for k in _children(node) if isinstance(k, Tree)][0])
        if type(key) is Literal:
            return ('index', key.value, rng)
        if type(key) is Template and len(key.parts) == 1 and type(key.parts[0]) is Literal:
            return ('index', key.parts[0].value, rng)
        return ('expr', key, rng)

    def with_step(self, source, step, tree):
        rng = self.rng(tree)
        if step[0] != 'expr':
            if type(source) is Traversal:
                return Traversal(source.name, source.steps + [step], rng, source.root_rng)
            if type(source) is RelTraversal:
                return RelTraversal(source.source, source.steps + [step], rng)
            return RelTraversal(source, [step], rng)
        return Index(source, step[1], rng, step[2])

    def x_get_attr_expr_term(self, tree):
        return self.with_step(self.expr(tree.children[0]), self.step(tree.children[1]), tree)

    def x_index_expr_term(self, tree):
        return self.with_step(self.expr(tree.children[0]), self.step(tree.children[1]), tree)

    def x_full_splat_expr_term(self, tree):
        source = self.expr(tree.children[0])
        splat = tree.children[1]
        steps = [self.step(s) for s in splat.children[1:] if isinstance(s, Tree)]
        return Splat(source, steps, self.rng(tree))

    def x_attr_splat_expr_term(self, tree):
        source = self.expr(tree.children[0])
        nodes = [s for s in tree.children[1].children[1:] if isinstance(s, Tree)]
        # An attribute-only splat takes attribute steps; an index after them
        # applies to the splat's result, as in hclsyntax.
        inner = 0
        while inner < len(nodes) and nodes[inner].data == 'get_attr':
            inner += 1
        result = Splat(source, [self.step(s) for s in nodes[:inner]], self.rng(tree))
        for node in nodes[inner:]:
            result = self.with_step(result, self.step(node), tree)
        return result

    def x_for_tuple_expr(self, tree):
        return self.for_expr(tree, False)

    def x_for_object_expr(self, tree):
        return self.for_expr(tree, True)

    def for_expr(self, tree, is_object):
        kids = _children(tree)
        intro = next(k for k in kids if isinstance(k, Tree) and k.data == 'for_intro')
        names, coll = _for_parts(intro)
        coll = self.expr(coll)
        key_var, val_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        exprs = [k for k in kids if isinstance(k, Tree) and k.data not in ('for_intro', 'for_cond')]
        cond_node = next((k for k in kids if isinstance(k, Tree) and k.data == 'for_cond'), None)
        cond = None
        if cond_node is not None:
            cond = self.expr([k for k in cond_node.children if isinstance(k, Tree)
                              and k.data != 'new_line_or_comment'][0])
        group = any(isinstance(k, Token) and k.type == 'ELLIPSIS' for k in kids)
        if is_object:
            key, value = self.expr(exprs[0]), self.expr(exprs[1])
        else:
            key, value = None, self.expr(exprs[0])
        return ForExpr(key_var, val_var, coll, key, value, cond, group, is_object, self.rng(tree))

    # -- quoted templates --------------------------------------------------

    def template_parts(self, tree):
        """A quoted string's parts, directives nested, strip markers applied."""
        flat = []
        for part in tree.children:
            if isinstance(part, Token):
                continue
            inner = part.children[0]
            if isinstance(inner, Token):
                text = inner.value
                if inner.type == 'ESCAPED_INTERPOLATION' or inner.type == 'ESCAPED_DIRECTIVE':
                    # $${ and %%{ stand for a literal ${ and %{.
                    text = text[1:2] + '{' + self.unescape(text[3:], inner)
                elif '\n' in text:
                    self.fail('Invalid multi-line string', 'Quoted strings may not be split over multiple lines. To '
                              'produce a multi-line string, either use the \\n escape to represent a newline '
                              'character or use the "heredoc" multi-line template syntax.', inner)
                else:
                    text = self.unescape(text, inner)
                flat.append(('lit', text, self.rng(inner)))
            elif inner.data == 'interpolation':
                flat.append(('interp', self.expr(inner.children[1]), False, False))
            else:
                flat.append(self.directive_from_tree(inner))
        return _assemble(flat, self.src)

    def unescape(self, text, token):
        if '\\' not in text:
            return text

        def sub(match):
            seq = match.group(1)
            if seq[0] in 'uU':
                return chr(int(seq[1:], 16))
            if seq in _ESCAPES:
                return _ESCAPES[seq]
            raise Diag('Invalid escape sequence', 'The symbol "%s" is not a valid escape sequence selector.' % seq,
                       self.rng(token))
        return _ESCAPE_RE.sub(sub, text)

    def directive_from_tree(self, tree):
        tokens = [c for c in tree.children if isinstance(c, Token)]
        strip_left = len(tokens) > 1 and tokens[1].type == 'STRIP_MARKER'
        strip_right = len(tokens) > 1 and tokens[-2].type == 'STRIP_MARKER'
        rng = self.rng(tree)
        kind = tree.data[len('template_'):]
        if kind == 'if_start':
            cond = self.expr([c for c in tree.children if isinstance(c, Tree)][0])
            return ('if', cond, strip_left, strip_right, rng)
        if kind == 'for_start':
            names, coll = _for_parts(tree)
            return ('for', names, self.expr(coll), strip_left, strip_right, rng)
        return (kind, strip_left, strip_right, rng)


def _for_parts(tree):
    """The names a 'for' binds (before ``in``) and its collection (after)."""
    names, coll, seen_in = [], None, False
    for child in _children(tree):
        if isinstance(child, Token):
            seen_in = seen_in or child.type == 'IN'
        elif not seen_in and child.data == 'identifier':
            names.append(_first_token(child).value)
        elif seen_in and coll is None:
            coll = child
    return names, coll


def _assemble(flat, src):
    """Nest flat template items (literals, interpolations, directives) into
    parts, applying ~ strip markers to the neighbouring literals."""
    # First apply strip markers: a marker trims whitespace of the adjacent literal.
    items = list(flat)
    for i, item in enumerate(items):
        kind = item[0]
        if kind == 'lit':
            continue
        left, right = _strips(item)
        if left and i > 0 and items[i - 1][0] == 'lit':
            prev = items[i - 1]
            items[i - 1] = ('lit', prev[1].rstrip(' \t\r\n'), prev[2])
        if right and i + 1 < len(items) and items[i + 1][0] == 'lit':
            nxt = items[i + 1]
            items[i + 1] = ('lit', nxt[1].lstrip(' \t\r\n'), nxt[2])
    root = []
    stack = [(None, root)]
    for item in items:
        kind = item[0]
        target = stack[-1][1]
        if kind == 'lit':
            if not item[1]:
                continue
            if target and type(target[-1]) is Literal:
                prev = target[-1]
                target[-1] = Literal(prev.value + item[1], (src, prev.rng[1], item[2][2]))
            else:
                target.append(Literal(item[1], item[2]))
        elif kind == 'interp':
            target.append(Interp(item[1]))
        elif kind == 'if':
            directive = IfDirective(item[1], item[4])
            target.append(directive)
            stack.append((directive, directive.then))
        elif kind == 'for':
            names = item[1]
            directive = ForDirective(names[0] if len(names) == 2 else None, names[-1], item[2], item[5])
            target.append(directive)
            stack.append((directive, directive.body))
        elif kind == 'else':
            owner = stack[-1][0]
            if type(owner) is not IfDirective or owner.otherwise is not None:
                raise Diag('Unexpected "else" directive', 'An "else" clause must be within an "if" template directive.',
                           item[3])
            owner.otherwise = []
            stack[-1] = (owner, owner.otherwise)
        elif kind in ('endif', 'endfor'):
            owner = stack[-1][0]
            want = IfDirective if kind == 'endif' else ForDirective
            if type(owner) is not want:
                raise Diag('Unexpected "%s" directive' % kind, 'There is no open "%s" directive to end here.'
                           % kind[3:], item[3])
            stack.pop()
    if len(stack) > 1:
        owner = stack[-1][0]
        word = 'if' if type(owner) is IfDirective else 'for'
        raise Diag('Unterminated template string', 'No closing marker was found for the "%s" directive.' % word,
                   owner.rng)
    return root


def _strips(item):
    kind = item[0]
    if kind == 'interp':
        return item[2], item[3]
    if kind == 'if':
        return item[2], item[3]
    if kind == 'for':
        return item[3], item[4]
    return item[1], item[2]


def _scan_template(text, src, base, flush=False):
    """Template parts of a heredoc body (the grammar keeps heredocs as one
    token). Literal runs are split at newlines so the <<- rule can count the
    indentation of each line, as hclsyntax does."""
    flat = []
    i, n, lit, lit_start = 0, len(text), [], 0

    def flush_lit(end):
        if lit:
            chunk = ''.join(lit)
            flat.append(('lit', chunk, (src, base + lit_start, base + end)))
            del lit[:]

    while i < n:
        if text.startswith('$${', i) or text.startswith('%%{', i):
            if not lit:
                lit_start = i
            lit.append(text[i + 1:i + 3])
            i += 3
            continue
        if text.startswith('${', i) or text.startswith('%{', i):
            flush_lit(i)
            end = _sequence_end(text, i + 2)
            if end < 0:
                raise Diag('Unterminated template string', 'No closing marker was found for the template sequence.',
                           (src, base + i, base + n))
            inner_start, inner_end = i + 2, end
            strip_left = text.startswith('~', inner_start)
            strip_right = inner_end > inner_start and text[inner_end - 1] == '~'
            if strip_left:
                inner_start += 1
            if strip_right:
                inner_end -= 1
            content = text[inner_start:inner_end]
            rng = (src, base + i, base + end + 1)
            if text[i] == '$':
                flat.append(('interp', parse_expression_piece(content, src, base + inner_start), strip_left,
                             strip_right))
            else:
                flat.append(_directive_from_text(content, src, base + inner_start, strip_left, strip_right, rng))
            i = end + 1
            continue
        if not lit:
            lit_start = i
        lit.append(text[i])
        i += 1
        if text[i - 1] == '\n':
            flush_lit(i)
    flush_lit(n)
    if flush:
        _flush_heredoc(flat)
    return _assemble(flat, src)


def _flush_heredoc(flat):
    """hclsyntax's flushHeredocTemplateParts: remove the smallest indentation
    of the non-blank lines from every line."""
    min_spaces = None
    newline = True
    adjust = []
    for index, item in enumerate(flat):
        if newline:
            newline = False
            if item[0] == 'lit':
                value = item[1]
                trimmed = value.lstrip()
                if not trimmed and value.endswith('\n'):
                    spaces = None
                else:
                    spaces = len(value) - len(trimmed)
                    adjust.append(index)
            else:
                spaces = 0
            if spaces is not None and (min_spaces is None or spaces < min_spaces):
                min_spaces = spaces
        if item[0] == 'lit' and item[1].endswith('\n'):
            newline = True
    min_spaces = min_spaces or 0
    for index in adjust:
        kind, value, (src, start, end) = flat[index]
        flat[index] = (kind, value[min_spaces:], (src, start + min_spaces, end))


def _sequence_end(text, i):
    """The index of the ``}`` closing a template sequence that starts at i."""
    depth = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == '"':
            i = _string_end(text, i + 1)
            if i < 0:
                return -1
        elif char in '{[(':
            depth += 1
        elif char in ')]':
            depth -= 1
        elif char == '}':
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def _string_end(text, i):
    n = len(text)
    while i < n:
        char = text[i]
        if char == '\\':
            i += 2
            continue
        if char == '"':
            return i
        if text.startswith('${', i) or text.startswith('%{', i):
            i = _sequence_end(text, i + 2)
            if i < 0:
                return -1
        i += 1
    return -1


def _directive_from_text(content, src, base, strip_left, strip_right, rng):
    stripped = content.strip()
    lead = len(content) - len(content.lstrip())
    word = stripped.split(None, 1)[0] if stripped else ''
    if word in ('else', 'endif', 'endfor') and stripped == word:
        return (word, strip_left, strip_right, rng)
    if word == 'if':
        cond = parse_expression_piece(stripped[2:], src, base + lead + 2)
        return ('if', cond, strip_left, strip_right, rng)
    if word == 'for':
        match = re.match(r'for\s+([A-Za-z_][\w-]*)\s*(?:,\s*([A-Za-z_][\w-]*)\s*)?in\s', stripped)
        if match:
            names = [match.group(1)] + ([match.group(2)] if match.group(2) else [])
            coll = parse_expression_piece(stripped[match.end():], src, base + lead + match.end())
            return ('for', names, coll, strip_left, strip_right, rng)
    raise Diag('Invalid template directive', 'A template directive keyword ("if", "for", etc) is expected at the '
               'beginning of a %{ sequence.', rng)


_EXPRESSION_START = {'INT_LITERAL', 'FLOAT_LITERAL', 'DBLQUOTE', 'LSQB', 'LPAR', 'NOT', 'MINUS'}


def _syntax_error(exc, src, shift, expression=False):
    """A Lark error as the diagnostic hclsyntax most likely gives (the wording
    of syntax errors is approximate, the position is Lark's)."""
    if isinstance(exc, UnexpectedCharacters):
        offset = exc.pos_in_stream + shift
        return Diag('Invalid character', 'This character is not used within the language.',
                    (src, offset, offset + 1))
    token = getattr(exc, 'token', None)
    expected = set(getattr(exc, 'expected', ()) or ())
    if token is None or token.type == '$END':
        offset = len(src.text)
    else:
        offset = min(token.start_pos + shift, len(src.text))
    rng = (src, offset, offset)
    if 'STRING_CHARS' in expected and 'INTERP_START' in expected:
        return Diag('Unterminated template string', 'No closing marker was found for the string.', rng)
    if 'LBRACE' in expected and 'INT_LITERAL' not in expected:
        # In a block header: after the type and labels, only a label or "{" fits.
        return Diag('Invalid block definition', 'Either a quoted string block label or an opening brace ("{") is '
                    'expected here.', rng)
    if expected & _EXPRESSION_START:
        if 'COMMA' in expected:
            return Diag('Missing item separator', 'Expected a comma to mark the beginning of the next item.', rng)
        return Diag('Invalid expression', 'Expected the start of an expression, but found an invalid expression token.',
                    rng)
    if not expression and (expected == {'RBRACE'} or {'NAME', 'RBRACE'} <= expected):
        return Diag('Argument or block definition required', 'An argument or block definition is required here.', rng)
    if 'COMMA' in expected:
        return Diag('Missing item separator', 'Expected a comma to mark the beginning of the next item.', rng)
    if expected & {'RBRACE', 'RSQB', 'RPAR'}:
        closing = '}' if 'RBRACE' in expected else (']' if 'RSQB' in expected else ')')
        return Diag('Missing closing bracket', 'Expected "%s" here.' % closing, rng)
    if 'EQ' in expected or not expression:
        return Diag('Argument or block definition required', 'An argument or block definition is required here.', rng)
    return Diag('Extra characters after expression', 'An expression was successfully parsed, but extra characters '
                'were found after it.', rng)


def parse_config(text, filename):
    """Parse an HCL2 config file: (Source, Body). Raises Diag."""
    src = Source(text, filename)
    try:
        tree = _lark().parse(text if text.endswith('\n') else text + '\n')
    except UnexpectedInput as exc:
        raise _syntax_error(exc, src, 0)
    body_tree = tree.children[0]
    return src, _Lowerer(src).body(body_tree, (src, 0, len(text)))


_PREFIX = '_ = '


def parse_expression_piece(text, src, base):
    """Parse an expression that sits at offset ``base`` of ``src`` (a heredoc
    interpolation, a -var value): the grammar only starts at a body, so the
    expression is parsed as the value of a throw-away attribute."""
    body = text.strip()
    lead = len(text) - len(text.lstrip())
    if not body:
        raise Diag('Invalid expression', 'Expected the start of an expression, but found the end of the template.',
                   (src, base, base))
    if '\n' in body:
        # Newlines inside parentheses-like sequences are insignificant in HCL.
        body = re.sub(r'\s*\n\s*', ' ', body)
    shift = base + lead - len(_PREFIX)
    try:
        tree = _lark().parse(_PREFIX + body + '\n')
    except UnexpectedInput as exc:
        raise _syntax_error(exc, src, shift, expression=True)
    items = [c for c in tree.children[0].children if isinstance(c, Tree) and c.data in ('attribute', 'block')]
    if len(items) != 1 or items[0].data != 'attribute':
        raise Diag('Extra characters after expression', 'An expression was successfully parsed, but extra characters '
                   'were found after it.', (src, base, base + len(text)))
    return _Lowerer(src, shift).expr(items[0].children[-1])


def parse_expression(text, filename):
    """Parse a standalone expression (hclsyntax.ParseExpression)."""
    src = Source(text, filename)
    return parse_expression_piece(text, src, 0)
