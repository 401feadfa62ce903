# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_agent_config through the real ``ansible`` CLI with a real Nomad 1.3+
binary (NOMAD_TEST_BINARY) as the judge: `nomad config validate` on the
staged directory, its words about the real files, nothing written on refusal.

Order: check mode -> apply -> apply again (unchanged) -> the binary itself
reads the real directory -> refusals that leave every file as it was.
"""

import os
import re
import subprocess

import pytest

from tests.integration.nomad_agents import ANSIBLE, ansible

BINARY = os.environ.get('NOMAD_TEST_BINARY', '')


def _release(binary):
    if not binary:
        return None
    if not os.access(binary, os.X_OK):
        pytest.fail('NOMAD_TEST_BINARY=%s is not an executable file' % binary)
    out = subprocess.run([binary, 'version'], capture_output=True, text=True, check=False).stdout
    found = re.match(r'Nomad v(\d+)\.(\d+)\.(\d+)', out)
    return tuple(int(part) for part in found.groups()) if found else None


RELEASE = _release(BINARY)
pytestmark = [
    pytest.mark.skipif(not os.path.exists(ANSIBLE), reason='ansible is not installed next to this python'),
    pytest.mark.skipif(RELEASE is None or RELEASE < (1, 3, 0),
                       reason='needs NOMAD_TEST_BINARY naming a Nomad 1.3 or newer binary (got %r)' % (BINARY,)),
]

FILES = {
    'nomad.hcl': {'datacenter': 'dc1', 'data_dir': '/opt/nomad-it-not-created'},
    'client.hcl': {'client': {'enabled': True}},
}


def args(conf_dir, files=None, **extra):
    base = dict(dir=conf_dir, files=files or FILES, nomad_version='%d.%d.%d' % RELEASE, binary=BINARY,
                header='managed by the integration test')
    base.update(extra)
    return base


def contents(conf_dir):
    result = {}
    for name in sorted(os.listdir(conf_dir)):
        with open(os.path.join(conf_dir, name)) as handle:
            result[name] = handle.read()
    return result


def test_flow_check_apply_idempotent_read(tmp_path):
    conf_dir = str(tmp_path / 'nomad.d')

    rc, res = ansible('nomadops.nomad.nomad_agent_config', args(conf_dir), check=True)
    assert rc == 0, res
    assert res['changed'] is True and res['validated_by'] == 'binary'
    assert not os.path.exists(conf_dir)

    rc, res = ansible('nomadops.nomad.nomad_agent_config', args(conf_dir))
    assert rc == 0, res
    assert res['changed'] is True and sorted(res['changed_files']) == ['client.hcl', 'nomad.hcl']

    rc, again = ansible('nomadops.nomad.nomad_agent_config', args(conf_dir))
    assert rc == 0, again
    assert again['changed'] is False and again['validated_by'] == 'binary'

    proc = subprocess.run([BINARY, 'config', 'validate', conf_dir], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == 'Configuration is valid!', proc


def test_refusals_are_nomads_words_about_the_real_files_and_change_nothing(tmp_path):
    conf_dir = str(tmp_path / 'nomad.d')
    rc, res = ansible('nomadops.nomad.nomad_agent_config', args(conf_dir))
    assert rc == 0, res
    before = contents(conf_dir)

    bad_key = dict(FILES, **{'client.hcl': {'client': {'enabled': True, 'bogus_key': 1}}})
    rc, res = ansible('nomadops.nomad.nomad_agent_config', args(conf_dir, bad_key))
    assert rc != 0 and res['failed']
    assert res['msg'].endswith('Error loading configuration from %s: Error loading %s/client.hcl: client unexpected '
                               'keys bogus_key (line 4)' % (conf_dir, conf_dir)), res['msg']
    assert 'mTLS' not in res['msg'] and 'nomad-config-validate' not in res['msg']

    relative = dict(FILES, **{'nomad.hcl': {'data_dir': 'relative/dir'}})
    rc, res = ansible('nomadops.nomad.nomad_agent_config', args(conf_dir, relative), check=True)
    assert rc != 0
    assert res['msg'].endswith('config validate): data-dir must be given as an absolute path: got relative/dir\n'
                               'Configuration is invalid'), res['msg']

    # A file the module does not manage is judged too, and named where it is.
    with open(os.path.join(conf_dir, 'zz-user.hcl'), 'w') as handle:
        handle.write('client {\n  enabled = true\n')
    rc, res = ansible('nomadops.nomad.nomad_agent_config',
                      args(conf_dir, {'nomad.hcl': FILES['nomad.hcl']}, absent=['client.hcl']))
    assert rc != 0
    assert 'Error loading %s/zz-user.hcl: failed to decode HCL file %s/zz-user.hcl: At 3:2: object expected closing RBRACE got: EOF' % (
        conf_dir, conf_dir) in res['msg'], res['msg']
    os.unlink(os.path.join(conf_dir, 'zz-user.hcl'))

    # Accepted by `config validate`, refused by the agent since 1.4: the removals table says so first.
    rc, res = ansible('nomadops.nomad.nomad_agent_config',
                      args(conf_dir, dict(FILES, **{'server.hcl': {'server': {'enabled': True, 'raft_protocol': 2}}})))
    assert rc != 0
    assert 'server.raft_protocol was removed in Nomad 1.4.0' in res['msg'] and '/server.hcl line 4' in res['msg']

    assert contents(conf_dir) == before
