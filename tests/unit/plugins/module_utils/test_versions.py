# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""versions: the one place that says what differs between Nomad releases."""

import pytest

from ansible_collections.nomadops.nomad.plugins.module_utils import versions


@pytest.mark.parametrize('text, parsed', [('0.9.1', (0, 9, 1)), ('v1.1.0', (1, 1, 0)), ('1.0.0-beta3', (1, 0, 0)),
                                          ('1.6.2+ent', (1, 6, 2))])
def test_versions_parse(text, parsed):
    assert versions.parse_version(text) == parsed


@pytest.mark.parametrize('text', ['latest', '1.1', '', '1.1.0.0'])
def test_what_is_not_a_release_version_is_refused_by_name(text):
    with pytest.raises(ValueError, match='not a Nomad release version'):
        versions.parse_version(text)


@pytest.mark.parametrize('version, schema', [('0.9.0', '0.9.1'), ('0.9.1', '0.9.1'), ('0.9.7', None), ('0.8.7', None),
                                             ('1.0.4', '1.1'), ('1.1.0', '1.1'), ('1.1.18', '1.1'), ('1.2.0', None)])
def test_agent_schemas_only_where_the_collection_knows_the_keys(version, schema):
    assert versions.agent_schema(version) == schema


def test_job_dialect_and_namespaces_follow_1_0():
    assert [versions.job_dialect(v) for v in ('0.9.1', '0.12.9', '1.0.0', '1.1.0')] == ['hcl1', 'hcl1', 'hcl2', 'hcl2']
    assert not versions.has_open_source_namespaces('0.9.1')
    assert versions.has_open_source_namespaces('1.0.0')


@pytest.mark.parametrize('installed, target', [('0.9.1', '0.9.1'), ('0.9.1', '0.9.7'), ('0.9.7', '0.10.9'),
                                               ('0.12.12', '1.0.18'), ('1.0.18', '1.1.0')])
def test_one_point_release_at_a_time_is_fine(installed, target):
    assert versions.upgrade_problem(installed, target) is None


@pytest.mark.parametrize('installed, target, through', [('0.9.1', '0.11.0', '0.10.x'), ('0.11.8', '1.0.0', '0.12.x'),
                                                        ('0.12.0', '1.1.0', '1.0.x'), ('0.9.1', '1.1.0', '0.10.x')])
def test_skipping_a_point_release_names_the_one_to_go_through(installed, target, through):
    problem = versions.upgrade_problem(installed, target)
    assert problem.endswith('so go through %s first' % through)
    assert problem.startswith('Nomad %s is installed and %s was asked for' % (installed, target))


def test_downgrades_only_when_allowed():
    assert 'does not support downgrading' in versions.upgrade_problem('0.9.7', '0.9.1')
    assert versions.upgrade_problem('0.9.7', '0.9.1', allow_downgrade=True) is None


@pytest.mark.parametrize('version, binary', [('0.9.1', False), ('1.1.0', False), ('1.2.9', False), ('1.3.0', True),
                                             ('1.6.5', True), ('2.0.0', True)])
def test_from_1_3_the_installed_binary_judges(version, binary):
    assert versions.validated_by_binary(version) is binary
    if binary:
        assert versions.agent_schema(version) is None


# Every row of the removals table, at the release that dropped it and the one before.
@pytest.mark.parametrize('settings, key, release', [
    ({'server': {'raft_protocol': 2}}, 'server.raft_protocol', '1.4.0'),
    ({'server': [{'raft_protocol': '1'}]}, 'server.raft_protocol', '1.4.0'),
    ({'plugin': {'raw_exec': {'config': {'enabled': True, 'no_cgroups': True}}}},
     'plugin.raw_exec.config.no_cgroups', '1.8.0'),
    ({'plugin': [{'raw_exec': [{'config': [{'no_cgroups': True}]}]}]}, 'plugin.raw_exec.config.no_cgroups', '1.8.0'),
    ({'client': {'options': {'driver.raw_exec.no_cgroups': '1'}}}, 'client.options.driver.raw_exec.no_cgroups',
     '1.8.0'),
    ({'tls': {'http': True, 'tls_prefer_server_cipher_suites': True}}, 'tls.tls_prefer_server_cipher_suites', '1.9.0'),
    ({'vault': {'enabled': True, 'token': 's.x'}}, 'vault.token', '1.10.0'),
    ({'vault': {'allow_unauthenticated': False}}, 'vault.allow_unauthenticated', '1.10.0'),
    ({'vault': {'task_token_ttl': '1h'}}, 'vault.task_token_ttl', '1.10.0'),
    ({'consul': {'allow_unauthenticated': False}}, 'consul.allow_unauthenticated', '1.10.0'),
])
def test_each_removed_setting_is_refused_from_its_release_on(settings, key, release):
    before = versions.parse_version(release)
    earlier = '%d.%d.9' % (before[0], before[1] - 1)
    assert versions.removed_settings(settings, earlier) == []
    for version in (release, '2.0.0'):
        found = versions.removed_settings(settings, version)
        assert [(k, r) for k, r, dummy in found] == [(key, release)]
        assert found[0][2]


