# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""agent_problems, acl_problems, server_problems, client_problems: preflight's
words, each message from the input that earns it, and silence for the roles'
defaults."""

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.nomadops.nomad.plugins.filter.preflight import (
    FilterModule,
    acl_problems,
    agent_problems,
    client_problems,
    server_problems,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
GROUPS = {'nomad_servers': ['s1', 's2', 's3'], 'nomad_clients': ['s1', 'c1']}


def agent(**changes):
    settings = dict(nomad_version='0.9.1', nomad_data_dir='/opt/nomad', nomad_config_dir='/etc/nomad.d',
                    nomad_bin_dir='/usr/local/bin', nomad_encrypt='', nomad_tls_enable=False,
                    nomad_tls_dir='~/.nomadops/tls', nomad_tls_ca_file='', nomad_tls_ca_key_file='',
                    nomad_tls_cert_file='', nomad_tls_key_file='', nomad_config_extra={})
    settings.update(changes)
    return settings


def acl(**changes):
    settings = dict(nomad_version='1.6.5', nomad_acl_enabled=False, nomad_acl_policies=[], nomad_acl_roles=[],
                    nomad_acl_tokens=[], nomad_acl_anonymous_policy='', nomad_acl_bootstrap_secret='')
    settings.update(changes)
    return settings


def server(**changes):
    settings = dict(nomad_version='1.6.5', nomad_bootstrap_expect=3, nomad_server_extra={},
                    nomad_server_settings={}, nomad_node_pools=[])
    settings.update(changes)
    return settings


def client(**changes):
    settings = dict(nomad_version='1.6.5', nomad_client_extra={}, nomad_plugins={}, nomad_docker_enabled=False,
                    nomad_docker_install=True, nomad_docker_packages=['docker.io'], nomad_docker_plugin_config={},
                    nomad_node_pool='', nomad_client_drain=False, nomad_client_drain_deadline='5m')
    settings.update(changes)
    return settings


def test_registered():
    assert FilterModule().filters() == {'agent_problems': agent_problems, 'acl_problems': acl_problems,
                                        'server_problems': server_problems, 'client_problems': client_problems}


def test_the_roles_defaults_raise_nothing():
    """The defaults as the roles ship them, on the post's three hosts."""
    with open(os.path.join(ROOT, 'roles', 'nomad_server', 'defaults', 'main.yml')) as handle:
        server_defaults = yaml.safe_load(handle)
    with open(os.path.join(ROOT, 'roles', 'nomad_client', 'defaults', 'main.yml')) as handle:
        client_defaults = yaml.safe_load(handle)
    with open(os.path.join(ROOT, 'roles', 'nomad_agent', 'defaults', 'main.yml')) as handle:
        agent_defaults = yaml.safe_load(handle)
    shared = {key: value for key, value in agent_defaults.items() if '{{' not in str(value)}
    assert agent_problems(agent(**{key: value for key, value in shared.items() if key in agent()}),
                          's1', GROUPS) == []
    assert acl_problems(acl(**{key: value for key, value in shared.items() if key in acl()})) == []
    assert server_problems(server(**{key: value for key, value in server_defaults.items()
                                     if key in server() and '{{' not in str(value)}), GROUPS['nomad_servers']) == []
    merged = dict(shared, **client_defaults)
    assert client_problems(client(**{key: value for key, value in merged.items()
                                     if key in client() and '{{' not in str(value)})) == []


@pytest.mark.parametrize('version', ['0.9.1', '1.6.5', '1.0.0-beta2', '1.4.14+ent'])
def test_release_versions_pass(version):
    assert agent_problems(agent(nomad_version=version), 's1', GROUPS) == []


@pytest.mark.parametrize('version', ['0.9', 'v0.9.1', 'latest', '1.6.5/../x', 1.6, ''])
def test_a_version_the_release_site_cannot_have(version):
    assert agent_problems(agent(nomad_version=version), 's1', GROUPS) == [
        'nomad_version must be a release version such as 0.9.1 or 1.1.0; got %s.' % (version,)]


