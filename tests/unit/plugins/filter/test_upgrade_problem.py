# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nomadops.nomad.plugins.filter.upgrade_problem import FilterModule, upgrade_problem


def test_registered_and_quiet_when_fine_or_nothing_installed():
    assert FilterModule().filters()['upgrade_problem'] is upgrade_problem
    assert upgrade_problem(None, '0.9.1') == '' and upgrade_problem('0.9.0', '0.9.1') == ''


def test_says_why_not():
    assert upgrade_problem('0.9.1', '1.1.0').endswith('go through 0.10.x first')
    assert 'nomad_allow_downgrade' in upgrade_problem('0.9.1', '0.9.0')
    assert upgrade_problem('0.9.1', '0.9.0', allow_downgrade=True) == ''


def test_a_target_that_is_no_version_is_an_error():
    with pytest.raises(AnsibleFilterError, match='not a Nomad release version'):
        upgrade_problem('0.9.1', 'latest')
