# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""go: the one reading of Go durations and of %T, and every caller agreeing on it."""

import pytest

from ansible_collections.nomadops.nomad.plugins.module_utils import agent_config, api, go, jobspec


# Cases from Go's own time.ParseDuration tests.
@pytest.mark.parametrize('text, ns', [
    ('0', 0), ('5s', 5 * 10 ** 9), ('-5s', -5 * 10 ** 9), ('1.5h', 5400 * 10 ** 9), ('1h2m3s4ms5us6ns', 3723004005006),
    ('.5s', 5 * 10 ** 8), ('1.004s', 1004 * 10 ** 6), ('100.00100s', 100001 * 10 ** 6), ('3\u00b5s', 3000),
    ('9223372036854775807ns', (1 << 63) - 1), ('0.100000000000000000000h', 360 * 10 ** 9),
])
def test_durations_as_go_reads_them(text, ns):
    assert go.parse_duration(text) == ns


@pytest.mark.parametrize('text, message', [
    ('', 'time: invalid duration ""'), ('3', 'time: missing unit in duration "3"'),
    ('10 seconds', 'time: unknown unit " seconds" in duration "10 seconds"'),
    ('9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'),
])
def test_bad_durations_in_gos_words(text, message):
    with pytest.raises(ValueError) as exc:
        go.parse_duration(text)
    assert str(exc.value) == message


def test_every_caller_uses_the_one_parser():
    assert jobspec.parse_duration is go.parse_duration
    assert agent_config.parse_duration is go.parse_duration
    # 1.004s once came out as 1.0039999s through floats; the API client's waits agree now.
    assert api._wait_seconds('1m30s') == 90.0 and api._wait_seconds('1.004s') == 1.004


@pytest.mark.parametrize('value, name', [
    (True, 'bool'), (3, 'int'), (1.5, 'float64'), ('x', 'string'), ({'a': 1}, 'map[string]interface {}'),
    ([{'a': 1}], '[]map[string]interface {}'), ([1, 'a'], '[]interface {}'),
])
def test_go_type_is_gos_percent_t(value, name):
    assert go.go_type(value) == name