def test_no_servers():
    assert agent_problems(agent(), 'c1', {'nomad_clients': ['c1']}) == [
        "The inventory group nomad_servers is empty or missing: Nomad needs at least one server (every client's "
        "servers list and every server's retry_join are built from it)."]


def test_a_host_in_neither_group():
    assert agent_problems(agent(), 'x9', GROUPS) == [
        'x9 is in neither nomad_servers nor nomad_clients, so it would get an agent that is neither server nor '
        'client, which Nomad refuses to start.']


@pytest.mark.parametrize('name', ['nomad_data_dir', 'nomad_config_dir', 'nomad_bin_dir'])
def test_relative_directories(name):
    got = agent_problems(agent(**{name: 'relative/dir'}), 's1', GROUPS)
    assert len(got) == 1 and got[0].startswith(
        'nomad_data_dir, nomad_config_dir and nomad_bin_dir must be absolute paths (Nomad 0.9.1 refuses a relative '
        'data_dir); got ')
    assert 'relative/dir' in got[0]


@pytest.mark.parametrize('key', ['cg8StVXbQJ0gPvMd9o7yrg==', 'A' * 32, 'A' * 43 + '='])
def test_gossip_keys_of_16_24_32_bytes_pass(key):
    assert agent_problems(agent(nomad_encrypt=key), 's1', GROUPS) == []


@pytest.mark.parametrize('key', ['short==', 'A' * 33, 'not base64 at all!!!!!=='])
def test_a_bad_gossip_key_is_refused_without_showing_it(key):
    got = agent_problems(agent(nomad_encrypt=key), 's1', GROUPS)
    assert got == ['nomad_encrypt must be base64 of 16, 24 or 32 bytes, as `nomad operator keygen` prints it '
                   '(the value is not shown here because it is a secret).']
    assert key not in got[0]


@pytest.mark.parametrize('files', [
    dict(nomad_tls_cert_file='c'),                                   # a certificate without its key
    dict(nomad_tls_cert_file='c', nomad_tls_key_file='k'),           # without the CA
    dict(nomad_tls_ca_key_file='ck'),                                # a CA key without the CA
    dict(nomad_tls_ca_file='ca'),                                    # a CA with neither key nor certificate
])
def test_tls_file_combinations_that_do_not_work(tmp_path, files):
    files = {name: str(tmp_path / value) for name, value in files.items()}
    for path in files.values():
        open(path, 'w').close()
    got = agent_problems(agent(nomad_tls_enable=True, **files), 's1', GROUPS)
    assert got == ["TLS files: give nomad_tls_cert_file and nomad_tls_key_file together, with nomad_tls_ca_file; "
                   "or nomad_tls_ca_file with nomad_tls_ca_key_file to issue each host's certificate from that CA; "
                   "or none of them to have a CA generated under nomad_tls_dir (~/.nomadops/tls)."]


def test_tls_files_that_work_and_tls_off(tmp_path):
    for name in ('ca', 'c', 'k', 'ck'):
        (tmp_path / name).write_text('x')
    for files in (dict(nomad_tls_ca_file='ca', nomad_tls_cert_file='c', nomad_tls_key_file='k'),
                  dict(nomad_tls_ca_file='ca', nomad_tls_ca_key_file='ck'), {}):
        files = {name: str(tmp_path / value) for name, value in files.items()}
        assert agent_problems(agent(nomad_tls_enable=True, **files), 's1', GROUPS) == []
    # With TLS off the files are not read, and a half set is no problem.
    assert agent_problems(agent(nomad_tls_enable='false', nomad_tls_cert_file='/nowhere'), 's1', GROUPS) == []


def test_a_tls_file_missing_on_the_controller(tmp_path):
    (tmp_path / 'ca.pem').write_text('x')
    missing = str(tmp_path / 'agent.pem')
    got = agent_problems(agent(nomad_tls_enable='yes', nomad_tls_ca_file=str(tmp_path / 'ca.pem'),
                               nomad_tls_cert_file=missing, nomad_tls_key_file=str(tmp_path / 'ca.pem')),
                         's1', GROUPS)
    assert got == ['nomad_tls_cert_file names %s, which is not a file on the controller.' % missing]


