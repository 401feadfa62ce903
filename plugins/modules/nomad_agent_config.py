#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_agent_config
short_description: Render, validate and write Nomad agent configuration files
version_added: 0.1.0
description:
  - Renders O(settings) as HCL1, parses the rendered text back and checks that it decodes to the
    same settings, checks every key against the agent configuration schema of O(nomad_version), and only
    then writes the file.
  - With O(dir) and O(files) instead, does the same for all of a host's files in one call. Every file is
    rendered and checked before the first one is written, so one bad setting leaves all of them as they were.
    The directory as a whole, these files merged with the others in it as Nomad merges them, then gets the
    checks C(nomad agent) makes before it starts (server or client enabled, absolute C(data_dir), a data
    directory where one is needed, a well-formed gossip key), so an agent is never restarted into a
    configuration it refuses.
    Files named in O(absent) are removed, for example C(server.hcl) on a host that is no longer a server.
  - The file is replaced atomically and only when its content, mode, owner or group differ, so a
    handler that restarts the agent fires only on a real change.
  - When rendering or validation fails the existing file is left untouched, so a running agent is
    never restarted with a configuration it would refuse (Nomad 0.9.1 has no C(nomad config validate)).
  - From Nomad 1.3.0 on (see O(nomad_version)), the installed release is the judge instead of a schema kept
    here. The directory as it will be (the files already in it, the new ones in their place, those of
    O(absent) gone) is staged in a private temporary directory (mode V(0700), since the files hold secrets)
    and O(binary) runs C(nomad config validate) on it; when Nomad refuses it, the module fails with Nomad's own
    words, the staged paths replaced by the real ones, and writes and removes nothing. This runs in check mode
    too, since it changes nothing. With O(path), the staged directory is the file's directory.
  - A setting that Nomad's upgrade guides say was removed by O(nomad_version) or an earlier release (for
    example C(tls.tls_prefer_server_cipher_suites) from 1.9.0, C(vault.token) from 1.10.0) is refused by name,
    with the file, its line, the release that removed it and what to use instead.
  - Runs on the managed host with the Python standard library only.
author:
  - nomadops maintainers (@nomadops)
