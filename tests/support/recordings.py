# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the tests find what real Nomad releases did, and Nomad's own test files.

What a release answered or printed is in this repository,
``tests/recordings/nomad-<version>/`` (see each directory's README.md; the
scripts under ``tests/real/`` record it again from a binary). Those outputs
are facts to compare against.

The inputs of Nomad 0.9.1's own parser and agent-config tests are not: they
are files of Nomad's source tree (MPL-2.0), which this repository does not
carry. Their recorded outputs are here (``nomad-0.9.1/jobspec-reference/``);
the tests that feed the files to our parsers read them from a checkout of
Nomad's source at the tag v0.9.1 named by ``NOMAD_SOURCE_0_9_1``, and skip,
saying so, without one.
"""

import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECORDINGS = os.path.join(ROOT, 'tests', 'recordings')
NOMAD_SOURCE_ENV = 'NOMAD_SOURCE_0_9_1'
# Where the files sit in Nomad v0.9.1's tree.
NOMAD_SOURCE_DIRS = {'jobspec': ('jobspec', 'test-fixtures'), 'agent-config': ('command', 'agent', 'testdata')}


def recordings_dir(version):
    """tests/recordings/nomad-<version>/; it must exist (a missing one is a broken checkout, not a skip)."""
    path = os.path.join(RECORDINGS, 'nomad-' + version)
    if not os.path.isdir(path):
        raise FileNotFoundError('no recordings of Nomad %s at %s' % (version, path))
    return path


def nomad_source_dir(kind):
    """Nomad v0.9.1's own test files of ``kind`` (``jobspec`` or ``agent-config``), or None."""
    checkout = os.environ.get(NOMAD_SOURCE_ENV)
    if not checkout:
        return None
    path = os.path.join(checkout, *NOMAD_SOURCE_DIRS[kind])
    return path if os.path.isdir(path) else None


def skip_reason(kind):
    return ("Nomad 0.9.1's own %s test files are Nomad source, not in this repository: set %s to a checkout "
            "of github.com/hashicorp/nomad at v0.9.1" % (kind, NOMAD_SOURCE_ENV))


def needs_nomad_source(kind):
    """A pytest mark: skip, saying why, without Nomad v0.9.1's own files of ``kind``."""
    return pytest.mark.skipif(nomad_source_dir(kind) is None, reason=skip_reason(kind))