def test_a_removed_setting_in_nomad_config_extra():
    got = agent_problems(agent(nomad_version='1.9.0', nomad_config_extra={'tls': {'tls_prefer_server_cipher_suites':
                                                                                  True}}), 's1', GROUPS)
    assert got == ['nomad_config_extra: tls.tls_prefer_server_cipher_suites was removed in Nomad 1.9.0, so Nomad '
                   '1.9.0 refuses it; use instead: nothing: Go ignores the preference, so leave it out '
                   '(tls_cipher_suites still picks the suites).']


def test_input_that_is_not_the_variables():
    with pytest.raises(AnsibleFilterError, match='agent_problems: its input must be a dict'):
        agent_problems(['x'], 's1', GROUPS)
    with pytest.raises(AnsibleFilterError, match='server_problems: its input lacks nomad_node_pools'):
        server_problems({k: v for k, v in server().items() if k != 'nomad_node_pools'}, ['s1'])


@pytest.mark.parametrize('expect', [0, 4, 'three', None])
def test_bootstrap_expect_out_of_range(expect):
    assert server_problems(server(nomad_bootstrap_expect=expect), GROUPS['nomad_servers']) == [
        'nomad_bootstrap_expect is %s but nomad_servers has 3 host(s): the servers would wait forever for an '
        'election. Use a value from 1 to the number of servers.' % (expect,)]


def test_bootstrap_expect_from_the_inventory_as_text():
    assert server_problems(server(nomad_bootstrap_expect='2'), GROUPS['nomad_servers']) == []


@pytest.mark.parametrize('name', ['nomad_server_extra', 'nomad_server_settings'])
def test_server_blocks_must_be_dicts(name):
    assert server_problems(server(**{name: 'bootstrap_expect = 3'}), GROUPS['nomad_servers']) == [
        'nomad_server_extra and nomad_server_settings must be dicts (they become HCL blocks).']


@pytest.mark.parametrize('pools', ['web', [{'description': 'x'}], ['web'], {'name': 'web'}])
def test_node_pools_of_the_wrong_shape(pools):
    assert server_problems(server(nomad_node_pools=pools), GROUPS['nomad_servers']) == [
        'nomad_node_pools must be a list of {name, description, meta}, each with a name.']


def test_node_pools_before_1_6():
    assert server_problems(server(nomad_version='1.5.12', nomad_node_pools=[{'name': 'web'}]),
                           GROUPS['nomad_servers']) == [
        'nomad_node_pools is set but nomad_version is 1.5.12: node pools need Nomad 1.6 or newer.']


def test_built_in_node_pools():
    assert server_problems(server(nomad_node_pools=[{'name': 'all'}, {'name': 'web'}, {'name': 'default'}]),
                           GROUPS['nomad_servers']) == [
        'nomad_node_pools names the built-in pool(s) all, default, which Nomad does not let anyone modify; leave '
        'them out.']


def test_a_removed_setting_in_nomad_server_extra():
    got = server_problems(server(nomad_version='1.4.0', nomad_server_extra={'raft_protocol': 2}),
                          GROUPS['nomad_servers'])
    assert len(got) == 1 and got[0].startswith('nomad_server_extra: server.raft_protocol was removed in Nomad 1.4.0')


@pytest.mark.parametrize('name', ['nomad_client_extra', 'nomad_plugins'])
def test_client_blocks_must_be_dicts(name):
    assert client_problems(client(**{name: []})) == [
        'nomad_client_extra and nomad_plugins must be dicts (they become HCL blocks).']


def test_docker_plugin_config_must_be_a_dict():
    assert client_problems(client(nomad_docker_plugin_config='allow_privileged = true')) == [
        'nomad_docker_plugin_config must be a dict (it becomes the config { } block of plugin "docker").']


@pytest.mark.parametrize('packages', [[], 'docker.io', None])
def test_docker_packages_when_docker_is_installed(packages):
    assert client_problems(client(nomad_docker_enabled=True, nomad_docker_packages=packages)) == [
        'nomad_docker_packages must be a non-empty list of package names when nomad_docker_install is on.']
    # Left to another role, or Docker off: the packages are not read.
    assert client_problems(client(nomad_docker_enabled=True, nomad_docker_install=False,
                                  nomad_docker_packages=packages)) == []
    assert client_problems(client(nomad_docker_packages=packages)) == []


