#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_install
short_description: Install a verified Nomad release binary
version_added: 0.1.0
description:
  - Downloads a Nomad release zip from U(https://releases.hashicorp.com) or a mirror with the same layout
    (C(http://), C(https://) or an air-gapped C(file://) directory), verifies it, and installs the C(nomad)
    binary into O(install_dir).
  - "The files fetched are C({releases_url}/nomad/{version}/nomad_{version}_{os}_{arch}.zip),
    C(nomad_{version}_SHA256SUMS) next to it, and the signature C(nomad_{version}_SHA256SUMS.sig),
    or C(nomad_{version}_SHA256SUMS.72D7468F.sig), the name HashiCorp has used since its 2021 key rotation."
  - Verification happens in this order, and nothing is installed unless every step passes.
    First the signature of SHA256SUMS is checked against O(gpg_key) with C(gpgv) (or C(gpg) when C(gpgv) is absent).
    Then the zip's sha256 is compared with its line in SHA256SUMS and with O(checksum) when given.
  - Only then is C(nomad) taken out of the zip into a temporary file in O(install_dir), given O(owner),
    O(group) and O(mode), and renamed over C(<install_dir>/nomad), so the path always holds either the old
    or the new binary, never a partial one.
  - "Idempotence without a download: after an install the module writes a small record,
    C(<install_dir>/.nomad.install.json), holding the version and the sha256 of the binary it verified.
    When the binary on disk still has that sha256 and C(nomad version) reports the requested version,
    nothing is downloaded. Without a record (for example a binary installed by hand), the release is
    downloaded and verified once, and the binary is replaced only if its content differs."
  - Owner, group or mode drift alone is fixed in place, without a download.
  - On any failure the existing binary is left untouched and no temporary files remain.
author:
  - nomadops maintainers (@nomadops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  version:
    description:
      - The Nomad version to install, as on the release site (V(0.9.1)).
    type: str
    default: 0.9.1
  releases_url:
    description:
      - Base URL of the release site or mirror. The files are looked up under C(<releases_url>/nomad/<version>/).
      - A C(file:///path) URL reads a local directory in the same layout, for air-gapped hosts.
      - When not given, the environment variable E(NOMAD_RELEASES_URL) is used, then the default.
    type: str
    default: https://releases.hashicorp.com
  os:
    description:
      - Operating system part of the release file name. Detected when not given.
    type: str
    choices: [linux]
  arch:
    description:
      - Architecture part of the release file name. Detected from the machine type when not given
        (C(x86_64) is V(amd64), C(aarch64) is V(arm64), C(armv6l)/C(armv7l) are V(arm)).
    type: str
    choices: [amd64, arm64, arm]
  install_dir:
    description:
      - Directory to install C(nomad) into. It must exist; it is not created.
    type: path
    default: /usr/local/bin
  owner:
    description:
      - Owner of the installed binary (name or numeric ID).
    type: str
    default: root
  group:
    description:
      - Group of the installed binary (name or numeric ID).
    type: str
    default: root
  mode:
    description:
      - Permissions of the installed binary, as an octal string such as V('0755').
    type: raw
    default: '0755'
  checksum:
    description:
      - Pin the release zip to a known digest, written C(sha256:<64 hex digits>).
      - Checked in addition to SHA256SUMS, never instead of it.
    type: str
  verify_signature:
    description:
      - Check the signature of SHA256SUMS before trusting it.
      - When true and neither C(gpgv) nor C(gpg) is installed on the target, the module fails.
      - Setting it to false leaves only the checksums, which protect against corruption but not against a
        compromised mirror unless O(checksum) is set from a trusted source.
    type: bool
    default: true
  gpg_key:
    description:
      - The public key(s) trusted to sign SHA256SUMS, as ASCII-armored text (one or more
        C(BEGIN PGP PUBLIC KEY BLOCK) sections) or as the path of a file on the target holding them
        (armored or binary).
      - By default HashiCorp's current release signing key, bundled with the collection, is the only key
        trusted (C(C874 011F 0AB4 0511 0D02 1055 3436 5D94 72D7 468F)). It signs the
        C(.72D7468F.sig) HashiCorp publishes for every release, old ones included.
      - The pre-2021 key (C(91A6 E7F8 5D05 C656 30BE F189 5185 2D87 348F FC4C)), which made the plain
        C(.sig) of old releases, is not trusted by default; HashiCorp revoked it after its private key was
        exposed (advisory HCSEC-2021-12). A plain C(.sig) made with it fails, and the module falls back to
        C(.72D7468F.sig).
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of an C(https) mirror.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the mirror to connect or to send more data.
    type: int
    default: 30
  data_dir:
    description:
      - Also create Nomad's data directory here, owned by O(owner) and O(group) with mode V(0700),
        as it holds the node secret and the raft log. An existing directory gets that owner, group and mode.
      - Not created when not given.
    type: path
  systemd_unit:
    description:
      - Also install this text as the agent's systemd unit at O(systemd_unit_path) (V(0644), root),
        and reload systemd after it changed. Not written when not given.
      - Together with O(data_dir) this lays a host out as HashiCorp's own package does (binary, data
        directory, unit) in one task.
    type: str
  systemd_unit_path:
    description: Where O(systemd_unit) goes.
    type: path
    default: /etc/systemd/system/nomad.service
attributes:
  check_mode:
    support: full
    details:
      - In check mode the release is still downloaded and verified into a temporary directory (unless the
        record proves the installed binary current), so the result says whether the install would change and
        would succeed; nothing is written under O(install_dir).
  diff_mode:
    support: full
    details:
      - Shows the version, sha256, owner, group and mode before and after, and the unit's text.
  platform:
    support: full
    platforms: posix
requirements:
  - requests (for C(http) and C(https) mirrors)
  - gpgv or gpg (when O(verify_signature=true))
notes:
  - Runs on the target host; the target downloads the release itself. Use a C(file://) mirror copied to the
    host when it has no internet access.
seealso:
  - name: HashiCorp release signing keys
    description: The fingerprints HashiCorp publishes for its release keys.
    link: https://www.hashicorp.com/trust/security
'''

EXAMPLES = r'''
- name: Install Nomad 0.9.1 from releases.hashicorp.com
  nomadops.nomad.nomad_install:
    version: 0.9.1

- name: Install from an air-gapped mirror copied onto the host, pinned to a known zip
  nomadops.nomad.nomad_install:
    version: 0.9.1
    releases_url: file:///srv/mirror
    checksum: "sha256:{{ nomad_zip_sha256 }}"

- name: Install Nomad with its data directory and the systemd unit, as the package would
  nomadops.nomad.nomad_install:
    version: 0.9.1
    data_dir: /opt/nomad
    systemd_unit: "{{ lookup('ansible.builtin.template', 'nomad.service.j2') }}"

- name: Install from an internal mirror signed with our own key, into /opt/nomad/bin
  nomadops.nomad.nomad_install:
    releases_url: https://mirror.example.com/hashicorp
    gpg_key: /etc/pki/mirror-signing.asc
    install_dir: /opt/nomad/bin
    owner: nomad
    group: nomad
    mode: '0750'
'''

RETURN = r'''
version:
  description: The version installed (or that would be installed in check mode).
  returned: success
  type: str
  sample: 0.9.1
path:
  description: Path of the installed binary.
  returned: success
  type: str
  sample: /usr/local/bin/nomad
sha256:
  description: sha256 of the installed binary.
  returned: success
  type: str
  sample: 34b4e7dc4288a8d732081c9abc0abe88265409d8b3dee94bb4663f986090bc37
zip_sha256:
  description: sha256 of the release zip the binary came from, as verified against SHA256SUMS.
  returned: success
  type: str
  sample: 439a663c73e8ca653544374f6145963c471cdb1b1c76e5376efca79af753c0e7
url:
  description: URL of the release zip.
  returned: success
  type: str
  sample: https://releases.hashicorp.com/nomad/0.9.1/nomad_0.9.1_linux_amd64.zip
previous_version:
  description: Version C(nomad version) reported before the task, or null when there was no working binary.
  returned: success
  type: str
  sample: 0.9.0
signed_by:
  description:
    - Fingerprint of the primary key whose signature of SHA256SUMS was verified.
    - Null when O(verify_signature=false), and when nothing was downloaded, the fingerprint from the record.
  returned: success
  type: str
  sample: C874011F0AB405110D02105534365D9472D7468F
downloaded:
  description: Whether the release was downloaded during this run.
  returned: success
  type: bool
  sample: false
unit_changed:
  description: Whether the systemd unit was (or in check mode would be) written. False without O(systemd_unit).
  returned: success
  type: bool
  sample: false
'''

import errno
import grp
import hashlib
import json
import os
import pwd
import shutil
import tempfile
import traceback
import zipfile

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.nomadops.nomad.plugins.module_utils import release
from ansible_collections.nomadops.nomad.plugins.module_utils.hashicorp_keys import DEFAULT_GPG_KEY
from ansible_collections.nomadops.nomad.plugins.module_utils.install import (
    BINARY, DATA_DIR_MODE, DEFAULTS, RECORD, UNIT_GROUP, UNIT_MODE, UNIT_OWNER, InstallError, installed_version,
    read_record, record_vouches, resolve_owner, wanted)


class NomadInstaller(object):

    def __init__(self, module):
        self.module = module
        params = module.params
        self.version = params['version']
        self.want = wanted(params)
        self.os, self.arch = self.want['os'], self.want['arch']
        self.urls = release.release_urls(params['releases_url'], self.version, self.os, self.arch)
        self.install_dir = params['install_dir']
        self.path = os.path.join(self.install_dir, BINARY)
        self.record_path = os.path.join(self.install_dir, RECORD)
        self.mode = self.want['mode']
        self.pin = self.want['pin']
        self.timeout = params['timeout']
        self.validate_certs = params['validate_certs']
        self.tmpdir = None
        self.tmpfiles = []

    # -- what is there now

    def attrs(self, path):
        try:
            st = os.stat(path)
        except OSError:
            return None
        try:
            owner = pwd.getpwuid(st.st_uid).pw_name
        except KeyError:
            owner = str(st.st_uid)
        try:
            group = grp.getgrgid(st.st_gid).gr_name
        except KeyError:
            group = str(st.st_gid)
        return {'owner': owner, 'group': group, 'mode': '%04o' % (st.st_mode & 0o7777)}

    # -- fetching and verifying

    def fetch_bytes(self, url):
        return release.fetch_bytes(url, self.tmpdir, timeout=self.timeout, validate_certs=self.validate_certs)

    def gpg_keys(self):
        key = self.module.params['gpg_key']
        if not key:
            return release.dearmor(DEFAULT_GPG_KEY, source='the bundled HashiCorp key')
        if 'BEGIN PGP PUBLIC KEY BLOCK' in key:
            return release.dearmor(key, source='gpg_key')
        path = key
        try:
            with open(path, 'rb') as handle:
                return release.dearmor(handle.read(), source='gpg_key file %s' % path)
        except (IOError, OSError) as exc:
            raise InstallError('Failed to read gpg_key file %s: %s' % (path, exc.strerror or exc))

    def verify_sums_signature(self, sums_path):
        keys = self.gpg_keys()
        verifier = release.find_verifier(which=self.module.get_bin_path)
        missing, failures = [], []
        for url in self.urls.signatures:
            try:
                sig = self.fetch_bytes(url)
            except release.NotFoundError as exc:
                missing.append('%s (%s)' % (url, exc.reason))
                continue
            sig_path = os.path.join(self.tmpdir, 'SHA256SUMS.sig')
            with open(sig_path, 'wb') as handle:
                handle.write(sig)
            try:
                return release.verify_signature(sums_path, sig_path, keys, verifier,
                                                data_name=self.urls.sums, sig_name=url)
            except release.VerifierUnavailableError:
                raise
            except release.SignatureError as exc:
                failures.append(exc)
        if failures:
            # The first published signature that failed is the one to explain.
            message = str(failures[0])
            if len(failures) > 1 or missing:
                message += ' (also tried: %s)' % '; '.join([str(f) for f in failures[1:]] + missing)
            raise release.SignatureError(message, url=failures[0].url)
        raise release.SignatureError(
            'Signature of %s is missing: tried %s' % (self.urls.sums, ', '.join(missing)),
            url=self.urls.signatures[0])

    def fetch_release(self):
        """Download and verify; return (zip path, zip sha256, signer fingerprint)."""
        sums_path = os.path.join(self.tmpdir, 'SHA256SUMS')
        with open(sums_path, 'wb') as handle:
            handle.write(self.fetch_bytes(self.urls.sums))
        signed_by = None
        if self.module.params['verify_signature']:
            signed_by = self.verify_sums_signature(sums_path)
        with open(sums_path, 'rb') as handle:
            sums = release.parse_sha256sums(handle.read(), filename=self.urls.sums)
        if self.urls.zip_name not in sums:
            raise release.ChecksumError('%s has no line for %s (no %s/%s build of %s?)'
                                        % (self.urls.sums, self.urls.zip_name, self.os, self.arch, self.version),
                                        url=self.urls.sums)
        zip_path = os.path.join(self.tmpdir, self.urls.zip_name)
        size, zip_sha = release.fetch(self.urls.zip, zip_path, timeout=self.timeout,
                                      validate_certs=self.validate_certs)
        release.check_zip_checksum(zip_sha, self.urls, sums, self.pin)
        return zip_path, zip_sha, signed_by

    def open_entry(self, archive):
        try:
            info = archive.getinfo(BINARY)
        except KeyError:
            names = archive.namelist()
            raise release.ArchiveError('%s holds no %s entry (entries: %s)'
                                       % (self.urls.zip, BINARY, ', '.join(names[:10]) or 'none'),
                                       url=self.urls.zip)
        if info.is_dir():
            raise release.ArchiveError('%s: entry %s is a directory' % (self.urls.zip, BINARY), url=self.urls.zip)
        return archive.open(info)

    def copy_entry(self, zip_path, out=None):
        """Stream the nomad entry into ``out`` (or nowhere); return its sha256."""
        digest = hashlib.sha256()
        try:
            with zipfile.ZipFile(zip_path) as archive:
                with self.open_entry(archive) as entry:
                    for chunk in iter(lambda: entry.read(release.CHUNK), b''):
                        digest.update(chunk)
                        if out is not None:
                            out.write(chunk)
        except (zipfile.BadZipfile, zipfile.LargeZipFile, EOFError) as exc:
            raise release.ArchiveError('Failed to read %s: %s' % (self.urls.zip, exc), url=self.urls.zip)
        return digest.hexdigest()

    # -- writing

    def _temp_in_dir(self, prefix):
        fd, tmp = tempfile.mkstemp(dir=self.install_dir, prefix=prefix, suffix='.tmp')
        self.tmpfiles.append(tmp)
        return fd, tmp

    def place_binary(self, zip_path, uid, gid):
        fd, tmp = self._temp_in_dir('.nomad.')
        with os.fdopen(fd, 'wb') as out:
            sha = self.copy_entry(zip_path, out)
            out.flush()
            os.fchmod(out.fileno(), self.mode)
            os.fchown(out.fileno(), uid, gid)
            os.fsync(out.fileno())
        # rename() within one directory is atomic: readers see the old binary or the new one.
        os.rename(tmp, self.path)
        self.tmpfiles.remove(tmp)
        return sha

    def write_record(self, record, uid, gid):
        fd, tmp = self._temp_in_dir('.nomad.install.')
        with os.fdopen(fd, 'w') as out:
            json.dump(record, out, indent=2, sort_keys=True)
            out.write('\n')
            os.fchmod(out.fileno(), 0o644)
            os.fchown(out.fileno(), uid, gid)
        os.rename(tmp, self.record_path)
        self.tmpfiles.remove(tmp)

    def ensure_data_dir(self):
        """Create or fix the data directory; True when something changed."""
        path = self.module.params['data_dir']
        if not path:
            return False
        changed = not os.path.isdir(path)
        if changed and not self.module.check_mode:
            os.makedirs(path, DATA_DIR_MODE)
        if os.path.isdir(path):
            file_args = self.module.load_file_common_arguments(dict(
                path=path, owner=self.module.params['owner'], group=self.module.params['group'],
                mode='%04o' % DATA_DIR_MODE))
            changed = self.module.set_fs_attributes_if_different(file_args, changed)
        return changed

    def ensure_unit(self):
        """Write the systemd unit when its text differs; return (changed, text before)."""
        text, path = self.module.params['systemd_unit'], self.module.params['systemd_unit_path']
        if text is None:
            return False, None
        try:
            with open(path) as handle:
                before = handle.read()
        except (IOError, OSError) as exc:
            if exc.errno != errno.ENOENT:
                raise
            before = None
        if before == text:
            changed = False
        else:
            changed = True
            if not self.module.check_mode:
                fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.nomad.unit.')
                self.tmpfiles.append(tmp)
                with os.fdopen(fd, 'w') as out:
                    out.write(text)
                    os.fchmod(out.fileno(), 0o644)
                os.rename(tmp, path)
                self.tmpfiles.remove(tmp)
        if not self.module.check_mode:
            file_args = self.module.load_file_common_arguments(dict(path=path, owner=UNIT_OWNER, group=UNIT_GROUP,
                                                                    mode='%04o' % UNIT_MODE))
            changed = self.module.set_fs_attributes_if_different(file_args, changed)
        if changed and not self.module.check_mode:
            systemctl = self.module.get_bin_path('systemctl', required=True)
            self.module.run_command([systemctl, 'daemon-reload'], check_rc=True)
        return changed, before

    def cleanup(self):
        for tmp in self.tmpfiles:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        self.tmpfiles = []
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    # -- the task

    def present(self):
        module = self.module
        if not os.path.isdir(self.install_dir):
            raise InstallError('install_dir %s does not exist or is not a directory' % self.install_dir)
        if self.urls.scheme in ('http', 'https') and not release.HAS_REQUESTS:
            module.fail_json(msg=missing_required_lib('requests'), exception=release.REQUESTS_IMPORT_ERROR)
        uid, gid = resolve_owner(module.params['owner'], module.params['group'])
        data_dir = module.params['data_dir']
        if data_dir and os.path.lexists(data_dir) and not os.path.isdir(data_dir):
            raise InstallError('data_dir %s exists and is not a directory' % data_dir)
        unit_dir = os.path.dirname(module.params['systemd_unit_path'])
        if module.params['systemd_unit'] is not None and not os.path.isdir(unit_dir):
            raise InstallError('systemd_unit_path: directory %s does not exist (is systemd installed?)' % unit_dir)

        previous_version = installed_version(self.path)
        installed_sha = release.sha256_file(self.path) if os.path.isfile(self.path) else None
        before_attrs = self.attrs(self.path) if installed_sha else None
        record = read_record(self.record_path)

        result = dict(changed=False, version=self.version, path=self.path, url=self.urls.zip,
                      previous_version=previous_version, downloaded=False)

        if record_vouches(record, installed_sha, previous_version, self.want):
            new_sha, zip_sha, signed_by = installed_sha, record.get('zip_sha256'), record.get('signed_by')
            replace = False
        else:
            self.tmpdir = tempfile.mkdtemp(prefix='nomad-install.')
            zip_path, zip_sha, signed_by = self.fetch_release()
            result['downloaded'] = True
            new_sha = self.copy_entry(zip_path)
            replace = new_sha != installed_sha
            if not module.check_mode:
                if replace:
                    self.place_binary(zip_path, uid, gid)
                self.write_record(dict(version=self.version, os=self.os, arch=self.arch, sha256=new_sha,
                                       zip_sha256=zip_sha, url=self.urls.zip, signed_by=signed_by), uid, gid)

        changed = replace
        if not replace and installed_sha:
            # Content is right; owner/group/mode drift is fixed in place (check mode aware).
            file_args = module.load_file_common_arguments(dict(path=self.path, owner=module.params['owner'],
                                                               group=module.params['group'],
                                                               mode='%04o' % self.mode))
            changed = module.set_fs_attributes_if_different(file_args, changed)

        changed = self.ensure_data_dir() or changed
        unit_changed, unit_before = self.ensure_unit()
        result.update(changed=changed or unit_changed, unit_changed=unit_changed, sha256=new_sha,
                      zip_sha256=zip_sha, signed_by=signed_by)
        if module._diff:
            after_attrs = {'owner': module.params['owner'], 'group': module.params['group'],
                           'mode': '%04o' % self.mode}
            before = dict(version=previous_version, sha256=installed_sha)
            before.update(before_attrs or {})
            after = dict(version=self.version, sha256=new_sha)
            after.update(after_attrs)
            result['diff'] = dict(before=before, after=after, before_header=self.path, after_header=self.path)
            if unit_changed:
                unit_path = module.params['systemd_unit_path']
                result['diff'] = [result['diff'], dict(before=unit_before or '', after=module.params['systemd_unit'],
                                                       before_header=unit_path, after_header=unit_path)]
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            version=dict(type='str', default=DEFAULTS['version']),
            releases_url=dict(type='str', default=release.DEFAULT_RELEASES_URL,
                              fallback=(env_fallback, ['NOMAD_RELEASES_URL'])),
            os=dict(type='str', choices=list(release.SUPPORTED_OSES)),
            arch=dict(type='str', choices=list(release.SUPPORTED_ARCHES)),
            install_dir=dict(type='path', default=DEFAULTS['install_dir']),
            owner=dict(type='str', default=DEFAULTS['owner']),
            group=dict(type='str', default=DEFAULTS['group']),
            mode=dict(type='raw', default=DEFAULTS['mode']),
            checksum=dict(type='str'),
            verify_signature=dict(type='bool', default=True),
            gpg_key=dict(type='str', no_log=False),
            validate_certs=dict(type='bool', default=True),
            timeout=dict(type='int', default=30),
            data_dir=dict(type='path'),
            systemd_unit=dict(type='str'),
            systemd_unit_path=dict(type='path', default=DEFAULTS['systemd_unit_path']),
        ),
        supports_check_mode=True,
    )
    version = module.params['version']
    installer = None
    try:
        installer = NomadInstaller(module)
        result = installer.present()
    except release.ReleaseError as exc:
        module.fail_json(msg='Failed to install Nomad %s: %s' % (version, exc), url=exc.url)
    except InstallError as exc:
        module.fail_json(msg='Failed to install Nomad %s: %s' % (version, exc))
    except (IOError, OSError) as exc:
        target = exc.filename or (installer.path if installer else module.params['install_dir'])
        module.fail_json(msg='Failed to install Nomad %s into %s: %s' % (version, target, exc.strerror or exc),
                         exception=traceback.format_exc())
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='Unexpected error installing Nomad %s: %s' % (version, to_native(exc)),
                         exception=traceback.format_exc())
    finally:
        if installer is not None:
            installer.cleanup()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
