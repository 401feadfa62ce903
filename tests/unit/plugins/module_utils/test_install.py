# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""install.drift: what nomad_install would change, read without changing anything.
tests/integration/test_nomad_install.py holds it to nomad_install's own check mode."""

import grp
import hashlib
import json
import os
import pwd

from ansible_collections.nomadops.nomad.plugins.module_utils import install

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
STANDIN = b'#!/bin/sh\nif [ "$1" = version ]; then echo "Nomad v0.9.1 (0000000000000000000000000000000000000000)"; fi\n'


def installed(tmp_path, **record):
    """A host as nomad_install leaves it for 0.9.1: the binary, its record and the data directory."""
    bindir, data_dir = tmp_path / 'bin', tmp_path / 'data'
    bindir.mkdir()
    data_dir.mkdir(mode=0o700)
    os.chmod(str(data_dir), 0o700)
    binary = bindir / 'nomad'
    binary.write_bytes(STANDIN)
    binary.chmod(0o755)
    want = install.wanted(dict(install.DEFAULTS, install_dir=str(bindir), owner=OWNER, group=GROUP,
                               data_dir=str(data_dir), os='linux', arch='amd64'))
    entry = dict(version='0.9.1', os='linux', arch='amd64', sha256=hashlib.sha256(STANDIN).hexdigest(),
                 zip_sha256='ab' * 32)
    entry.update(record)
    (bindir / install.RECORD).write_text(json.dumps(entry))
    return want, str(binary), str(data_dir)


def test_a_host_as_the_install_left_it_has_no_drift(tmp_path):
    want, dummy, dummy = installed(tmp_path)
    assert install.drift(want) == []
    assert install.drift(want, version_now='0.9.1') == []


def test_each_difference_is_named(tmp_path):
    want, binary, data_dir = installed(tmp_path)
    os.chmod(binary, 0o700)
    os.chmod(data_dir, 0o755)
    assert install.drift(want) == ['%s is not %s:%s 0755' % (binary, OWNER, GROUP),
                                   '%s is not %s:%s 0700' % (data_dir, OWNER, GROUP)]
    os.rmdir(data_dir)
    assert install.drift(dict(want, mode=0o700)) == ['%s is missing' % data_dir]


def test_only_the_record_vouches_for_the_binary(tmp_path):
    want, binary, dummy = installed(tmp_path, sha256='0' * 64)
    assert install.drift(want) == ['%s is not the verified Nomad 0.9.1' % binary]
    (tmp_path / 'pinned').mkdir()
    want, binary, dummy = installed(tmp_path / 'pinned')
    assert install.drift(dict(want, pin='cd' * 32)) == ['%s is not the verified Nomad 0.9.1' % binary]
    assert install.drift(dict(want, pin='ab' * 32)) == []
    assert install.drift(dict(want, version='0.9.7')) == ['%s is not the verified Nomad 0.9.7' % binary]
    # What the binary itself says counts too: a record cannot vouch for another release.
    assert install.drift(want, version_now='0.9.0') == ['%s is not the verified Nomad 0.9.1' % binary]


def test_a_unit_that_differs_is_named(tmp_path):
    want, dummy, dummy = installed(tmp_path)
    unit = tmp_path / 'nomad.service'
    assert install.drift(dict(want, systemd_unit='[Unit]\n', systemd_unit_path=str(unit))) == [
        '%s differs' % unit]
    unit.write_text('[Unit]\nDescription=old\n')
    assert install.drift(dict(want, systemd_unit='[Unit]\n', systemd_unit_path=str(unit))) == [
        '%s differs' % unit]