@pytest.mark.parametrize('pool', ['bad pool', 'x' * 129, 'caf\u00e9'])
def test_a_node_pool_name_nomad_refuses(pool):
    assert client_problems(client(nomad_node_pool=pool)) == [
        'nomad_node_pool must be a node pool name, 1 to 128 of a-z, A-Z, 0-9, - and _; got %s.' % pool]


def test_a_node_pool_before_1_6():
    assert client_problems(client(nomad_version='1.5.12', nomad_node_pool='gpu')) == [
        'nomad_node_pool is set (gpu) but nomad_version is 1.5.12: node pools, and client { node_pool }, need Nomad '
        '1.6 or newer (an older agent does not know the key).']


@pytest.mark.parametrize('deadline', ['5m', '1h30m', '1.5s', '0', '300ms'])
def test_drain_deadlines_go_reads(deadline):
    assert client_problems(client(nomad_client_drain=True, nomad_client_drain_deadline=deadline)) == []


@pytest.mark.parametrize('deadline', ['5', 'five minutes', '-5m', '', '1d'])
def test_drain_deadlines_go_refuses_or_negative(deadline):
    assert client_problems(client(nomad_client_drain=True, nomad_client_drain_deadline=deadline)) == [
        'nomad_client_drain_deadline must be a Go duration such as 30s, 5m or 1h30m; got %s.' % deadline]
    # Without drains the deadline is not read.
    assert client_problems(client(nomad_client_drain_deadline=deadline)) == []


def test_removed_settings_in_the_client_variables():
    got = client_problems(client(nomad_version='1.8.0', nomad_plugins={'raw_exec': {'config': {'no_cgroups': True}}},
                                 nomad_client_extra={'options': {'driver.raw_exec.no_cgroups': '1'}}))
    assert [message.split(':')[0] for message in got] == ['nomad_client_extra', 'nomad_plugins']


def test_server_hcl_not_rendered_yet_is_no_problem():
    """server.hcl's default names addresses host.yml reads after preflight;
    ansible-core 2.15 passes it as undefined, a user's string is still refused."""
    from jinja2 import Undefined
    assert server_problems(server(nomad_server_settings=Undefined(name='nomad_server_settings')),
                           GROUPS['nomad_servers']) == []


SECRET = '8f4c1e2a-93b7-4d06-a1c5-7e2d9b3f6a10'
POLICY = {'name': 'web-submit', 'rules': 'namespace "web" {}'}
ACL_OFF = ('nomad_acl_policies, nomad_acl_roles, nomad_acl_tokens, nomad_acl_anonymous_policy and '
           'nomad_acl_bootstrap_secret need nomad_acl_enabled: true.')
NOT_A_UUID = ('nomad_acl_bootstrap_secret must be a UUID such as 2b778dd9-f5f1-6f29-b4b4-9a5fa948757a (the value is '
              'not shown here because it is a secret).')


def test_acl_variables_that_work():
    assert acl_problems(acl(nomad_acl_enabled='true', nomad_acl_bootstrap_secret=SECRET,
                            nomad_acl_policies=[POLICY],
                            nomad_acl_roles=[{'name': 'deployers', 'policies': ['web-submit']}],
                            nomad_acl_tokens=[{'name': 'ci', 'roles': ['deployers']}],
                            nomad_acl_anonymous_policy='namespace "default" { policy = "read" }')) == []
    # Policies and tokens, without roles or a bootstrap secret, work on Nomad before 1.4.
    assert acl_problems(acl(nomad_version='0.9.1', nomad_acl_enabled=True, nomad_acl_policies=[POLICY],
                            nomad_acl_tokens=[{'name': 'ci', 'policies': ['web-submit']}])) == []


