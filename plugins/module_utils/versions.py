# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What differs between the Nomad releases the collection serves, decided in
one place: from the version being installed (``nomad_version``) or from the
one a server reports (``/v1/agent/self`` ``config.Version.Version``).

Standard library only: this ships to managed hosts.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

_VERSION = re.compile(r'^v?(\d+)\.(\d+)\.(\d+)(?:[-+~].*)?$')

# The agent-config schemas the collection knows, by the release line they
# describe exactly (agent_config.py). 1.0.x is checked with 1.1's, which
# only adds keys; any other release gets no unknown-key check at all, so a key
# newer than what the collection knows is never refused.
_AGENT_SCHEMAS = (
    ((0, 9, 0), (0, 9, 1), '0.9.1'),
    ((1, 0, 0), (1, 1, 99999), '1.1'),
)


def parse_version(text):
    """'1.1.0' (or 'v1.1.0', '1.1.0-beta1') as (1, 1, 0); ValueError otherwise."""
    match = _VERSION.match(str(text).strip())
    if not match:
        raise ValueError('not a Nomad release version: %r (expected MAJOR.MINOR.PATCH, e.g. 0.9.1)' % (text,))
    return tuple(int(part) for part in match.groups())


def agent_schema(version):
    """'0.9.1', '1.1' or None (no schema known for this release)."""
    parsed = parse_version(version)
    for low, high, schema in _AGENT_SCHEMAS:
        if low <= parsed <= high:
            return schema
    return None


def job_dialect(version):
    """How `nomad job run` of that release reads a job file: HCL2 since 1.0."""
    return 'hcl2' if parse_version(version) >= (1, 0, 0) else 'hcl1'


def has_open_source_namespaces(version):
    """Namespaces left Nomad Enterprise in 1.0; 0.9's open-source servers answer 501."""
    return parse_version(version) >= (1, 0, 0)


def _next_line(line):
    # 0.12 was followed by 1.0; otherwise point releases count up.
    return (1, 0) if line == (0, 12) else (line[0], line[1] + 1)


def upgrade_problem(installed, target, allow_downgrade=False):
    """Why going from ``installed`` to ``target`` must not happen, or None.

    Nomad's upgrade guide: it "strives to be backward compatible for at least
    1 point release"; upgrading 2 point releases "is untested and
    unsupported", and "Nomad does not support downgrading".
    """
    have, want = parse_version(installed), parse_version(target)
    if want < have:
        if allow_downgrade:
            return None
        return ('Nomad %s is installed and %s was asked for: Nomad does not support downgrading (a server may not '
                'read the newer state); set nomad_allow_downgrade to do it anyway' % (installed, target))
    line = have[:2]
    steps = 0
    while line < want[:2]:
        line = _next_line(line)
        steps += 1
    if steps > 1:
        through = _next_line(have[:2])
        return ('Nomad %s is installed and %s was asked for: Nomad supports upgrading one point release at a time, '
                'so go through %d.%d.x first' % (installed, target, through[0], through[1]))
    return None


def has_node_pools(version):
    """Node pools came in 1.6; older agents have no /v1/node/pool endpoints."""
    return parse_version(version) >= (1, 6, 0)
