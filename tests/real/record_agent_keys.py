# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Record which keys a real Nomad accepts in each block of an agent config,
and what it says about a key it does not know or a value it cannot use.

    python3 tests/real/record_agent_keys.py VERSION BINARY [--out FILE]

Writes FILE (default tests/recordings/nomad-VERSION/agent_config.json), which
the test double checks agent configs against, so that its verdict comes from
Nomad and not from the collection's own schema.

Nothing is started: every probe is a config that ``BINARY agent`` refuses
before it binds a port (no ``server``/``client`` is enabled, so a config whose
keys all pass ends in "Must specify either server, client or dev mode").

* Candidate keys are the ``hcl:"..."`` and ``mapstructure:"..."`` struct tags
  found in the binary (most keys, not all: 0.9.1 also lists keys that no
  struct has), every word of the repository's docs, role templates and
  recorded configs, and one key no release has (``zz_unknown_key``). Only
  the binary's answers decide which of them are keys. Each
  block is probed with all of them set to ``"1"``; a candidate whose value the
  binary cannot decode (it names the key or its line) is a key it knows, and
  is taken out before the next probe; the unknown-key error then lists the
  rest. A block that accepts ``zz_unknown_key`` takes any key (``any_key``).
* ``values``: for each known key that is not a block, the error for the value
  ``"zz"`` when loading the config refuses it (null when it does not), with
  ``zz`` standing for the value.
* ``syntax``: the release's words for a few HCL syntax errors.
* ``order``: the order in which the binary reports blocks with an unknown key
  (one ``zz_<block>`` in every block; the one reported is taken out, and so
  on), and ``unknown``: each block's message for one unknown key, the key
  written ``{key}``.

Messages are what follows ``Error loading configuration from agent.hcl:
Error loading agent.hcl: `` (the file is always ``agent.hcl``).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNKNOWN = 'zz_unknown_key'
PREFIX = 'Error loading configuration from agent.hcl: Error loading agent.hcl: '
# What a decoding error says, in one release or another.
DECODING = r"strconv\.|decodeBool|can't parse time duration|invalid duration|cannot parse|expected type"
# Block paths probed; "*" is a block label.
BLOCKS = ('', 'ports', 'addresses', 'advertise', 'client', 'client.reserved', 'client.server_join', 'server',
          'server.server_join', 'acl', 'telemetry', 'consul', 'vault', 'tls', 'sentinel', 'autopilot', 'plugin.*')
# HCL syntax errors, to hold pyhcl's words (the double's parser) against the release's.
SYNTAX = {
    'open-block': 'server {\n  enabled = true\n',
    'open-list': 'server {\n  retry_join = ["a", "b"\n}\n',
    'open-string': 'name = "abc\n',
    'missing-equals': 'name "x"\n',
    'stray-brace': 'server {\n  enabled = true\n}\n}\n',
    'illegal-char': 'name = @\n',
}
BLOCKS_1X = ('audit', 'limits', 'client.template', 'client.host_volume.*', 'client.host_network.*',
             'server.default_scheduler_config')


WORD_SOURCES = ('README.md', 'docs', 'roles', os.path.join('tests', 'recordings'))
WORD_FILES = ('.md', '.j2', '.hcl', '.yml')


def candidates(binary):
    with open(binary, 'rb') as f:
        data = f.read()
    words = set(m.decode() for m in re.findall(rb'(?:hcl|mapstructure):\\?"([a-z][a-z0-9_]*)', data))
    for source in WORD_SOURCES:
        path = os.path.join(ROOT, source)
        files = [path] if os.path.isfile(path) else [
            os.path.join(d, n) for d, _subdirs, names in os.walk(path) for n in names if n.endswith(WORD_FILES)]
        for fn in files:
            with open(fn, encoding='utf-8', errors='replace') as f:
                words.update(re.findall(r'(?<![A-Za-z0-9_.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)*(?![A-Za-z0-9_.-])',
                                        f.read()))
    # HCL1 reads these as values, not as keys.
    words -= {'true', 'false'}
    return sorted(words)


