# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The README and docs/ as a user reads them: the two set-up commands are
there and CI runs the README's test command, the YAML a user copies parses,
every name nomadops.nomad.* it mentions exists, and every relative link
reaches a file (and a heading, when it names one)."""

import glob
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = [os.path.join(ROOT, 'README.md')] + sorted(glob.glob(os.path.join(ROOT, 'docs', '*.md')))


def read(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def code_blocks(text, language):
    return re.findall(r'^```%s\n(.*?)^```' % language, text, re.M | re.S)


def quick_start_commands():
    """The `make ...` lines of the README's quick start, by their comments."""
    section = read(os.path.join(ROOT, 'README.md')).split('\n## Quick start', 1)[1].split('\n## ', 1)[0]
    commands = {}
    for block in code_blocks(section, 'sh'):
        for line in block.splitlines():
            command, dummy, comment = line.partition('#')
            commands[command.strip()] = comment.strip()
    return commands


def test_the_quick_start_keeps_its_two_commands():
    commands = quick_start_commands()
    assert sorted(commands) == ['make cluster', 'make test']
    assert 'job' in commands['make cluster']
    assert 'every test CI runs' in commands['make test']


def test_ci_runs_the_readmes_test_command():
    ci = [line.strip() for line in read(os.path.join(ROOT, '.ci', 'run')).splitlines()
          if line.strip() and not line.lstrip().startswith('#')]
    assert ci[-1] == 'make test'
    assert 'make test' in quick_start_commands()


def test_the_first_screen_says_how_to_install():
    first_screen = read(os.path.join(ROOT, 'README.md')).split('\n## The post', 1)[0]
    for needle in ('ansible-galaxy collection build',
                   'ansible-galaxy collection install nomadops-nomad-*.tar.gz',
                   'requirements.yml', 'import_playbook: nomadops.nomad.cluster'):
        assert needle in first_screen


@pytest.mark.parametrize('path', DOCS, ids=lambda p: os.path.relpath(p, ROOT))
def test_yaml_a_user_copies_parses(path):
    for block in code_blocks(read(path), 'yaml'):
        yaml.safe_load(block)


def collection_names():
    names = set()
    for kind, pattern in (('module', 'plugins/modules/*.py'), ('filter', 'plugins/filter/*.py'),
                          ('role', 'roles/*'), ('playbook', 'playbooks/*.yml')):
        for entry in glob.glob(os.path.join(ROOT, pattern)):
            names.add(os.path.splitext(os.path.basename(entry))[0])
    for entry in glob.glob(os.path.join(ROOT, 'plugins', 'filter', '*.py')):
        # a filter file serves the names its FilterModule returns
        names.update(re.findall(r"'([a-z_0-9]+)': ", read(entry)))
    names.add('nomad')        # the action group and the doc fragment's namespace
    names.add('connection')
    return names


@pytest.mark.parametrize('path', DOCS, ids=lambda p: os.path.relpath(p, ROOT))
def test_every_fqcn_named_exists(path):
    known = collection_names()
    named = set(re.findall(r'(?<!ansible_collections\.)nomadops\.nomad\.([a-z_0-9]+)', read(path)))
    assert named - known == set()


def anchors(text):
    """GitHub's anchors: lower case, punctuation dropped, spaces to dashes."""
    return {re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')
            for heading in re.findall(r'^#+ (.*)$', text, re.M)}


@pytest.mark.parametrize('path', DOCS, ids=lambda p: os.path.relpath(p, ROOT))
def test_every_relative_link_reaches_its_target(path):
    text = read(path)
    broken = []
    for target in re.findall(r'\]\(([^)\s]+)\)', text):
        if re.match(r'[a-z]+:', target):
            continue
        file_part, dummy, anchor = target.partition('#')
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.exists(dest):
            broken.append(target)
        elif anchor and dest.endswith('.md') and anchor not in anchors(read(dest)):
            broken.append(target)
    assert broken == []
