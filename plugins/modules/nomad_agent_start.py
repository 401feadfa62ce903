#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nomadops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: nomad_agent_start
short_description: Enable and start a Nomad agent's systemd unit, at a moment shared by several hosts
version_added: 0.5.0
description:
  - Enables (or disables) the systemd unit of a Nomad agent and starts it if it is not running, in one call.
  - With O(at), the module waits on the host until that moment before it starts the unit. Given the same
    moment, agents on several hosts start within milliseconds of one another, however far apart in time
    the hosts were reached.
  - "Why: a Nomad 0.9 agent that is both server and client registers its client about a tenth of a second
    after it starts, with a server picked at random from C(client.hcl). A server that is not listening yet
    refuses the connection, and the client does not try again for 15 to 30 seconds (Nomad's
    C(registerRetryIntv)). Hosts reached one after another start up to seconds apart; over a connection that
    serves one host at a time, such as podman's, a module call costs about a second per host."
  - A moment already past starts the unit at once. A running unit is not restarted.
author:
  - nomadops maintainers (@nomadops)
options:
  name:
    description: Name of the systemd unit, without C(.service).
    type: str
    default: nomad
  enabled:
    description: Whether the unit starts at boot.
    type: bool
    default: true
  at:
    description:
      - Moment to start the unit at, in seconds since the epoch (the controller's C(now().timestamp())).
      - Unset starts at once.
    type: float
  max_wait:
    description:
      - The longest the module waits for O(at), in seconds. A moment further ahead fails before anything
        changes, since it means clocks that disagree or a mistake.
    type: float
    default: 30
attributes:
  check_mode:
    support: full
    description: Reports what would change; nothing is enabled or started, and nothing waits.
  diff_mode:
    support: full
    description: Shows the unit's C(active) and C(enabled) before and after.
seealso:
  - module: ansible.builtin.systemd_service
'''

EXAMPLES = r'''
- name: Start the servers of a new cluster at one moment, two seconds from now
  nomadops.nomad.nomad_agent_start:
    name: nomad
    at: "{{ start_at }}"
  vars:
    # Set once for the play (run_once), so that every host gets the same moment.
    start_at: "{{ now(utc=true).timestamp() + 2 }}"

- name: Enable and start the agent now
  nomadops.nomad.nomad_agent_start:
'''

RETURN = r'''
active:
  description: Whether the unit runs after the call (in check mode, whether it would).
  returned: success
  type: bool
  sample: true
enabled:
  description: Whether the unit is enabled after the call (in check mode, whether it would be).
  returned: success
  type: bool
  sample: true
started:
  description: Whether this call started the unit (in check mode, whether it would have).
  returned: success
  type: bool
  sample: true
waited:
  description: Seconds the module waited for O(at) before starting the unit.
  returned: success
  type: float
  sample: 1.42
late:
  description:
    - Seconds after O(at) at which the unit was started; a host reached after the moment starts late.
    - Null when O(at) is unset or nothing was started.
  returned: success
  type: float
  sample: 0.003
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomadops.nomad.plugins.module_utils.systemd import service_state


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', default='nomad'),
            enabled=dict(type='bool', default=True),
            at=dict(type='float'),
            max_wait=dict(type='float', default=30.0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    unit = p['name'] + '.service'

    ahead = p['at'] - time.time() if p['at'] is not None else 0.0
    if ahead > p['max_wait']:
        module.fail_json(msg='at is %.1f s ahead of this host\'s clock, more than max_wait (%.1f s): '
                             'the clocks of the controller and this host disagree, or at is not a moment '
                             'from now(); nothing was changed' % (ahead, p['max_wait']))

    before = service_state(module, p['name'])
    if not before['installed'] and not module.check_mode:
        module.fail_json(msg='The systemd unit %s is not installed; nothing was changed' % unit)

    enable = before['enabled'] != p['enabled']
    start = not before['active']
    result = dict(changed=enable or start, active=True, enabled=p['enabled'], started=start, waited=0.0,
                  late=None,
                  diff=dict(before=dict(active=before['active'], enabled=before['enabled']),
                            after=dict(active=True, enabled=p['enabled'])))
    if module.check_mode:
        module.exit_json(**result)

    systemctl = module.get_bin_path('systemctl', required=True)
    if enable:
        module.run_command([systemctl, 'enable' if p['enabled'] else 'disable', unit], check_rc=True)
    if start:
        # Read the clock again: reading and enabling the unit took time.
        wait = p['at'] - time.time() if p['at'] is not None else 0.0
        if wait > 0:
            time.sleep(wait)
            result['waited'] = round(wait, 3)
        issued = time.time()
        rc, out, err = module.run_command([systemctl, 'start', unit])
        if p['at'] is not None:
            result['late'] = round(max(issued - p['at'], 0.0), 3)
        if rc != 0:
            module.fail_json(msg='systemctl start %s failed: %s' % (unit, (err or out).strip()),
                             rc=rc, stdout=out, stderr=err)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