def test_what_replaces_a_removed_setting_is_said():
    found = dict((k, i) for k, r, i in versions.removed_settings(
        {'vault': {'token': 'x'}, 'tls': {'tls_prefer_server_cipher_suites': True}, 'server': {'raft_protocol': 2}},
        '1.10.0'))
    assert 'workload identity' in found['vault.token'] and 'vault.default_identity' in found['vault.token']
    assert 'leave it out' in found['tls.tls_prefer_server_cipher_suites']
    assert 'raft_protocol = 3' in found['server.raft_protocol']


def test_settings_that_stayed_are_not_refused():
    # raft protocol 3 stays; consul.token still serves the agent's own registration in 1.10.
    kept = {'server': {'raft_protocol': 3, 'enabled': True}, 'consul': {'token': 'x'}, 'vault': {'enabled': True},
            'tls': {'tls_cipher_suites': 'TLS_AES_128_GCM_SHA256'}, 'plugin': {'docker': {'config': {'no_cgroups': 1}}}}
    assert versions.removed_settings(kept, '2.0.0') == []


def test_the_removed_setting_message_names_key_place_release_version_and_instead():
    assert versions.removed_setting_message('vault.token', '1.10.0', 'workload identity', '1.10.2',
                                            '/etc/nomad.d/vault.hcl line 3') == (
        '/etc/nomad.d/vault.hcl line 3: vault.token was removed in Nomad 1.10.0, so Nomad 1.10.2 refuses it; '
        'use instead: workload identity')


@pytest.mark.parametrize('installed, target', [('1.2.6', '1.3.0'), ('1.3.16', '1.4.0'), ('1.5.0', '1.6.5'),
                                               ('1.8.4', '1.9.0'), ('1.9.7', '1.10.0'), ('1.10.5', '1.11.0'),
                                               ('1.11.3', '2.0.0'), ('2.0.0', '2.1.0')])
def test_one_1x_point_release_at_a_time_is_fine(installed, target):
    assert versions.upgrade_problem(installed, target) is None


@pytest.mark.parametrize('installed, target, through', [('1.2.6', '1.4.0', '1.3.x'), ('1.4.0', '1.6.0', '1.5.x'),
                                                        ('1.8.4', '1.10.0', '1.9.x'), ('1.1.0', '2.1.0', '1.2.x')])
def test_skipping_a_1x_point_release_names_the_one_to_go_through(installed, target, through):
    assert versions.upgrade_problem(installed, target).endswith('so go through %s first' % through)


@pytest.mark.parametrize('installed, target', [('1.3.0', '1.2.9'), ('1.4.2', '1.2.0')])
def test_no_way_back_across_the_1_3_state_migration_even_when_allowed(installed, target):
    for allow in (False, True):
        problem = versions.upgrade_problem(installed, target, allow_downgrade=allow)
        assert problem.startswith('Nomad %s is installed and %s was asked for: Nomad 1.3.0 migrated' % (
            installed, target))
        assert 'erase its data directory' in problem and 'even with nomad_allow_downgrade' in problem


def test_a_1x_downgrade_that_stays_on_one_side_of_1_3_follows_the_old_rule():
    assert 'does not support downgrading' in versions.upgrade_problem('1.6.5', '1.5.0')
    assert versions.upgrade_problem('1.6.5', '1.5.0', allow_downgrade=True) is None
    assert versions.upgrade_problem('1.2.9', '1.2.0', allow_downgrade=True) is None