def render(path, body_lines):
    """The config text that puts body_lines inside the block at path."""
    opening = []
    for part in path.split('.') if path else ():
        if part == '*':
            opening[-1] = opening[-1][:-2] + ' "x" {'
        else:
            opening.append('%s {' % part)
    lines = []
    for i, o in enumerate(opening):
        lines.append('  ' * i + o)
    indent = '  ' * len(opening)
    lines += [indent + b for b in body_lines]
    for i in reversed(range(len(opening))):
        lines.append('  ' * i + '}')
    return '\n'.join(lines) + '\n', len(opening)


class Prober(object):
    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.runs = 0

    def message(self, text):
        with open(os.path.join(self.workdir, 'agent.hcl'), 'w') as f:
            f.write(text)
        proc = subprocess.run([self.binary, 'agent', '-config', 'agent.hcl'], cwd=self.workdir, capture_output=True,
                              text=True, timeout=30, check=False, stdin=subprocess.DEVNULL)
        self.runs += 1
        if proc.returncode == 0 or 'Must specify either server, client' in proc.stderr:
            return None
        # 1.6.5 names the file by its absolute path; the recording names agent.hcl.
        err = proc.stderr.strip().replace(os.path.join(self.workdir, ''), '')
        if err.startswith('==> '):
            err = err[4:]
        return err[len(PREFIX):] if err.startswith(PREFIX) else err


def _named(msg, cands, path):
    """The candidate an error is about: by line, by dotted name or by quoted name."""
    for pattern in (r"'([a-z0-9_]+)'", r'([a-z0-9_.]+) can\'t parse', r'\b([a-z0-9_]+):'):
        for name in re.findall(pattern, msg):
            name = name.rsplit('.', 1)[-1]
            if name in cands:
                return name
    return None


def probe_block(prober, path, cands):
    """(known keys, any_key) of one block."""
    cands = list(cands) + [UNKNOWN]
    known = []
    while True:
        text, depth = render(path, ['%s = "1"' % c for c in cands])
        msg = prober.message(text)
        if msg is None:
            return sorted(known + [c for c in cands if c != UNKNOWN]), True
        if UNKNOWN in msg:
            bad = set(re.findall(r'invalid key: (\S+)', msg))
            m = re.search(r'unexpected keys (.*)$', msg, re.M)
            if m:
                bad |= set(k.strip() for k in m.group(1).split(','))
            return sorted(known + [c for c in cands if c not in bad]), False
        m = re.search(r'At (\d+):\d+:', msg)
        name = None
        if m:
            index = int(m.group(1)) - 1 - depth
            if 0 <= index < len(cands):
                name = cands[index]
        name = name or _named(msg, cands, path) or _bisect(prober, path, cands, msg)
        if name is None or name == UNKNOWN:
            raise SystemExit('cannot tell which key %r is about (block %r)' % (msg, path))
        known.append(name)
        cands.remove(name)


