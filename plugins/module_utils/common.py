# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Connection options shared by every module; the twin of the
``nomadops.nomad.connection`` doc fragment. Keep the two in step."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

from ansible_collections.nomadops.nomad.plugins.module_utils.api import (
    DEFAULT_ADDRESS,
    DEFAULT_TIMEOUT,
    NomadClient,
)
from ansible_collections.nomadops.nomad.plugins.module_utils.versions import has_open_source_namespaces

NOMAD_COMMON_ARGS = dict(
    address=dict(type='str', default=DEFAULT_ADDRESS, fallback=(env_fallback, ['NOMAD_ADDR'])),
    token=dict(type='str', no_log=True, fallback=(env_fallback, ['NOMAD_TOKEN'])),
    region=dict(type='str', fallback=(env_fallback, ['NOMAD_REGION'])),
    namespace=dict(type='str', fallback=(env_fallback, ['NOMAD_NAMESPACE'])),
    ca_cert=dict(type='path', fallback=(env_fallback, ['NOMAD_CACERT'])),
    client_cert=dict(type='path', fallback=(env_fallback, ['NOMAD_CLIENT_CERT'])),
    client_key=dict(type='path', no_log=False, fallback=(env_fallback, ['NOMAD_CLIENT_KEY'])),
    validate_certs=dict(type='bool', default=True),
    timeout=dict(type='int', default=DEFAULT_TIMEOUT),
)

CONNECTION_KEYS = tuple(NOMAD_COMMON_ARGS)


def nomad_argument_spec(**extra):
    """The shared connection options plus a module's own."""
    spec = dict((k, dict(v)) for k, v in NOMAD_COMMON_ARGS.items())
    spec.update(extra)
    return spec


def client_from_module(module, **overrides):
    """Build a NomadClient from a module's connection parameters.

    Raises NomadError (e.g. when requests is missing); the module turns that
    into its failure message.
    """
    kwargs = dict((k, module.params.get(k)) for k in CONNECTION_KEYS)
    kwargs.update(overrides)
    return NomadClient(**kwargs)


def agent_version(client):
    """The release of the agent a client talks to (``/v1/agent/self``)."""
    me, dummy = client.get('/v1/agent/self')
    version = ((me or {}).get('config') or {}).get('Version') or {}
    return version.get('Version') if isinstance(version, dict) else version


def namespace_problem(namespace, version):
    """Why ``namespace`` cannot be used with an agent of this release, or None.
    Open-source Nomad before 1.0 has only the default namespace and answers
    501 "Nomad Enterprise only endpoint" to the namespace API."""
    if namespace in (None, '', 'default') or has_open_source_namespaces(version):
        return None
    return ('Namespace %r needs Nomad 1.0 or newer: the agent runs Nomad %s, whose open-source edition has only '
            'the default namespace' % (namespace, version))
