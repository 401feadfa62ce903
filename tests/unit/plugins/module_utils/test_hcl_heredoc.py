# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Heredocs as hashicorp/hcl v1 (vendored by Nomad 0.9.1) reads them.

Its scanner ends a heredoc at the first line that *ends* with the marker and
is at least as long as the anchor (``-EOT`` for ``<<-EOT``). The value keeps
what precedes the marker on that line. ``<<-`` removes the terminator line's
indentation from every line, but only if every line starts with it.
pyhcl does none of this (it drops the final newline), so these cases are
written out from that reading of the v1 scanner and token code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nomadops.nomad.plugins.module_utils import hcl


@pytest.mark.parametrize('text,value', [
    # plain heredoc: lines verbatim, final newline kept
    ('a = <<EOF\nhello\n  world\nEOF\n', 'hello\n  world\n'),
    ('a = <<EOF\nEOF\n', ''),
    # an indented terminator still ends a plain heredoc; its indentation stays
    ('a = <<EOF\nhello\n  EOF\n', 'hello\n  '),
    # <<- removes the terminator's indentation, not the content's
    ('a = <<-EOT\n      hello\n    EOT\n', '  hello\n'),
    ('a = <<-EOT\n    indented\n      more\n    EOT\n', 'indented\n  more\n'),
    # a blank line does not start with the indentation: nothing is removed
    ('a = <<-EOT\n    x\n\n    y\n    EOT\n', '    x\n\n    y\n'),
    # a line less indented than the terminator: nothing is removed
    ('a = <<-EOT\nx\n  y\n EOT\n', 'x\n  y\n'),
])
def test_heredoc_values_follow_hcl_v1(text, value):
    assert hcl.loads(text)['a'] == value


def test_heredoc_ends_at_first_line_ending_with_marker():
    # hcl v1's terminator test is a regexp anchored only at the end of the line
    assert hcl.loads('a = <<EOF\necho EOF\nb = 1\n') == {'a': 'echo ', 'b': 1}


def test_indented_anchor_needs_a_line_as_long_as_dash_and_marker():
    # "EOT" alone is shorter than "-EOT": hcl v1 does not see it as the end
    with pytest.raises(hcl.HCLError) as caught:
        hcl.parse('a = <<-EOT\n  x\nEOT\n', 'x.hcl')
    assert 'heredoc not terminated' in str(caught.value)