@pytest.mark.parametrize('name, value', [
    ('nomad_acl_policies', [POLICY]),
    ('nomad_acl_roles', [{'name': 'deployers', 'policies': ['web-submit']}]),
    ('nomad_acl_tokens', [{'name': 'ci'}]),
    ('nomad_acl_anonymous_policy', 'namespace "default" { policy = "read" }'),
    ('nomad_acl_bootstrap_secret', SECRET),
])
def test_an_acl_variable_without_acls_on(name, value):
    assert acl_problems(acl(**{name: value})) == [ACL_OFF]
    assert acl_problems(acl(nomad_acl_enabled='no', **{name: value})) == [ACL_OFF]


@pytest.mark.parametrize('version', ['0.9.1', '1.3.16', '1.3.0-rc1'])
@pytest.mark.parametrize('changes', [
    dict(nomad_acl_bootstrap_secret=SECRET),
    dict(nomad_acl_roles=[{'name': 'deployers', 'policies': ['web-submit']}]),
])
def test_a_bootstrap_secret_or_roles_before_1_4(version, changes):
    got = acl_problems(acl(nomad_version=version, nomad_acl_enabled=True, **changes))
    assert got == ['nomad_acl_bootstrap_secret and nomad_acl_roles need Nomad 1.4 or newer; nomad_version is %s.'
                   % (version,)]
    assert SECRET not in got[0]


@pytest.mark.parametrize('version', ['1.4.0', '1.4.14+ent', '1.6.5'])
def test_a_bootstrap_secret_and_roles_from_1_4(version):
    assert acl_problems(acl(nomad_version=version, nomad_acl_enabled=True, nomad_acl_bootstrap_secret=SECRET,
                            nomad_acl_roles=[{'name': 'deployers', 'policies': ['web-submit']}])) == []


@pytest.mark.parametrize('version', ['v1.3.16', 'latest', ''])
def test_a_version_that_names_no_release_is_left_to_agent_problems(version):
    assert acl_problems(acl(nomad_version=version, nomad_acl_enabled=True, nomad_acl_bootstrap_secret=SECRET)) == []
    assert agent_problems(agent(nomad_version=version), 's1', GROUPS) == [
        'nomad_version must be a release version such as 0.9.1 or 1.1.0; got %s.' % (version,)]


@pytest.mark.parametrize('secret', [
    'not-a-uuid-but-a-secret-all-the-same',
    SECRET.upper(),
    SECRET[:-1],
    SECRET + '\n',
    SECRET.replace('-', ''),
    12345,
])
def test_a_bootstrap_secret_that_is_no_uuid_is_refused_without_showing_it(secret):
    got = acl_problems(acl(nomad_acl_enabled=True, nomad_acl_bootstrap_secret=secret))
    assert got == [NOT_A_UUID]
    assert str(secret).strip() not in got[0]


def test_the_acl_items_are_checked_too():
    got = acl_problems(acl(nomad_acl_enabled=True,
                           nomad_acl_policies=[{'rules': 'x'}, {'name': 'a'}],
                           nomad_acl_roles=[{'name': 'r'}],
                           nomad_acl_tokens=[{'roles': ['r']}]))
    assert got == ['nomad_acl_policies[0] has no name.',
                   'nomad_acl_policies[1] (a) needs one of rules, rules_src.',
                   'nomad_acl_roles[0] (r) has no policies.',
                   'nomad_acl_tokens[0] has no name.']


def test_every_acl_problem_at_once_without_the_secret():
    secret = 'not-a-uuid-but-a-secret-all-the-same'
    got = acl_problems(acl(nomad_version='0.9.1', nomad_acl_bootstrap_secret=secret,
                           nomad_acl_roles=[{'name': 'r', 'policies': ['a']}]))
    assert got == [ACL_OFF,
                   'nomad_acl_bootstrap_secret and nomad_acl_roles need Nomad 1.4 or newer; nomad_version is 0.9.1.',
                   NOT_A_UUID]
    assert not [message for message in got if secret in message]


def test_acl_input_that_is_not_the_variables():
    with pytest.raises(AnsibleFilterError, match='acl_problems: its input lacks nomad_acl_bootstrap_secret'):
        acl_problems({key: value for key, value in acl().items() if key != 'nomad_acl_bootstrap_secret'})
