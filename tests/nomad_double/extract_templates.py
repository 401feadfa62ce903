# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Regenerate templates.json and templates-1.1.0.json from the recorded
Nomad 0.9.1 and 1.1.0 responses.

The double fills these skeletons with its own values; keeping the skeletons
as recorded is what keeps every key and value type faithful.  Run it again
when the recordings change:

    python tests/nomad_double/extract_templates.py [SHARED_0.9.1_DIR [SHARED_1.1.0_DIR]]

The 1.1.0 directory defaults to ``nomad-1.1.0`` next to the 0.9.1 one; when
it is absent, only templates.json is written.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def shared_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    return os.environ.get('NOMAD_SHARED_DIR') or os.path.join(HERE, '..', 'recordings', 'nomad-0.9.1')


def shared_dir_1x():
    if len(sys.argv) > 2:
        return sys.argv[2]
    return os.path.join(os.path.dirname(os.path.abspath(shared_dir())), 'nomad-1.1.0')


def body(api, name):
    for fn in os.listdir(api):
        if fn.startswith(name):
            with open(os.path.join(api, fn)) as f:
                return json.load(f)['response']['body']
    raise SystemExit('missing recording %s' % name)


def templates_091(api):
    t = {}
    t['agent_self'] = body(api, '001-')
    t['member'] = body(api, '002-')['Members'][0]
    t['node'] = body(api, '006-')
    t['node_stub'] = body(api, '005-')[0]
    alloc = body(api, '039-')
    alloc.pop('Job')
    t['alloc'] = alloc
    stub = body(api, '032-')[0]
    t['task_event'] = stub['TaskStates']['server']['Events'][0]
    stub['TaskStates'] = {}
    t['alloc_stub'] = stub
    t['eval'] = body(api, '029-')
    t['alloc_metric'] = body(api, '051-')['FailedTGAllocs']['web']
    t['job_stub'] = body(api, '035-')[0]
    t['summary'] = body(api, '036-')
    t['deployment'] = body(api, '105-')
    t['acl_token'] = body(api, '151-')
    t['plan'] = body(api, '040-')
    t['register'] = body(api, '027-')
    t['node_purge'] = body(api, '131-')
    t['validate'] = body(api, '023-')
    return t


def templates_110(api):
    """The same skeletons from 1.1.0's recordings (node_purge was not recorded:
    0.9.1's serves), plus the namespace object."""
    t = {}
    t['agent_self'] = body(api, '001-')
    t['member'] = body(api, '002-')['Members'][0]
    t['node'] = body(api, '006-')
    t['node_stub'] = body(api, '005-')[0]
    alloc = body(api, '053-')
    alloc.pop('Job')
    t['alloc'] = alloc
    stub = body(api, '046-')[0]
    t['task_event'] = stub['TaskStates']['server']['Events'][0]
    stub['TaskStates'] = {}
    t['alloc_stub'] = stub
    t['eval'] = body(api, '043-')
    t['alloc_metric'] = body(api, '081-')['FailedTGAllocs']['web']
    t['job_stub'] = body(api, '049-')[0]
    t['summary'] = body(api, '050-')
    t['deployment'] = body(api, '047-')
    t['acl_token'] = body(api, '251-')
    t['plan'] = body(api, '040-')
    t['register'] = body(api, '041-')
    t['validate'] = body(api, '034-')
    t['namespace'] = body(api, '181-')
    return t


def write(name, t):
    out = os.path.join(HERE, name)
    with open(out, 'w') as f:
        f.write(json.dumps(t, indent=1, sort_keys=True) + '\n')
    print('wrote', out)


def main():
    write('templates.json', templates_091(os.path.join(shared_dir(), 'transcripts', 'api')))
    api = os.path.join(shared_dir_1x(), 'transcripts', 'api')
    if os.path.isdir(api):
        write('templates-1.1.0.json', templates_110(api))


if __name__ == '__main__':
    main()
