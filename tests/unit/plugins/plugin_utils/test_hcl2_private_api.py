# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What hcl2_eval.py takes from python-hcl2 beyond its public API.

hcl2_eval.py reads HCL2 with python-hcl2's own Lark parser
(``hcl2.parser.parser()``, not part of python-hcl2's public ``hcl2.load``/
``hcl2.loads``) and lowers the Lark tree by the names of the grammar's rules
and terminals. python-hcl2 promises none of that. When an upgrade changes it,
these tests fail first and name what changed, instead of a job file failing
somewhere in the lowering. The names are read from hcl2_eval.py itself, so a
new rule used there is checked without editing this file.

Known to work: python-hcl2 8.1.4 (README, "Requirements"). 8.1.0 and 8.1.1 have
no ``literal_value`` rule (``true``/``null`` read as names), which the third
test reports; 8.1.2 and 8.1.3 word one syntax error differently.
"""

import importlib.metadata
import os
import re

import lark

from ansible_collections.nomadops.nomad.plugins.plugin_utils import hcl2_eval as hx

SOURCE = os.path.abspath(hx.__file__.replace('.pyc', '.py'))
VERSION = importlib.metadata.version('python-hcl2')
KNOWN = 'known to work: python-hcl2 8.1.4'


def _changed(what):
    return 'python-hcl2 %s (lark %s) changed what plugins/plugin_utils/hcl2_eval.py builds on: %s (%s)' % (
        VERSION, lark.__version__, what, KNOWN)


def _used_names():
    """(rules, terminals) that hcl2_eval.py's lowering looks for."""
    with open(SOURCE, encoding='utf-8') as f:
        text = f.read()
    rules = set(re.findall(r'def x_(\w+)\(', text))                       # dispatch on 'x_' + node.data
    rules |= set(re.findall(r"\.data [!=]= '(\w+)'", text))
    for group in re.findall(r'\.data (?:not )?in \(([^)]*)\)', text):
        rules |= set(re.findall(r"'(\w+)'", group))
    directives = text[text.index('def directive_from_tree'):]
    directives = directives[:directives.index('\ndef ')]
    rules |= {'template_' + k for k in re.findall(r"kind == '(\w+)'", directives)}  # tree.data[len('template_'):]
    terminals = set(re.findall(r"\.type [!=]= '(\w+)'", text))
    return rules, terminals


def _parser():
    try:
        import hcl2.parser  # pylint: disable=import-outside-toplevel
    except ImportError as e:
        raise AssertionError(_changed('the module hcl2.parser cannot be imported: %s' % e))
    factory = getattr(hcl2.parser, 'parser', None)
    assert callable(factory), _changed('hcl2.parser.parser(), the Lark parser factory, is gone')
    parser = factory()
    assert isinstance(parser, lark.Lark), _changed('hcl2.parser.parser() returns %r, not a lark.Lark' % type(parser))
    return parser


def test_the_names_read_from_hcl2_eval_are_there_to_check():
    # A guard on the guard: the patterns above must keep finding what the lowering uses.
    rules, terminals = _used_names()
    assert len(rules) >= 30, sorted(rules)
    assert {'attribute', 'block', 'body', 'for_intro', 'template_if_start', 'new_line_or_comment'} <= rules
    assert {'NL_OR_COMMENT', 'LPAR', 'ELLIPSIS', 'STRIP_MARKER', 'IN'} <= terminals


def test_the_private_parser_is_a_lark_lalr_parser_with_positions():
    parser = _parser()
    assert parser.options.parser == 'lalr', _changed('the parser is %s, not LALR' % parser.options.parser)
    # Every diagnostic's file:line,col comes from Lark's propagated positions.
    assert parser.options.propagate_positions, _changed('the parser no longer propagates positions')
    tree = parser.parse('job "x" {\n  count = 1\n}\n')
    assert tree.meta.start_pos == 0, _changed('parsed trees carry no start_pos')


def test_the_grammar_still_has_every_rule_and_terminal_the_lowering_reads():
    parser = _parser()
    have_rules = {str(r.origin.name) for r in parser.rules} | {str(r.alias) for r in parser.rules if r.alias}
    have_terminals = {t.name for t in parser.terminals}
    rules, terminals = _used_names()
    missing_rules = sorted(rules - have_rules)
    missing_terminals = sorted(terminals - have_terminals)
    assert not missing_rules, _changed('its grammar (hcl2.lark) has no rule %s any more' % ', '.join(missing_rules))
    assert not missing_terminals, _changed('its grammar (hcl2.lark) has no terminal %s any more'
                                           % ', '.join(missing_terminals))
