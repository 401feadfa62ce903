# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Copy the options nomad_server and nomad_client share into each of their
argument specs, so that `ansible-doc -t role` on either lists everything a
user can set.

The shared options have one owner: the `main` entry point of the internal
role nomad_agent, whose defaults they describe. Each public role's `main`
spec is its own options (the `part` entry point, merged in with `<<`)
followed by a copy of those, after a marker comment. Run this after changing
a shared option:

    python tests/support/role_specs.py          # rewrite the copies
    python tests/support/role_specs.py --check  # exit 1 when a copy is stale

tests/unit/roles/test_argument_specs.py fails while a copy differs."""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PUBLIC = ('nomad_server', 'nomad_client')
MARKER = ("      # Shared with the other public role, declared once in nomad_agent's argument spec and\n"
          "      # copied here by tests/support/role_specs.py: edit them there, then run it.\n")
# The next entry point (two spaces, a name) or the end of the file.
_NEXT_ENTRY = re.compile(r'^  \S', re.M)


def spec_path(role):
    return os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')


def read(role):
    with open(spec_path(role), encoding='utf-8') as handle:
        return handle.read()


def shared_options():
    """The text of nomad_agent's `main` options, as they stand in its file."""
    text = read('nomad_agent')
    start = text.index('\n  main:\n')
    start = text.index('\n    options:\n', start) + len('\n    options:\n')
    end = _NEXT_ENTRY.search(text, start)
    return text[start:end.start() if end else len(text)]


def with_copy(text, shared):
    """``text`` (a public role's spec) with the copy after MARKER replaced by ``shared``."""
    if text.count(MARKER) != 1:
        raise ValueError('the marker comment must be there once, in the main options')
    start = text.index(MARKER) + len(MARKER)
    end = _NEXT_ENTRY.search(text, start)
    return text[:start] + shared + (text[end.start():] if end else '')


def main(argv):
    check = '--check' in argv
    shared, stale = shared_options(), []
    for role in PUBLIC:
        text = read(role)
        wanted = with_copy(text, shared)
        if wanted != text:
            stale.append(role)
            if not check:
                with open(spec_path(role), 'w', encoding='utf-8') as handle:
                    handle.write(wanted)
    if stale:
        print('%s: %s' % ('stale' if check else 'rewritten', ', '.join(spec_path(role) for role in stale)))
    return 1 if check and stale else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