options:
  path:
    description:
      - The configuration file to write, for example C(/etc/nomad.d/server.hcl).
      - Its directory is created (mode C(0755)) when missing, as O(dir) is.
      - Give either O(path) and O(settings), or O(dir) and O(files).
    type: path
  dir:
    description:
      - The configuration directory, for example C(/etc/nomad.d), for O(files) and O(absent).
      - Created (mode V(0755), O(owner), O(group)) when missing.
    type: path
  files:
    description:
      - File names in O(dir), each with its settings as described for O(settings).
      - Every file gets the same O(header), O(owner), O(group) and O(mode).
    type: dict
  absent:
    description:
      - File names in O(dir) that must not exist. A name also in O(files) is an error.
    type: list
    elements: str
    default: []
  settings:
    description:
      - The configuration as Nomad's HCL decoder would see it.
      - A dict value becomes a block (C(server = {enabled = true}) renders as C(server { enabled = true })),
        a list of dicts becomes repeated blocks, and a C(plugin) entry becomes labelled blocks
        (C(plugin = {raw_exec = {config = {enabled = true}}}) renders as C(plugin "raw_exec" { ... })).
      - Keys whose value is V(null) are left out.
    type: dict
  header:
    description:
      - Text written as C(#) comment lines at the top of the file, for example the value of C(ansible_managed).
      - It takes part in the comparison, so it must not change from run to run.
    type: str
  validate:
    description:
      - Parse the rendered text back and check every key against the schema of O(nomad_version) before writing,
        or have O(binary) judge the directory from 1.3.0 on.
      - Turn it off only for settings that this collection gets wrong; a release whose schema it does not know
        is already spared the key check (see O(nomad_version)). Off, no check runs, not even the binary's.
    type: bool
    default: true
  nomad_version:
    description:
      - The Nomad release that will read the files. It picks who judges the keys, and the wording of the errors.
      - 0.9.0 and 0.9.1 get Nomad 0.9.1's schema, with the docker plugin's C(config) block checked against the
        0.9.1 driver's spec too. 1.0.x and 1.1.x get Nomad 1.1's schema (which only adds keys to 1.0's).
      - 1.3.0 and later are judged by the installed O(binary) (C(nomad config validate)), which knows its own
        keys and runs the agent's start-up checks. When O(binary) is missing (a first install in check mode),
        or is another release than this one (check mode before an upgrade), that check is skipped with a warning.
      - For any other release no key is refused for being unknown, since it may be newer than what this
        collection knows; the rendering is still parsed back and compared, so the files stay well-formed.
      - Settings that a release removed are refused for every release from that one on.
    type: str
    default: 0.9.1
  binary:
    description:
      - The Nomad binary that judges the directory when O(nomad_version) is 1.3.0 or later.
      - The roles pass C({{ nomad_bin_dir }}/nomad).
    type: path
    default: /usr/local/bin/nomad
  owner:
    description: Name of the user that should own the file.
    type: str
  group:
    description: Name of the group that should own the file.
    type: str
  mode:
    description:
      - Permissions of the file, as for M(ansible.builtin.file).
      - A new file gets V(0600) when this is not given; an existing file keeps its mode.
    type: raw
notes:
  - Agent configuration files can hold secrets (gossip C(encrypt) keys, Vault and Consul tokens);
    the default mode of a new file is therefore V(0600), and the content is never returned, only shown
    in diff mode.
attributes:
  check_mode:
    support: full
    description: Reports whether the file would change; nothing is written.
  diff_mode:
    support: full
    description: Shows the text before and after of each file that changes, and of each file removed.
  platform:
    support: full
    platforms: posix
    description: Runs on the managed host, with the Python standard library only.
seealso:
  - name: Nomad agent configuration
    description: The keys Nomad 0.9 accepts.
    link: https://www.nomadproject.io/docs/configuration/index.html
  - name: nomad config validate
    description: The command that judges the configuration from Nomad 1.3.0 on.
    link: https://developer.hashicorp.com/nomad/docs/commands/config/validate
  - name: Nomad upgrade guides
    description: The settings each release removed.
    link: https://developer.hashicorp.com/nomad/docs/upgrade/upgrade-specific
'''

EXAMPLES = r'''
- name: Write the server configuration
  nomadops.nomad.nomad_agent_config:
    path: /etc/nomad.d/server.hcl
    header: "{{ ansible_managed }}"
    owner: root
    group: root
    mode: "0640"
    settings:
      server:
        enabled: true
        bootstrap_expect: 3
        server_join:
          retry_join: ["10.0.0.1:4648", "10.0.0.2:4648", "10.0.0.3:4648"]
  notify: Restart nomad

- name: Write all of a server's and client's files in one call; drop a stale one
  nomadops.nomad.nomad_agent_config:
    dir: /etc/nomad.d
    header: "{{ ansible_managed }}"
    mode: "0640"
    files:
      nomad.hcl: {datacenter: home, data_dir: /opt/nomad}
      server.hcl: {server: {enabled: true, bootstrap_expect: 3}}
      client.hcl: {client: {enabled: true}}
    absent: [security.hcl]

- name: Write a Nomad 1.6 host's files; the installed binary judges them before anything is written
  nomadops.nomad.nomad_agent_config:
    dir: /etc/nomad.d
    nomad_version: 1.6.5
    binary: /usr/local/bin/nomad
    files:
      nomad.hcl: {datacenter: home, data_dir: /opt/nomad}
      client.hcl: {client: {enabled: true, node_pool: batch}}

- name: Enable the raw_exec driver
  nomadops.nomad.nomad_agent_config:
    path: /etc/nomad.d/plugins.hcl
    settings:
      plugin:
        raw_exec:
          config:
            enabled: true
'''

RETURN = r'''
path:
  description: The file that was checked or written.
  returned: with O(path)
  type: str
  sample: /etc/nomad.d/server.hcl
checksum:
  description: SHA-1 of the rendered text.
  returned: with O(path)
  type: str
  sample: 6bf1d8d1b06b41b1bd0ab94ab1c31b0cbb2c7f2a
content_changed:
  description: Whether the text differs from the file's current text (mode and owner aside).
  returned: with O(path)
  type: bool
  sample: true
changed_files:
  description: The names among O(files) whose text, mode, owner or group changed, and those of O(absent) removed.
  returned: with O(dir)
  type: list
  elements: str
  sample: [server.hcl]
validated_by:
  description:
    - Who judged the keys. V(schema) (the collection's schema of O(nomad_version)), V(binary) (C(nomad config
      validate) of O(binary)), V(syntax) (only the rendering was parsed back), or V(none) (O(validate) off).
    - V(syntax) also when the binary check was skipped; a warning then says why.
  returned: always
  type: str
  sample: binary
'''

import errno
import hashlib
import os
import re
import shutil
import tempfile
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text

from ansible_collections.nomadops.nomad.plugins.module_utils.hcl import HCLError, dumps, loads, normalize
from ansible_collections.nomadops.nomad.plugins.module_utils.agent_config import (
    AgentConfigError,
    check_merged,
    check_plugin_configs,
    config_files,
    line_of,
    merge,
    parse_text,
    validate,
)
from ansible_collections.nomadops.nomad.plugins.module_utils.versions import (
    agent_schema,
    parse_version,
    removed_setting_message,
    removed_settings,
    validated_by_binary,
    version_from_cli,
)


class ConfigFileError(Exception):
    """Why a configuration file could not be rendered or written."""


class AgentConfigFile:
    """One agent configuration file: what it holds and what it should hold."""

    def __init__(self, path, settings, header=None, check_validity=True, schema='0.9.1', nomad_version=None):
        self.path = path
        self.settings = settings
        self.header = header
        self.check_validity = check_validity
        self.schema = schema
        self.nomad_version = nomad_version

    def render(self):
        """The file's wanted text. Raises ConfigFileError naming the file."""
        try:
            text = dumps(self.settings, header=self.header)
        except (TypeError, ValueError) as exc:
            raise ConfigFileError('Failed to render %s: %s' % (self.path, to_native(exc)))
        if self.check_validity:
            self._check(text)
        return text

    def _check(self, text):
        try:
            decoded = loads(text, self.path)
        except HCLError as exc:
            # The renderer produced something the parser refuses: a bug, but
            # one that must never reach a running agent.
            raise ConfigFileError('Failed to parse the rendered %s back: %s' % (self.path, to_native(exc)))
        if decoded != normalize(self.settings):
            raise ConfigFileError(
                'Failed to render %s faithfully: the rendered text decodes to %r, not to the given settings %r'
                % (self.path, decoded, normalize(self.settings)))
        if self.nomad_version:
            self._check_removed(decoded, text)
        try:
            validate(decoded, self.path, text, schema=self.schema)
            if self.schema == '0.9.1':
                check_plugin_configs(decoded, self.path, text)
        except AgentConfigError as exc:
            raise ConfigFileError('Invalid Nomad agent configuration for %s: %s' % (self.path, to_native(exc)))

    def _check_removed(self, decoded, text):
        # Ahead of the schema and the binary: their "unexpected keys" would not
        # say that the key was fine before the upgrade, nor what replaces it.
        removed = removed_settings(decoded, self.nomad_version)
        if removed:
            key, release, instead = removed[0]
            parts = key.split('.')
            line = line_of(text, parts[-1], parts[-2] if len(parts) > 1 else None)
            where = self.path + (' line %d' % line if line else '')
            raise ConfigFileError('Invalid Nomad agent configuration for %s: %s' % (
                self.path, removed_setting_message(key, release, instead, self.nomad_version, where)))

    def current(self):
        """The file's text now, or None when it does not exist."""
        try:
            with open(self.path, 'rb') as handle:
                return to_text(handle.read(), errors='surrogate_or_strict')
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise ConfigFileError('Failed to read %s: %s' % (self.path, to_native(exc)))

    def write(self, text):
        """Replace the file atomically: readers see the old or the new text, never a mix."""
        directory = os.path.dirname(self.path) or '.'
        if not os.path.isdir(directory):
            # A host's first run may write a secret file (gossip.hcl) before the other files.
            try:
                os.makedirs(directory, 0o755)
            except OSError as exc:
                raise ConfigFileError('Failed to write %s: cannot create %s: %s'
                                      % (self.path, directory, to_native(exc)))
        try:
            # mkstemp creates the file 0600, so a secret is never world-readable, not even briefly.
            fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(self.path), dir=directory)
        except OSError as exc:
            raise ConfigFileError('Failed to write %s: %s' % (self.path, to_native(exc)))
        try:
            with os.fdopen(fd, 'wb') as handle:
                handle.write(to_bytes(text, errors='surrogate_or_strict'))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                st = os.stat(self.path)
            except OSError:
                st = None
            if st is not None:
                # Keep what the existing file had; set_fs_attributes_if_different applies requested changes after.
                os.chmod(tmp, st.st_mode & 0o7777)
                os.chown(tmp, st.st_uid, st.st_gid)
            os.rename(tmp, self.path)
        except (IOError, OSError) as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise ConfigFileError('Failed to write %s: %s' % (self.path, to_native(exc)))


def judge_with_binary(module, conf_dir, rendered, absent):
    """Have the installed release run `nomad config validate` on the directory
    as it will be. True when it accepted it, False when it could not judge
    (a warning says why); raises ConfigFileError with Nomad's words otherwise."""
    binary, version = module.params['binary'], module.params['nomad_version']
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        module.warn('%s is not there yet, so Nomad %s did not validate %s; its keys were only parsed back'
                    % (binary, version, conf_dir))
        return False
    rc, out, err = module.run_command([binary, 'version'])
    found = version_from_cli(out) if rc == 0 else None
    if not found or parse_version(found) != parse_version(version):
        # Another release would judge by its own keys: in check mode before an
        # upgrade, the old binary would refuse what only the new one knows.
        module.warn('%s is %s, not Nomad %s, so it did not validate %s; its keys were only parsed back'
                    % (binary, ('Nomad v' + found) if found else 'not a Nomad binary it can ask', version, conf_dir))
        return False
    texts = dict(rendered)
    # mkdtemp makes the directory 0700: the staged files hold the same secrets as the real ones.
    staging = tempfile.mkdtemp(prefix='nomad-config-validate.')
    try:
        for path in config_files(conf_dir) if os.path.isdir(conf_dir) else []:
            name = os.path.basename(path)
            if name not in rendered and name not in absent:
                texts[name] = AgentConfigFile(path, None).current()
        for name, text in texts.items():
            with open(os.path.join(staging, name), 'wb') as handle:
                handle.write(to_bytes(text, errors='surrogate_or_strict'))
        rc, out, err = module.run_command([binary, 'config', 'validate', staging])
    except (IOError, OSError) as exc:
        raise ConfigFileError('Failed to stage %s for nomad config validate: %s' % (conf_dir, to_native(exc)))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if rc != 0:
        raise ConfigFileError('Nomad %s refuses %s as it would be (%s config validate): %s' % (
            version, conf_dir, binary, nomad_words(err, out, staging, conf_dir.rstrip('/') or '/', texts)))
    return True


_UNEXPECTED = re.compile(r'Error loading (\S+): (?:(\S+) )?unexpected keys (.+)$')


def nomad_words(err, out, staging, conf_dir, texts):
    """What `nomad config validate` said, about the real directory.

    Its warnings go (the mTLS one comes with every agent without mutual TLS;
    none of them is why it refused), and its "unexpected keys" get the line
    Nomad does not give."""
    lines = [line.strip() for line in (err + '\n' + out).splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith('WARNING:')] or lines
    words = []
    for line in lines:
        found = _UNEXPECTED.search(line)
        if found:
            text = texts.get(os.path.basename(found.group(1)))
            # Nomad names the innermost block first (helper.UnusedKeys prepends).
            block = (found.group(2) or '').split('.')[0] or None
            places = [line_of(text, key.strip(), block) for key in found.group(3).split(',')]
            places = [str(place) for place in places if place]
            if places:
                line += ' (line %s)' % ', '.join(places)
        words.append(line.replace(staging, conf_dir))
    return '\n'.join(words)


def validated_by(module, judged):
    params = module.params
    if not params['validate']:
        return 'none'
    if params['schema'] is not None:
        return 'schema'
    return 'binary' if judged else 'syntax'


def apply(module, config, wanted, before, file_args, result):
    changed = before != wanted
    if changed and not module.check_mode:
        try:
            config.write(wanted)
        except ConfigFileError as exc:
            module.fail_json(msg=to_native(exc), **result)
    if before is not None or not module.check_mode:
        file_args = dict(file_args, path=config.path)
        if before is None and file_args.get('mode') is None:
            file_args['mode'] = '0600'
        try:
            changed = module.set_fs_attributes_if_different(file_args, changed)
        except Exception as exc:  # set_fs_attributes_if_different raises plain errors for unknown users
            module.fail_json(msg='Failed to set owner, group or mode of %s: %s' % (config.path, to_native(exc)),
                             exception=traceback.format_exc(), **result)
    return changed


def text_diff(path, before, after):
    return dict(before_header=path, after_header=path, before=before or '', after=after or '')


def one_file(module, file_args):
    params = module.params
    path = params['path']
    config = AgentConfigFile(path, params['settings'], header=params['header'], check_validity=params['validate'],
                             schema=params['schema'], nomad_version=params['nomad_version'])
    result = dict(changed=False, path=path)
    judged = False
    try:
        wanted = config.render()
        before = config.current()
        if params['validate'] and validated_by_binary(params['nomad_version']):
            judged = judge_with_binary(module, os.path.dirname(path) or '.', {os.path.basename(path): wanted}, [])
    except ConfigFileError as exc:
        module.fail_json(msg=to_native(exc), **result)
    result['validated_by'] = validated_by(module, judged)
    result['checksum'] = hashlib.sha1(to_bytes(wanted, errors='surrogate_or_strict')).hexdigest()
    result['content_changed'] = before != wanted
    if module._diff:
        result['diff'] = text_diff(path, before, wanted)
    result['changed'] = apply(module, config, wanted, before, file_args, result)
    return result


def check_directory(conf_dir, rendered, absent, schema):
    """Nomad's start-up checks on the whole directory as it will be: the
    rendered files with the other files already there, merged in Nomad's order."""
    texts = {}
    for path in config_files(conf_dir) if os.path.isdir(conf_dir) else []:
        name = os.path.basename(path)
        if name not in rendered and name not in absent:
            texts[name] = AgentConfigFile(path, None).current()
    texts.update(rendered)
    merged = {}
    try:
        for name in sorted(texts):
            path = os.path.join(conf_dir, name)
            merged = merge(merged, parse_text(texts[name], path, loads, schema=schema))
        check_merged(merged)
    except AgentConfigError as exc:
        raise ConfigFileError('Nomad would refuse to start with %s as it would be: %s%s' % (
            conf_dir, exc.message, ' (%s)' % exc.key if exc.key else ''))


def directory(module, file_args):
    """All of a directory's managed files: render and check every one, then write, then remove."""
    params = module.params
    conf_dir = params['dir']
    both = sorted(set(params['files']) & set(params['absent']))
    if both:
        module.fail_json(msg='%s: %s named both in files and in absent' % (conf_dir, ', '.join(both)))
    for name in list(params['files']) + params['absent']:
        if not name or os.path.basename(name) != name or name in ('.', '..'):
            module.fail_json(msg="%s: invalid file name '%s' in files or absent: give a plain file name"
                             % (conf_dir, name))
    result = dict(changed=False, changed_files=[])
    configs, planned = [], []
    try:
        for name in sorted(params['files']):
            settings = params['files'][name]
            if not isinstance(settings, dict):
                raise ConfigFileError('Invalid settings for %s: expected a dict, got %s'
                                      % (os.path.join(conf_dir, name), type(settings).__name__))
            config = AgentConfigFile(os.path.join(conf_dir, name), settings, header=params['header'],
                                     check_validity=params['validate'],
                                     schema=params['schema'], nomad_version=params['nomad_version'])
            configs.append(config)
            planned.append((config.render(), config.current()))
        rendered = dict((os.path.basename(c.path), text) for c, (text, dummy) in zip(configs, planned))
        judged = False
        if params['validate'] and params['schema'] is not None:
            check_directory(conf_dir, rendered, params['absent'], params['schema'])
        elif params['validate'] and validated_by_binary(params['nomad_version']):
            judged = judge_with_binary(module, conf_dir, rendered, params['absent'])
    except ConfigFileError as exc:
        module.fail_json(msg=to_native(exc), **result)
    result['validated_by'] = validated_by(module, judged)

    diffs = []
    if not os.path.isdir(conf_dir):
        result['changed'] = True
        if not module.check_mode:
            try:
                os.makedirs(conf_dir, 0o755)
            except OSError as exc:
                module.fail_json(msg='Failed to create %s: %s' % (conf_dir, to_native(exc)), **result)
    if os.path.isdir(conf_dir):
        dir_args = dict(file_args, path=conf_dir, mode='0755')
        result['changed'] = module.set_fs_attributes_if_different(dir_args, result['changed'])

    for config, (wanted, before) in zip(configs, planned):
        if apply(module, config, wanted, before, file_args, result):
            result['changed_files'].append(os.path.basename(config.path))
            if before != wanted:
                diffs.append(text_diff(config.path, before, wanted))

    for name in params['absent']:
        config = AgentConfigFile(os.path.join(conf_dir, name), None)
        try:
            before = config.current()
        except ConfigFileError as exc:
            module.fail_json(msg=to_native(exc), **result)
        if before is None:
            continue
        result['changed_files'].append(name)
        diffs.append(text_diff(config.path, before, None))
        if not module.check_mode:
            try:
                os.unlink(config.path)
            except OSError as exc:
                module.fail_json(msg='Failed to remove %s: %s' % (config.path, to_native(exc)), **result)

    result['changed'] = result['changed'] or bool(result['changed_files'])
    if module._diff:
        result['diff'] = diffs
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path'),
            settings=dict(type='dict'),
            dir=dict(type='path'),
            files=dict(type='dict'),
            absent=dict(type='list', elements='str', default=[]),
            header=dict(type='str'),
            validate=dict(type='bool', default=True),
            nomad_version=dict(type='str', default='0.9.1'),
            binary=dict(type='path', default='/usr/local/bin/nomad'),
            owner=dict(type='str'),
            group=dict(type='str'),
            mode=dict(type='raw'),
        ),
        required_one_of=[('path', 'dir')],
        mutually_exclusive=[('path', 'dir'), ('settings', 'files')],
        required_together=[('path', 'settings')],
        required_by=dict(files='dir'),
        supports_check_mode=True,
    )
    try:
        module.params['schema'] = agent_schema(module.params['nomad_version'])
    except ValueError as exc:
        module.fail_json(msg='nomad_version: %s' % to_native(exc))
    file_args = dict((k, module.params[k]) for k in ('owner', 'group', 'mode'))
    file_args = module.load_file_common_arguments(dict(file_args, path=module.params['path'] or module.params['dir']))
    if module.params['path']:
        result = one_file(module, file_args)
    else:
        if module.params['files'] is None:
            module.params['files'] = {}
        result = directory(module, file_args)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
