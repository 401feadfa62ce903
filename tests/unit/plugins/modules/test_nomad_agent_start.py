# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_agent_start: enable and start a unit, at a moment shared by several hosts."""

from nomad_replay import run_module

from ansible.module_utils import basic

from ansible_collections.nomadops.nomad.plugins.modules import nomad_agent_start

STOPPED = 'LoadState=loaded\nActiveState=inactive\nUnitFileState=disabled\n'
RUNNING = 'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n'
MISSING = 'LoadState=not-found\nActiveState=inactive\nUnitFileState=\n'


class Host(object):
    """systemctl and the clock of a host: each command takes 50 ms, and a sleep as long as it says."""

    def __init__(self, monkeypatch, state, start_rc=0, now=1000.0):
        self.state, self.start_rc, self.now = state, start_rc, now
        self.calls, self.slept = [], []
        monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda module, name, *a, **k: '/bin/' + name)
        monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda module, args, **kw: self.run_command(args))
        monkeypatch.setattr(nomad_agent_start.time, 'time', lambda: self.now)
        monkeypatch.setattr(nomad_agent_start.time, 'sleep', self.sleep)

    def run_command(self, args):
        self.calls.append((self.now, args[1:]))
        self.now += 0.05
        if args[1] == 'show':
            return 0, self.state, ''
        if args[1] == 'start' and self.start_rc:
            return self.start_rc, '', 'Job for nomad.service failed.'
        return 0, '', ''

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds

    def commands(self):
        return [args for dummy, args in self.calls if args[0] != 'show']


def test_waits_for_the_moment_then_enables_and_starts(monkeypatch, capsys):
    host = Host(monkeypatch, STOPPED)
    failed, result = run_module(nomad_agent_start.main, dict(name='nomad', at=1002.5), capsys)
    assert not failed, result
    assert host.commands() == [['enable', 'nomad.service'], ['start', 'nomad.service']]
    start_time = [when for when, args in host.calls if args[0] == 'start'][0]
    assert start_time == 1002.5
    assert result['changed'] and result['started'] and result['enabled'] and result['active']
    # Reading and enabling the unit took 0.1 s of the wait, not added to it.
    assert result['waited'] == 2.4 and result['late'] == 0.0


def test_a_host_reached_after_the_moment_starts_at_once_and_says_how_late(monkeypatch, capsys):
    host = Host(monkeypatch, STOPPED, now=1001.25)
    failed, result = run_module(nomad_agent_start.main, dict(at=1000.0), capsys)
    assert not failed, result
    assert host.slept == []
    # Reached 1.25 s late, then 0.1 s reading and enabling the unit.
    assert result['started'] and result['waited'] == 0.0 and result['late'] == 1.35


def test_a_running_enabled_unit_is_left_alone_and_nothing_waits(monkeypatch, capsys):
    host = Host(monkeypatch, RUNNING)
    failed, result = run_module(nomad_agent_start.main, dict(at=1010.0), capsys)
    assert not failed, result
    assert host.commands() == [] and host.slept == []
    assert result['changed'] is False and result['started'] is False and result['late'] is None


def test_a_running_unit_is_disabled_without_a_restart(monkeypatch, capsys):
    host = Host(monkeypatch, RUNNING)
    failed, result = run_module(nomad_agent_start.main, dict(enabled=False), capsys, diff=True)
    assert not failed, result
    assert host.commands() == [['disable', 'nomad.service']]
    assert result['changed'] and not result['started']
    assert result['diff'] == {'before': {'active': True, 'enabled': True}, 'after': {'active': True, 'enabled': False}}


def test_check_mode_reports_and_neither_changes_nor_waits(monkeypatch, capsys):
    host = Host(monkeypatch, STOPPED)
    failed, result = run_module(nomad_agent_start.main, dict(at=1005.0), capsys, check_mode=True, diff=True)
    assert not failed, result
    assert host.commands() == [] and host.slept == []
    assert result['changed'] and result['started']
    assert result['diff']['before'] == {'active': False, 'enabled': False}


def test_check_mode_on_a_fresh_host_reports_the_start_of_a_unit_not_installed_yet(monkeypatch, capsys):
    Host(monkeypatch, MISSING)
    failed, result = run_module(nomad_agent_start.main, dict(), capsys, check_mode=True)
    assert not failed, result
    assert result['changed'] and result['started']


def test_a_missing_unit_fails_and_changes_nothing(monkeypatch, capsys):
    host = Host(monkeypatch, MISSING)
    failed, result = run_module(nomad_agent_start.main, dict(name='nomad'), capsys)
    assert failed
    assert 'nomad.service is not installed' in result['msg']
    assert host.commands() == []


def test_a_moment_too_far_ahead_fails_before_anything_changes(monkeypatch, capsys):
    host = Host(monkeypatch, STOPPED)
    failed, result = run_module(nomad_agent_start.main, dict(at=1045.0, max_wait=30), capsys)
    assert failed
    assert '45.0 s ahead' in result['msg'] and 'clocks' in result['msg']
    assert host.calls == [] and host.slept == []


def test_a_failed_start_is_reported_with_systemctl_output(monkeypatch, capsys):
    Host(monkeypatch, STOPPED, start_rc=1)
    failed, result = run_module(nomad_agent_start.main, dict(), capsys)
    assert failed
    assert result['msg'] == 'systemctl start nomad.service failed: Job for nomad.service failed.'
