# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HCL1, the configuration language of Nomad 0.9: parse, decode and render.

Nomad 0.9 reads job files and agent configs with HCL1, whose grammar differs
from HCL2 (commas between block items, ``key = { ... }`` maps, heredocs, keys
made of several labels). python-hcl2 rejects such files and pyhcl drops the
positions and the difference between one block and repeated blocks, so this
module keeps its own small parser. It is pure standard library because it
runs on managed hosts that have nothing but python3.

The AST mirrors hashicorp/hcl v1: an ``ObjectList`` of ``ObjectItem``s, each
with one or more keys and a value (``Literal``, ``ListType`` or
``ObjectType``). Every node carries the line and column where it starts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

__all__ = [
    'HCLError', 'ObjectList', 'ObjectItem', 'ObjectKey', 'ObjectType', 'ListType', 'Literal',
    'parse', 'loads', 'dumps', 'normalize',
]


class HCLError(Exception):
    """A syntax error. ``str()`` reads like Nomad's, plus file and line."""

    def __init__(self, message, filename=None, line=None, column=None):
        self.message = message
        self.filename = filename
        self.line = line
        self.column = column
        super(HCLError, self).__init__(self.__str__())

    def __str__(self):
        where = self.filename or '<string>'
        if self.line is not None:
            return '%s: At %d:%d: %s' % (where, self.line, self.column or 0, self.message)
        return '%s: %s' % (where, self.message)


# ---------------------------------------------------------------- the AST

class Node:
    __slots__ = ('line', 'column')


class Literal(Node):
    """A STRING, HEREDOC, NUMBER, FLOAT or BOOL value, already decoded."""

    __slots__ = ('kind', 'value')

    def __init__(self, kind, value, line, column):
        self.kind, self.value, self.line, self.column = kind, value, line, column

    def __repr__(self):
        return 'Literal(%s, %r)' % (self.kind, self.value)


class ListType(Node):
    __slots__ = ('items',)

    def __init__(self, items, line, column):
        self.items, self.line, self.column = items, line, column

    def __repr__(self):
        return 'ListType(%r)' % (self.items,)


class ObjectType(Node):
    __slots__ = ('list',)

    def __init__(self, object_list, line, column):
        self.list, self.line, self.column = object_list, line, column

    def __repr__(self):
        return 'ObjectType(%r)' % (self.list,)


class ObjectKey(Node):
    __slots__ = ('value', 'quoted')

    def __init__(self, value, quoted, line, column):
        self.value, self.quoted, self.line, self.column = value, quoted, line, column

    def __repr__(self):
        return 'ObjectKey(%r)' % (self.value,)


class ObjectItem(Node):
    """``keys... = val`` (``assign`` is True) or ``keys... { ... }``."""

    __slots__ = ('keys', 'val', 'assign')

    def __init__(self, keys, val, assign, line, column):
        self.keys, self.val, self.assign, self.line, self.column = keys, val, assign, line, column

    @property
    def key_names(self):
        return [k.value for k in self.keys]

    def __repr__(self):
        return 'ObjectItem(%r, %r)' % (self.key_names, self.val)


class ObjectList:
    __slots__ = ('items',)

    def __init__(self, items=None):
        self.items = list(items or [])

    def filter(self, *keys):
        """Items whose leading keys match ``keys`` (case-insensitively, as
        hcl v1 does), with those keys stripped."""
        result = ObjectList()
        wanted = [k.lower() for k in keys]
        for item in self.items:
            if len(item.keys) < len(wanted):
                continue
            if [k.value.lower() for k in item.keys[:len(wanted)]] != wanted:
                continue
            result.items.append(ObjectItem(item.keys[len(wanted):], item.val, item.assign, item.line, item.column))
        return result

    def children(self):
        """Items that still have keys (labelled blocks)."""
        return ObjectList([i for i in self.items if i.keys])

    def elem(self):
        """Items without keys left: the bodies of the blocks filtered for."""
        return ObjectList([i for i in self.items if not i.keys])

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def __repr__(self):
        return 'ObjectList(%r)' % (self.items,)


