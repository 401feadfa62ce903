# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""removed_settings: preflight's words for a setting the release being installed dropped."""

from ansible_collections.nomadops.nomad.plugins.filter.removed_settings import FilterModule, removed_settings


def test_registered_and_quiet_when_nothing_was_removed():
    assert FilterModule().filters()['removed_settings'] is removed_settings
    assert removed_settings({'nomad_config_extra': {'tls': {'tls_prefer_server_cipher_suites': True}}}, '1.8.4') == []
    assert removed_settings({}, '1.10.0') == [] and removed_settings(None, '1.10.0') == []


def test_each_message_names_the_variable_key_release_and_instead():
    assert removed_settings({'nomad_config_extra': {'tls': {'tls_prefer_server_cipher_suites': True}}}, '1.9.0') == [
        'nomad_config_extra: tls.tls_prefer_server_cipher_suites was removed in Nomad 1.9.0, so Nomad 1.9.0 refuses '
        'it; use instead: nothing: Go ignores the preference, so leave it out (tls_cipher_suites still picks the '
        'suites).']
    assert removed_settings({'nomad_server_extra': {'server': {'raft_protocol': 2}}}, '1.4.0') == [
        'nomad_server_extra: server.raft_protocol was removed in Nomad 1.4.0, so Nomad 1.4.0 refuses it; use '
        'instead: raft_protocol = 3, or no raft_protocol at all (3 is the default since 1.3.0); see "Upgrading to '
        'Raft Protocol 3" in the upgrade guide.']
    assert removed_settings({'nomad_plugins': {'plugin': {'raw_exec': {'config': {'no_cgroups': True}}}}}, '1.8.0') == [
        'nomad_plugins: plugin.raw_exec.config.no_cgroups was removed in Nomad 1.8.0, so Nomad 1.8.0 refuses it; use '
        'instead: nothing: it has had no effect since 1.7.0, so leave it out.']
    assert removed_settings({'nomad_config_extra': {'vault': {'token': 's.secret', 'task_token_ttl': '1h'}}},
                            '1.10.1') == [
        'nomad_config_extra: vault.token was removed in Nomad 1.10.0, so Nomad 1.10.1 refuses it; use instead: '
        'workload identity: vault.default_identity on the servers and a JWT auth method in Vault.',
        'nomad_config_extra: vault.task_token_ttl was removed in Nomad 1.10.0, so Nomad 1.10.1 refuses it; use '
        'instead: the token TTL of the Vault role that the workload identity logs in with.']
    assert removed_settings({'nomad_client_extra': {'client': {'options': {'driver.raw_exec.no_cgroups': '1'}}}},
                            '1.8.0') == [
        'nomad_client_extra: client.options.driver.raw_exec.no_cgroups was removed in Nomad 1.8.0, so Nomad 1.8.0 '
        'refuses it; use instead: nothing: it has had no effect since 1.7.0, so leave it out.']


def test_a_secret_value_is_never_in_a_message():
    assert 's.secret' not in ' '.join(removed_settings({'x': {'vault': {'token': 's.secret'}}}, '1.10.0'))


def test_a_key_held_by_two_variables_is_named_once_under_the_first():
    assert [m.split(':')[0] for m in removed_settings(
        {'nomad_config_extra': {'consul': {'allow_unauthenticated': True}},
         'nomad_other': {'consul': {'allow_unauthenticated': True}}}, '1.10.0')] == ['nomad_config_extra']


def test_what_other_checks_report_is_left_to_them():
    assert removed_settings({'nomad_server_extra': 'not a dict'}, '1.10.0') == []
    assert removed_settings({'x': {'vault': {'token': 't'}}}, 'latest') == []