def test_notices_for_the_releases_an_upgrade_crosses():
    assert versions.upgrade_notice(None, '1.3.0') == ''
    assert versions.upgrade_notice('1.1.0', '1.2.0') == ''
    assert versions.upgrade_notice('1.3.0', '1.3.5') == ''
    crossing = versions.upgrade_notice('1.2.9', '1.3.0')
    assert crossing.startswith('Nomad 1.3.0 migrates each server') and 'snapshot' in crossing
    assert 'raft protocol 3' in crossing
    assert versions.upgrade_notice('1.3.0', '1.4.0') == 'Nomad 1.4.0 supports raft protocol 3 only.'
    assert 'refuse clients older than 1.6.0' in versions.upgrade_notice('1.8.0', '1.9.0')
    assert 'workload identity' in versions.upgrade_notice('1.9.0', '1.10.0')


def test_a_cluster_upgrades_servers_first():
    assert versions.cluster_upgrade_problems({'s1': ('1.5.0', '1.6.5')}, {'c1': ('1.5.0', '1.6.5')}) == []
    assert versions.cluster_upgrade_problems({'s1': ('1.6.5', '1.6.5'), 's2': ('1.5.0', '1.5.3')},
                                             {'c1': ('1.5.0', '1.6.5')}) == [
        'c1: the client would run Nomad 1.6.5 while server s2 runs 1.5.3; upgrade the servers first']


def test_servers_that_refuse_old_clients_wait_for_them():
    assert versions.cluster_upgrade_problems({'s1': ('1.8.0', '1.9.0')}, {'c1': ('1.5.6', '1.9.0')}) == [
        'c1: Nomad 1.9.0 servers (s1) refuse clients older than 1.6.0, and this client runs 1.5.6 while they '
        'restart; upgrade it to 1.6.x or later first']
    assert versions.cluster_upgrade_problems({'s1': ('1.8.0', '1.9.0')}, {'c1': ('1.6.0', '1.9.0')}) == []
    # A client installed for the first time starts on its target.
    assert versions.cluster_upgrade_problems({'s1': (None, '1.9.0')}, {'c1': (None, '1.9.0')}) == []
    assert versions.cluster_upgrade_problems({'s1': ('1.7.0', '1.8.0')}, {'c1': ('1.5.6', '1.8.0')}) == []


@pytest.mark.parametrize('text', ['0.9.1', '1.0.0-beta2', '1.6.2+ent', '1.4.14+ent.fips1402'])
def test_release_versions_as_the_release_site_names_them(text):
    assert versions.release_version(text) == text


@pytest.mark.parametrize('text', ['v0.9.1', '0.9.1/../../x', '0.9.1?x', '0.9.1~rc1', '0.9', ' 0.9.1', None, 1.6,
                                  '\u0661.9.1'])
def test_what_could_not_name_a_release_or_would_reshape_its_url(text):
    with pytest.raises(ValueError, match='not a Nomad release version'):
        versions.release_version(text)


@pytest.mark.parametrize('output, version', [
    ('Nomad v0.9.1 (4b2bdbd9ab68a27b10c2ee781cceaaf62e114399)\n', '0.9.1'),
    ('Nomad v1.6.5\nBuildDate 2023-12-18T20:29:09Z\nRevision 6b06b2c\n', '1.6.5'),
    ('Nomad v1.0.0-beta2 (x)', '1.0.0-beta2'),
    ('some warning\nNomad v1.1.0 (x)\n', '1.1.0'),
    ('Terraform v0.9.1', None), ('Nomad version 0.9.1', None), ('Nomad v1.x', None), ('', None), (None, None),
])
def test_the_release_nomad_version_prints(output, version):
    assert versions.version_from_cli(output) == version


def test_every_reader_of_a_version_is_this_one():
    from ansible_collections.nomadops.nomad.plugins.module_utils import install, release
    from ansible_collections.nomadops.nomad.plugins.modules import nomad_agent_config, nomad_host_info, nomad_install
    assert release.release_version is versions.release_version
    assert release.version_from_cli is versions.version_from_cli
    assert nomad_agent_config.version_from_cli is versions.version_from_cli
    # The host read and the install ask the binary the same way (module_utils/install.py).
    assert nomad_host_info.installed_version is install.installed_version
    assert nomad_install.installed_version is install.installed_version