# ---------------------------------------------------------------- scanner

_PUNCT = {'{': 'LBRACE', '}': 'RBRACE', '[': 'LBRACK', ']': 'RBRACK', '=': 'ASSIGN', ',': 'COMMA'}
_IDENT_START = re.compile(r'[A-Za-z_]')
_IDENT = re.compile(r'[A-Za-z_][A-Za-z0-9_\-.]*')
_NUMBER = re.compile(r'-?(0[xX][0-9a-fA-F]+|[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?)')
_HEREDOC_START = re.compile(r'<<(-?)([A-Za-z_][A-Za-z0-9_\-]*)[ \t]*\r?\n')
_ESCAPES = {'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
            '\\': '\\', '"': '"', "'": "'"}


class _Token:
    __slots__ = ('type', 'value', 'line', 'column')

    def __init__(self, type_, value, line, column):
        self.type, self.value, self.line, self.column = type_, value, line, column


class _Scanner:
    def __init__(self, text, filename):
        self.text = text
        self.filename = filename
        self.pos = 0
        self.line = 1
        self.line_start = 0

    def error(self, message, pos=None):
        pos = self.pos if pos is None else pos
        line = self.text.count('\n', 0, pos) + 1
        column = pos - (self.text.rfind('\n', 0, pos) + 1) + 1
        raise HCLError(message, self.filename, line, column)

    def _where(self, pos):
        line = self.text.count('\n', 0, pos) + 1
        return line, pos - (self.text.rfind('\n', 0, pos) + 1) + 1

    def tokens(self):
        text, n = self.text, len(self.text)
        while True:
            self._skip_space_and_comments()
            if self.pos >= n:
                line, col = self._where(self.pos)
                yield _Token('EOF', None, line, col)
                return
            start = self.pos
            line, col = self._where(start)
            ch = text[start]
            if ch in _PUNCT:
                self.pos += 1
                yield _Token(_PUNCT[ch], ch, line, col)
            elif ch == '"':
                yield _Token('STRING', self._string(), line, col)
            elif ch == '<' and text.startswith('<<', start):
                yield _Token('HEREDOC', self._heredoc(), line, col)
            elif ch.isdigit() or (ch == '-' and start + 1 < n and text[start + 1].isdigit()):
                match = _NUMBER.match(text, start)
                self.pos = match.end()
                raw = match.group(0)
                if match.group(2) or match.group(3):
                    yield _Token('FLOAT', float(raw), line, col)
                else:
                    yield _Token('NUMBER', self._integer(raw, start), line, col)
            elif _IDENT_START.match(ch):
                match = _IDENT.match(text, start)
                self.pos = match.end()
                word = match.group(0)
                if word in ('true', 'false'):
                    yield _Token('BOOL', word == 'true', line, col)
                else:
                    yield _Token('IDENT', word, line, col)
            else:
                self.error('illegal char %r' % ch)

    def _integer(self, raw, start):
        # hcl v1 reads integers with Go's base prefixes: 0x.. is hex, 0755 octal.
        digits = raw.lstrip('-')
        sign = -1 if raw.startswith('-') else 1
        try:
            if digits[:2].lower() == '0x':
                return sign * int(digits[2:], 16)
            if len(digits) > 1 and digits.startswith('0'):
                return sign * int(digits[1:], 8)
            return sign * int(digits, 10)
        except ValueError:
            self.error('invalid number %r' % raw, start)

    def _skip_space_and_comments(self):
        text, n = self.text, len(self.text)
        while self.pos < n:
            ch = text[self.pos]
            if ch in ' \t\r\n\ufeff':
                self.pos += 1
            elif ch == '#' or text.startswith('//', self.pos):
                end = text.find('\n', self.pos)
                self.pos = n if end < 0 else end + 1
            elif text.startswith('/*', self.pos):
                end = text.find('*/', self.pos + 2)
                if end < 0:
                    self.error('comment not terminated')
                self.pos = end + 2
            else:
                return

    def _string(self):
        """A double-quoted string. Escapes are decoded, except inside
        ``${...}``, which stays raw for Nomad to interpolate later."""
        text, n = self.text, len(self.text)
        start = self.pos
        self.pos += 1
        out = []
        depth = 0
        while True:
            if self.pos >= n or text[self.pos] == '\n':
                self.error('literal not terminated', start)
            ch = text[self.pos]
            if depth == 0 and ch == '"':
                self.pos += 1
                return ''.join(out)
            if text.startswith('${', self.pos):
                depth += 1
                out.append('${')
                self.pos += 2
                continue
            if depth > 0:
                if ch == '}':
                    depth -= 1
                elif ch == '{':
                    depth += 1
                out.append(ch)
                self.pos += 1
                continue
            if ch == '\\':
                out.append(self._escape())
                continue
            out.append(ch)
            self.pos += 1

    def _escape(self):
        text = self.text
        esc = text[self.pos + 1:self.pos + 2]
        if esc in _ESCAPES:
            self.pos += 2
            return _ESCAPES[esc]
        widths = {'x': 2, 'u': 4, 'U': 8}
        if esc in widths:
            digits = text[self.pos + 2:self.pos + 2 + widths[esc]]
            if len(digits) == widths[esc] and re.match(r'^[0-9a-fA-F]+$', digits):
                self.pos += 2 + widths[esc]
                return chr(int(digits, 16))
        if re.match(r'^[0-7]{3}$', text[self.pos + 1:self.pos + 4]):
            value = int(text[self.pos + 1:self.pos + 4], 8)
            self.pos += 4
            return chr(value)
        self.error('invalid escape sequence: \\%s' % esc)

    def _heredoc(self):
        text = self.text
        start = self.pos
        match = _HEREDOC_START.match(text, start)
        if not match:
            self.error('heredoc expected a marker name and a newline after <<', start)
        indented, marker = match.group(1) == '-', match.group(2)
        # hcl v1 ends a heredoc at the first line that ends with the marker and
        # is at least as long as the anchor (the dash of <<- counts); whatever
        # precedes the marker on that line stays in the value.
        anchor = len(marker) + (1 if indented else 0)
        body_start = match.end()
        lines = []
        pos = body_start
        while True:
            if pos >= len(text):
                self.error('heredoc not terminated: no line with %r found' % marker, start)
            end = text.find('\n', pos)
            end = len(text) if end < 0 else end
            line = text[pos:end].rstrip('\r')
            if len(line) >= anchor and line.endswith(marker):
                self.pos = end
                break
            lines.append(line)
            pos = end + 1
        lines.append(line[:-len(marker)])
        if not indented:
            return '\n'.join(lines)
        # <<- strips the terminator line's indentation from every line, and
        # only when every line starts with it (a blank line turns it off).
        prefix = lines[-1]
        if all(x.startswith(prefix) for x in lines):
            return '\n'.join([x[len(prefix):] for x in lines[:-1]] + [''])
        return '\n'.join(lines)[:-1].rstrip(' \t')


