# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The double's `nomad config validate` speaks as a real Nomad 1.6.5 does
(its output for these directories was taken from the real binary)."""

import os
import subprocess
import sys

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MTLS = 'WARNING: mTLS is not configured - Nomad is not secure without mTLS!\n'


def validate(path, version='1.6.5'):
    proc = subprocess.run([sys.executable, '-m', 'nomad_double', 'config', 'validate', str(path)], cwd=TESTS,
                          env=dict(os.environ, NOMAD_DOUBLE_VERSION=version), capture_output=True, text=True,
                          check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.mark.parametrize('text, rc, stdout, stderr', [
    ('data_dir = "/opt/nomad"\nclient { enabled = true }\n', 0, 'Configuration is valid!\n', MTLS),
    ('data_dir = "/opt/nomad"\n', 1, '',
     'Must specify either server, client or dev mode for the agent.\nConfiguration is invalid\n'),
    ('data_dir = "relative/dir"\nclient { enabled = true }\n', 1, '',
     MTLS + 'data-dir must be given as an absolute path: got relative/dir\nConfiguration is invalid\n'),
])
def test_the_words_of_1_6_5(tmp_path, text, rc, stdout, stderr):
    (tmp_path / 'a.hcl').write_text(text)
    assert validate(tmp_path) == (rc, stdout, stderr)


def test_keys_are_those_1_6_5_takes(tmp_path):
    """node_pool is a client key of 1.6; a misspelt one is refused in 1.6.5's words."""
    (tmp_path / 'a.hcl').write_text('data_dir = "/opt/nomad"\nclient {\n  enabled = true\n  node_pool = "x"\n}\n')
    assert validate(tmp_path) == (0, 'Configuration is valid!\n', MTLS)
    (tmp_path / 'a.hcl').write_text('data_dir = "/opt/nomad"\nclient {\n  enabled = true\n  node_pol = "x"\n}\n')
    assert validate(tmp_path) == (1, '', '1 error occurred:\n\t* Error loading configuration from %s: Error loading '
                                  '%s: client unexpected keys node_pol\n\n\n' % (tmp_path, tmp_path / 'a.hcl'))


def test_a_load_error_comes_as_a_multierror(tmp_path):
    rc, stdout, stderr = validate(tmp_path / 'missing')
    assert rc == 1 and stdout == ''
    assert stderr.startswith('1 error occurred:\n\t* Error loading configuration from %s' % (tmp_path / 'missing'))


def test_releases_before_1_3_have_no_such_command(tmp_path):
    (tmp_path / 'a.hcl').write_text('client { enabled = true }\n')
    assert validate(tmp_path, version='1.1.0')[0] == 127
