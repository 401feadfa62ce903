# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The clone repair decision (roles/nomad_agent/templates/clone_plan.j2), run
through the real ansible-playbook on local hosts with made-up identities."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TEMPLATE = os.path.join(ROOT, 'roles', 'nomad_agent', 'templates', 'clone_plan.j2')
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')

A, B = '36492a80-8800-926a-6578-939ad5aa1188', 'cbf7908f-800b-95b3-8852-2b3a2f476899'
S1, S2 = '45dbb27d-5664-6f3e-c981-1c3cae0027f6', 'd5e24378-c6c1-2c1e-ad40-270d50238a10'


def plan(tmp_path, hosts, clients=None):
    """hosts: {name: (client_id, secret_id, was_active)} in play order."""
    clients = list(hosts) if clients is None else clients
    lines = ['[nomad_clients]'] + clients + ['[other]'] + [h for h in hosts if h not in clients]
    lines += ['[all:vars]', 'ansible_connection=local', 'ansible_python_interpreter=%s' % sys.executable]
    (tmp_path / 'inventory').write_text('\n'.join(lines) + '\n')
    facts = dict((h, dict(nomad_agent_node_id=v[0], nomad_agent_node_secret=v[1], nomad_agent_was_active=v[2]))
                 for h, v in hosts.items())
    (tmp_path / 'play.yml').write_text("""
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.set_fact:
        nomad_agent_node_id: "{{ facts[inventory_hostname].nomad_agent_node_id }}"
        nomad_agent_node_secret: "{{ facts[inventory_hostname].nomad_agent_node_secret }}"
        nomad_agent_was_active: "{{ facts[inventory_hostname].nomad_agent_was_active }}"
      vars:
        facts: %s
    - ansible.builtin.set_fact:
        plan: "{{ lookup('ansible.builtin.template', '%s') | from_yaml }}"
      run_once: true
    - ansible.builtin.copy:
        content: "{{ plan | to_json }}"
        dest: "%s"
      run_once: true
      delegate_to: localhost
""" % (json.dumps(facts), TEMPLATE, tmp_path / 'plan.json'))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'))
    proc = subprocess.run([PLAYBOOK, '-i', str(tmp_path / 'inventory'), str(tmp_path / 'play.yml')],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads((tmp_path / 'plan.json').read_text())


def test_distinct_ids_need_nothing(tmp_path):
    assert plan(tmp_path, {'h1': (A, S1, True), 'h2': (B, S2, True), 'h3': ('', '', False)}) == \
        {'repair': [], 'restart': []}


def test_full_clone_keeps_the_first_and_restarts_it_when_running(tmp_path):
    got = plan(tmp_path, {'h1': (A, S1, True), 'h2': (A, S1, True), 'h3': (A, S1, False)})
    assert got == {'repair': ['h2', 'h3'], 'restart': ['h1']}


def test_full_clone_before_first_start_restarts_nothing(tmp_path):
    got = plan(tmp_path, {'h1': (A, S1, False), 'h2': (A, S1, False), 'h3': (B, S2, False)})
    assert got == {'repair': ['h2'], 'restart': []}


def test_id_only_clone_repairs_every_member(tmp_path):
    got = plan(tmp_path, {'h1': (A, S1, True), 'h2': (A, S2, True), 'h3': (B, S2, True)})
    assert got == {'repair': ['h1', 'h2'], 'restart': []}


def test_hosts_outside_nomad_clients_are_ignored(tmp_path):
    got = plan(tmp_path, {'h1': (A, S1, True), 'h2': (A, S1, True)}, clients=['h1'])
    assert got == {'repair': [], 'restart': []}


if not os.path.exists(PLAYBOOK):  # pragma: no cover
    pytest.skip('ansible-playbook is not beside this python', allow_module_level=True)