# ---------------------------------------------------------------- parser

class _Parser:
    def __init__(self, text, filename):
        self.filename = filename
        self.tokens = list(_Scanner(text, filename).tokens())
        self.index = 0

    @property
    def tok(self):
        return self.tokens[self.index]

    def next(self):
        tok = self.tokens[self.index]
        if tok.type != 'EOF':
            self.index += 1
        return tok

    def error(self, message, tok=None, positioned=True):
        tok = tok or self.tok
        if positioned:
            raise HCLError(message, self.filename, tok.line, tok.column)
        raise HCLError(message, self.filename)

    def object_list(self, nested, opener=None):
        items = []
        while True:
            tok = self.tok
            if tok.type == 'EOF':
                if nested:
                    # hcl v1 reports this without a position; we add where the block began.
                    self.error('object expected closing RBRACE got: EOF (the block opened at line %d, column %d '
                               'is never closed)' % (opener.line, opener.column), positioned=False)
                break
            if nested and tok.type == 'RBRACE':
                break
            items.append(self.object_item())
            if self.tok.type == 'COMMA':
                self.next()
        return ObjectList(items)

    def object_item(self):
        keys = []
        while True:
            tok = self.tok
            if tok.type in ('IDENT', 'STRING'):
                self.next()
                keys.append(ObjectKey(tok.value, tok.type == 'STRING', tok.line, tok.column))
                continue
            if tok.type == 'ASSIGN':
                if len(keys) > 1:
                    self.error('nested object expected: LBRACE got: ASSIGN')
                if not keys:
                    self.error('expected: IDENT | STRING got: ASSIGN')
                self.next()
                return ObjectItem(keys, self.value(), True, keys[0].line, keys[0].column)
            if tok.type == 'LBRACE':
                if not keys:
                    self.error('expected: IDENT | STRING got: LBRACE')
                return ObjectItem(keys, self.object_type(), False, keys[0].line, keys[0].column)
            if tok.type == 'EOF' and keys:
                self.error("key '%s' expected start of object ('{') or assignment ('=')" % keys[0].value, keys[0])
            if keys:
                self.error('key %r expected start of object (\'{\') or assignment (\'=\'), got: %s'
                           % (' '.join(k.value for k in keys), tok.type))
            self.error('expected: IDENT | STRING | ASSIGN | LBRACE got: %s' % tok.type)

    def object_type(self):
        opener = self.next()
        object_list = self.object_list(True, opener)
        if self.tok.type != 'RBRACE':
            self.error('object expected closing RBRACE got: %s' % self.tok.type)
        self.next()
        return ObjectType(object_list, opener.line, opener.column)

    def list_type(self):
        opener = self.next()
        items = []
        need_comma = False
        while True:
            tok = self.tok
            if tok.type == 'RBRACK':
                self.next()
                return ListType(items, opener.line, opener.column)
            if tok.type == 'EOF':
                self.error('list expected closing RBRACK got: EOF (the list opened at line %d is never closed)'
                           % opener.line, positioned=False)
            if tok.type == 'COMMA':
                if not need_comma:
                    self.error('error parsing list, expected a value before COMMA')
                self.next()
                need_comma = False
                continue
            if need_comma:
                self.error('error parsing list, expected comma or list end, got: %s' % tok.type)
            if tok.type == 'LBRACE':
                items.append(self.object_type())
            elif tok.type == 'LBRACK':
                items.append(self.list_type())
            else:
                items.append(self.literal())
            need_comma = True

    def value(self):
        tok = self.tok
        if tok.type == 'LBRACE':
            return self.object_type()
        if tok.type == 'LBRACK':
            return self.list_type()
        return self.literal()

    def literal(self):
        tok = self.tok
        if tok.type in ('STRING', 'HEREDOC', 'NUMBER', 'FLOAT', 'BOOL'):
            self.next()
            return Literal(tok.type, tok.value, tok.line, tok.column)
        if tok.type == 'IDENT':
            self.error('Unknown token: %d:%d IDENT %s' % (tok.line, tok.column, tok.value))
        self.error('Unknown token: %d:%d %s' % (tok.line, tok.column, tok.type))