def _bisect(prober, path, cands, msg):
    """The one candidate that alone gives msg, found by halving (some errors name
    another key than the one at fault: 1.6.5 reports acl.role_ttl as acl.policy_ttl)."""
    group = [c for c in cands if c != UNKNOWN]
    while len(group) > 1:
        half = group[:len(group) // 2]
        text, _depth = render(path, ['%s = "1"' % c for c in half])
        group = half if prober.message(text) == msg else group[len(group) // 2:]
    return group[0] if group and prober.message(render(path, ['%s = "1"' % group[0]])[0]) == msg else None


def probe_values(prober, path, keys):
    """The error for "zz" in each key (None: accepted); keys that are blocks are left out."""
    out = {}
    for key in keys:
        text, _depth = render(path, ['%s = "zz"' % key])
        msg = prober.message(text)
        if msg is not None and re.search(r'\bzz\b', msg) is None:
            # Not about the value: the key wants a block or a list.
            continue
        if msg is not None and not re.search(DECODING, msg):
            # Refused later than loading (bind_addr "zz" is looked up in DNS): not the parser's verdict.
            msg = None
        out[key] = None if msg is None else msg
    return out


def probe_order(prober, paths):
    """Blocks in the order their unknown keys are reported, with each one's message."""
    left = list(paths)
    order, unknown = [], {}
    while left:
        parts = {}
        for path in left:
            parts[path] = 'zz_' + (path.replace('.', '_').replace('*', 'x') or 'top')
        text = _nested(parts)
        msg = prober.message(text)
        hit = [p for p, k in parts.items() if msg and re.search(r'\b%s\b' % k, msg)]
        if len(hit) != 1:
            raise SystemExit('expected one block in %r' % msg)
        path = hit[0]
        order.append(path)
        unknown[path] = msg.replace(parts[path], '{key}')
        left.remove(path)
    return order, unknown


def _nested(parts):
    """One config with key parts[path] = "1" in every block path."""
    tree = {}
    for path, key in parts.items():
        node = tree
        for part in path.split('.') if path else ():
            node = node.setdefault(part, {})
        node.setdefault('', []).append(key)
    lines = []

    def walk(node, depth):
        for key in node.get('', []):
            lines.append('  ' * depth + '%s = "1"' % key)
        for name, sub in node.items():
            if name == '' or name == '*':
                continue
            if '*' in sub:
                lines.append('  ' * depth + '%s "x" {' % name)
                walk(sub['*'], depth + 1)
                rest = dict(sub)
                del rest['*']
                lines.append('  ' * depth + '}')
                if rest:
                    lines.append('  ' * depth + '%s {' % name)
                    walk(rest, depth + 1)
                    lines.append('  ' * depth + '}')
                continue
            lines.append('  ' * depth + '%s {' % name)
            walk(sub, depth + 1)
            lines.append('  ' * depth + '}')
    walk(tree, 0)
    return '\n'.join(lines) + '\n'


def record(version, binary):
    cands = candidates(binary)
    paths = BLOCKS + (BLOCKS_1X if not version.startswith('0.') else ())
    with tempfile.TemporaryDirectory(prefix='nomad-keys-') as workdir:
        prober = Prober(binary, workdir)
        blocks = {}
        for path in paths:
            keys, any_key = probe_block(prober, path, cands)
            if any_key:
                blocks[path] = {'any_key': True}
                continue
            prefix = path + '.' if path else ''
            subs = set(p[len(prefix):].partition('.')[0] for p in paths if p.startswith(prefix) and p != path)
            values = probe_values(prober, path, [k for k in keys if k not in subs])
            blocks[path] = {'any_key': False, 'keys': keys, 'values': values}
        order, unknown = probe_order(prober, [p for p in paths if not blocks[p]['any_key']])
        syntax = dict((name, {'text': text, 'message': prober.message(text)}) for name, text in sorted(SYNTAX.items()))
    return {'version': version, 'probes': prober.runs, 'blocks': blocks, 'order': order, 'unknown': unknown,
            'syntax': syntax}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('version', help='the release the binary is, e.g. 0.9.1')
    parser.add_argument('binary', help='a Nomad binary of that release')
    parser.add_argument('--out', help='file to write (default tests/recordings/nomad-VERSION/agent_config.json)')
    args = parser.parse_args()
    out = args.out or os.path.join(ROOT, 'tests', 'recordings', 'nomad-' + args.version, 'agent_config.json')
    data = record(args.version, os.path.abspath(args.binary))
    with open(out, 'w') as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write('\n')
    print('%s: %d probes, %d blocks' % (out, data['probes'], len(data['blocks'])), file=sys.stderr)


if __name__ == '__main__':
    main()
