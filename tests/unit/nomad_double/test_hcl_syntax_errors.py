# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The double reads agent configs with pyhcl, whose syntax errors are worded
its own way; for the kinds it claims to word as Nomad does, its message is
the one each release gave (tests/recordings/nomad-*/agent_config.json,
``syntax``, made by tests/real/record_agent_keys.py)."""

import json
import os
import subprocess
import sys

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PREFIX = '==> Error loading configuration from agent.hcl: Error loading agent.hcl: '
# The others (open-list, open-string, missing-equals, stray-brace) keep pyhcl's words.
WORDED_AS_NOMAD = ('open-block', 'illegal-char')


@pytest.mark.parametrize('version', ['0.9.1', '1.1.0', '1.6.5'])
@pytest.mark.parametrize('case', WORDED_AS_NOMAD)
def test_the_release_s_words(tmp_path, version, case):
    with open(os.path.join(TESTS, 'recordings', 'nomad-' + version, 'agent_config.json')) as f:
        recorded = json.load(f)['syntax'][case]
    (tmp_path / 'agent.hcl').write_text(recorded['text'])
    proc = subprocess.run([sys.executable, '-m', 'nomad_double', 'agent', '-config', 'agent.hcl'], cwd=str(tmp_path),
                          env=dict(os.environ, NOMAD_DOUBLE_VERSION=version, PYTHONPATH=TESTS), capture_output=True,
                          text=True, timeout=30, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, '', PREFIX + recorded['message'] + '\n')
