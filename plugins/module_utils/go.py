# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Go itself would say, in one place: ``time.ParseDuration`` ("1h30m",
"1.5s", "300ms") as Nomad reads durations in job files, agent configs and
API parameters, and ``%T`` of a decoded value, which Nomad's type errors name.

Standard library only: this ships to managed hosts.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

_DURATION_UNITS = {
    'ns': 1, 'us': 1000, '\u00b5s': 1000, '\u03bcs': 1000, 'ms': 1000000,
    's': 1000000000, 'm': 60 * 1000000000, 'h': 3600 * 1000000000,
}
_MAX_INT64 = (1 << 63) - 1


def _go_quote(text):
    return json.dumps(text, ensure_ascii=False)


def parse_duration(text):
    """Go's ``time.ParseDuration``: ``"1h30m"``, ``"1.5s"``, ``"300ms"`` to
    nanoseconds. Raises ValueError with Go's message."""
    orig = text
    invalid = ValueError('time: invalid duration %s' % _go_quote(orig))
    neg = False
    if text and text[0] in '+-':
        neg = text[0] == '-'
        text = text[1:]
    if text == '0':
        return 0
    if not text:
        raise invalid
    total = 0
    while text:
        if not (text[0] == '.' or '0' <= text[0] <= '9'):
            raise invalid
        match = re.match(r'[0-9]*', text)
        pre = bool(match.group(0))
        value = int(match.group(0) or '0')
        if value > _MAX_INT64:
            raise invalid
        text = text[match.end():]
        frac, scale, post = 0, 1.0, False
        if text.startswith('.'):
            text = text[1:]
            match = re.match(r'[0-9]*', text)
            digits = match.group(0)
            post = bool(digits)
            overflow = False
            for digit in digits:
                # Go stops accumulating digits once they no longer fit.
                if overflow or frac > _MAX_INT64 // 10:
                    overflow = True
                    continue
                candidate = frac * 10 + int(digit)
                if candidate > _MAX_INT64:
                    overflow = True
                    continue
                frac = candidate
                scale *= 10
            text = text[match.end():]
        if not pre and not post:
            raise invalid
        match = re.match(r'[^0-9.]*', text)
        unit_name = match.group(0)
        if not unit_name:
            raise ValueError('time: missing unit in duration %s' % _go_quote(orig))
        text = text[match.end():]
        unit = _DURATION_UNITS.get(unit_name)
        if unit is None:
            raise ValueError('time: unknown unit %s in duration %s' % (_go_quote(unit_name), _go_quote(orig)))
        if value > _MAX_INT64 // unit:
            raise invalid
        value *= unit
        if frac > 0:
            value += int(float(frac) * (float(unit) / scale))
            if value > _MAX_INT64:
                raise invalid
        total += value
        if total > _MAX_INT64:
            raise invalid
    return -total if neg else total


def go_type(value):
    """Go's %T for what the HCL decoder produces."""
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, int):
        return 'int'
    if isinstance(value, float):
        return 'float64'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, dict):
        return 'map[string]interface {}'
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return '[]map[string]interface {}'
    return '[]interface {}'