def parse(text, filename=None):
    """Parse HCL1 ``text`` into an :class:`ObjectList`. Raises HCLError."""
    if isinstance(text, bytes):
        text = text.decode('utf-8')
    parser = _Parser(text, filename)
    return parser.object_list(False)


# ---------------------------------------------------------------- decoding

def decode(node):
    """Plain Python values for an AST node, with hcl v1's shape: every
    object (``key { }`` and ``key = { }`` alike) is a list of dicts."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, ListType):
        return [decode(n) for n in node.items]
    if isinstance(node, ObjectType):
        return decode_object_list(node.list)
    if isinstance(node, ObjectList):
        return decode_object_list(node)
    raise TypeError('not an HCL node: %r' % (node,))


def decode_object_list(object_list):
    out = {}
    for item in object_list.items:
        target = out
        names = item.key_names
        # `a "b" { }` is `a { b { } }`: every label opens one more level.
        for name in names[:-1]:
            inner = {}
            _append(target, name, inner)
            target = inner
        value = decode(item.val)
        if isinstance(item.val, ObjectType):
            _append(target, names[-1], value)
        else:
            target[names[-1]] = value
    return out


def _append(target, name, value):
    existing = target.get(name)
    if isinstance(existing, list) and all(isinstance(x, dict) for x in existing):
        existing.append(value)
    else:
        target[name] = [value]


def loads(text, filename=None):
    """Parse and decode in one step."""
    return decode_object_list(parse(text, filename))


# ---------------------------------------------------------------- rendering

_BARE_KEY = re.compile(r'^[A-Za-z_][A-Za-z0-9_\-.]*$')
#: Blocks whose first level below is a label (``plugin "raw_exec" { }``).
LABELLED_BLOCKS = ('plugin',)


def _key(name):
    name = str(name)
    if _BARE_KEY.match(name) and name not in ('true', 'false'):
        return name
    return _string(name)


def _string(value):
    # JSON's escaping is a subset of HCL1's; ${ stays literal text for Nomad.
    return json.dumps(value, ensure_ascii=False)


def _scalar(value, path):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(_scalar(v, path) for v in value) + ']'
    if isinstance(value, dict):
        return '{ ' + ', '.join('%s = %s' % (_key(k), _scalar(v, path + [k])) for k, v in value.items()) + ' }'
    raise TypeError('cannot render %s of type %s as HCL (at %s)'
                    % (repr(value), type(value).__name__, '.'.join(str(p) for p in path) or 'top level'))


def _is_block_list(value):
    return isinstance(value, (list, tuple)) and value and all(isinstance(v, dict) for v in value)


def _render(mapping, indent, path, lines, labelled):
    pad = '  ' * indent
    for name, value in mapping.items():
        here = path + [name]
        if isinstance(value, dict) or _is_block_list(value):
            bodies = [value] if isinstance(value, dict) else list(value)
            for body in bodies:
                if name in labelled:
                    for label, inner in body.items():
                        for inner_body in ([inner] if isinstance(inner, dict) else inner):
                            lines.append('%s%s %s {' % (pad, _key(name), _string(str(label))))
                            _render(inner_body, indent + 1, here + [label], lines, ())
                            lines.append(pad + '}')
                else:
                    lines.append('%s%s {' % (pad, _key(name)))
                    _render(body, indent + 1, here, lines, ())
                    lines.append(pad + '}')
        elif value is None:
            continue
        else:
            lines.append('%s%s = %s' % (pad, _key(name), _scalar(value, here)))


def dumps(mapping, header=None, labelled=LABELLED_BLOCKS):
    """Render a dict as HCL1. Dicts and lists of dicts become blocks; keys
    listed in ``labelled`` become labelled blocks; ``None`` values are
    left out. ``header`` is written as ``#`` comment lines on top."""
    lines = []
    if header:
        lines.extend(('# ' + h).rstrip() for h in header.splitlines())
    _render(mapping, 0, [], lines, labelled)
    return '\n'.join(lines) + '\n'


def normalize(mapping, labelled=LABELLED_BLOCKS):
    """What :func:`loads` returns for ``dumps(mapping)``: the shape to
    compare with when checking that a rendering parses back unchanged."""
    out = {}
    for name, value in mapping.items():
        if value is None:
            continue
        if isinstance(value, dict) or _is_block_list(value):
            bodies = [value] if isinstance(value, dict) else list(value)
            if name in labelled:
                out[name] = [{label: [normalize(b, ()) for b in ([inner] if isinstance(inner, dict) else inner)]}
                             for body in bodies for label, inner in body.items()]
            else:
                out[name] = [normalize(b, ()) for b in bodies]
        elif isinstance(value, tuple):
            out[name] = [_normalize_value(v) for v in value]
        else:
            out[name] = _normalize_value(value)
    return out


def _normalize_value(value):
    if isinstance(value, dict):
        return normalize(value, ())
    if isinstance(value, (list, tuple)):
        return [_normalize_value(v) for v in value]
    return value
