# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the test double's integration tests."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from double_harness import Cluster  # noqa: E402


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(str(tmp_path))
    yield c
    leaked = c.stop_all()
    assert not leaked, 'left behind by the agents (processes as (pid, ppid, cwd, argv)): %r' % leaked


def pytest_collection_modifyitems(config, items):
    """With NOMAD_TEST_RELEASES set, tests run against a real Nomad: none may use the double."""
    if not os.environ.get('NOMAD_TEST_RELEASES'):
        return
    skip = pytest.mark.skip(reason='NOMAD_TEST_RELEASES is set: the test double is not used')
    here = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(skip)
