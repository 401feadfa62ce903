# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nomad_job against responses a real Nomad 0.9.1 gave, replayed on 127.0.0.1."""

import copy
import json
import os

from nomad_replay import FIXTURES, ReplayServer, exchange, fixture, recorded, run_module, with_path

from ansible_collections.nomadops.nomad.plugins.modules import nomad_job


def job_text():
    with open(os.path.join(FIXTURES, 'job-httpecho.json')) as f:
        return f.read()


def hcl_text():
    with open(os.path.join(FIXTURES, 'httpecho.nomad')) as f:
        return f.read()


def stored_job(**changes):
    """What GET /v1/job/httpecho returns once registered (trimmed)."""
    job = json.loads(job_text())
    job.update(Version=0, JobModifyIndex=16, CreateIndex=16, ModifyIndex=18, Status='running',
               SubmitTime=1795815702390000000, Stop=False, Namespace='default', Priority=50)
    job.update(changes)
    return exchange('GET', '/v1/job/httpecho', body=job, index=18)


def register_flow(plan):
    """plan -> register -> eval -> allocs, all from our recorded fixtures."""
    ev = fixture('eval-complete')
    eval_id = ev['response']['body']['ID']
    reg = copy.deepcopy(fixture('register'))
    reg['response']['body']['EvalID'] = eval_id
    allocs = with_path(fixture('eval-allocations'), '/v1/evaluation/%s/allocations' % eval_id)
    for a in allocs['response']['body']:
        a['EvalID'] = eval_id
    job_allocs = exchange('GET', '/v1/job/httpecho/allocations', body=allocs['response']['body'], index=31)
    return [plan, reg, ev, allocs, job_allocs, fixture('nodes'), stored_job()], reg, eval_id


def agent_self(version):
    """/v1/agent/self as both releases shape its version (recorded: config.Version)."""
    return exchange('GET', '/v1/agent/self', body={'config': {'Version': {
        'Revision': '', 'Version': version, 'VersionMetadata': '', 'VersionPrerelease': ''}}})


def args(srv, **extra):
    base = dict(address=srv.address, content=job_text(), source_name='httpecho.json', wait_timeout=10)
    base.update(extra)
    return base


def test_new_job_is_planned_registered_with_enforce_index_and_watched(capsys):
    exs, reg, eval_id = register_flow(fixture('plan-added'))
    with ReplayServer(exs) as srv:
        failed, result = run_module(nomad_job.main, args(srv), capsys)
        plans = srv.calls('POST', '/v1/job/httpecho/plan')
        registers = srv.calls('POST', '/v1/jobs')
    assert not failed, result
    assert result['changed'] is True
    assert result['diff_type'] == 'Added'
    assert len(plans) == 1 and plans[0]['body']['Diff'] is True
    assert plans[0]['body']['Job']['ID'] == 'httpecho'
    assert len(registers) == 1
    sent = registers[0]['body']
    assert sent['EnforceIndex'] is True
    assert sent['JobModifyIndex'] == fixture('plan-added')['response']['body']['JobModifyIndex'] == 0
    assert sent['Job'] == json.loads(job_text())
    assert result['eval_id'] == eval_id
    assert result['job_modify_index'] == reg['response']['body']['JobModifyIndex']
    assert result['version'] == 0
    assert len(result['allocations']) == 2
    assert {a['client_status'] for a in result['allocations']} == {'running'}
    assert all(a['node_name'] for a in result['allocations'])
    assert result['placement_failures'] == {}


def test_bare_and_wrapped_json_and_job_dict_are_the_same_job(capsys):
    wrapped = json.dumps({'Job': json.loads(job_text())})
    for extra in (dict(content=wrapped), dict(job=json.loads(job_text()))):
        with ReplayServer([fixture('plan-none'), stored_job(), exchange('GET', '/v1/job/httpecho/allocations',
                                                                        body=[], index=3)]) as srv:
            params = dict(address=srv.address)
            params.update(extra)
            failed, result = run_module(nomad_job.main, params, capsys)
            assert not failed, result
            plan = srv.calls('POST', '/v1/job/httpecho/plan')[0]
        assert plan['body']['Job'] == json.loads(job_text())


def test_unchanged_job_is_not_registered(capsys):
    with ReplayServer([fixture('plan-none'), stored_job(),
                       exchange('GET', '/v1/job/httpecho/allocations',
                                body=fixture('eval-allocations')['response']['body'], index=31),
                       fixture('nodes')]) as srv:
        failed, result = run_module(nomad_job.main, args(srv), capsys)
        assert not srv.calls('POST', '/v1/jobs')
    assert not failed, result
    assert result['changed'] is False
    assert result['diff_type'] == 'None'
    assert result['version'] == 0
    assert len(result['allocations']) == 2


def test_check_mode_plans_only(capsys):
    with ReplayServer([fixture('plan-added'), with_path(fixture('job-not-found'), '/v1/job/httpecho')]) as srv:
        failed, result = run_module(nomad_job.main, args(srv), capsys, check_mode=True)
        assert not srv.calls('POST', '/v1/jobs')
        assert len(srv.calls('POST', '/v1/job/httpecho/plan')) == 1
    assert not failed, result
    assert result['changed'] is True and result['eval_id'] is None and result['version'] is None


def test_check_mode_reports_the_stored_version(capsys):
    plan = copy.deepcopy(fixture('plan-added'))
    plan['response']['body']['Diff']['Type'] = 'Edited'
    with ReplayServer([plan, stored_job(Version=4)]) as srv:
        failed, result = run_module(nomad_job.main, args(srv), capsys, check_mode=True)
        assert not srv.calls('POST', '/v1/jobs')
    assert not failed, result
    assert result['changed'] is True and result['version'] == 4


def test_diff_hides_server_managed_fields(capsys):
    plan = copy.deepcopy(fixture('plan-added'))
    plan['response']['body']['Diff']['Type'] = 'Edited'
    plan['response']['body']['JobModifyIndex'] = 16
    with ReplayServer([plan, stored_job()]) as srv:
        bigger = json.loads(job_text())
        bigger['TaskGroups'][0]['Count'] = 3
        failed, result = run_module(nomad_job.main, args(srv, content=json.dumps(bigger)), capsys,
                                    check_mode=True, diff=True)
    assert not failed, result
    before, after = result['diff']['before'], result['diff']['after']
    assert before['TaskGroups'][0]['Count'] == 2 and after['TaskGroups'][0]['Count'] == 3
    for field in ('JobModifyIndex', 'ModifyIndex', 'CreateIndex', 'SubmitTime', 'Status', 'Version'):
        assert field not in before and field not in after
    assert before['Priority'] == after['Priority'] == 50  # server default kept, not shown as removed


def test_enforce_index_conflict_then_unchanged_plan_reports_unchanged(capsys):
    # Another host registered the same job between our plan and our register.
    conflict = with_path(fixture('enforce-index-stale'), '/v1/jobs')
    conflict['request']['method'] = 'POST'
    exs = [fixture('plan-added'), conflict, fixture('plan-none'), stored_job(),
           exchange('GET', '/v1/job/httpecho/allocations', body=[], index=3)]
    with ReplayServer(exs) as srv:
        failed, result = run_module(nomad_job.main, args(srv), capsys)
        assert len(srv.calls('POST', '/v1/jobs')) == 1
        assert len(srv.calls('POST', '/v1/job/httpecho/plan')) == 2
    assert not failed, result
    assert result['changed'] is False


def test_recorded_enforce_index_zero_on_existing_job_then_edited_plan_registers_again(capsys):
    conflict = with_path(recorded('044-job-register-enforceindex-zero-existing'), '/v1/jobs')
    edited = copy.deepcopy(fixture('plan-added'))
    edited['response']['body']['Diff']['Type'] = 'Edited'
    edited['response']['body']['JobModifyIndex'] = 16
    exs = register_flow(fixture('plan-added'))[0]
    exs = [exs[0], conflict, edited] + exs[1:]
    with ReplayServer(exs) as srv:
        failed, result = run_module(nomad_job.main, args(srv), capsys)
        registers = srv.calls('POST', '/v1/jobs')
    assert not failed, result
    assert [r['body']['JobModifyIndex'] for r in registers] == [0, 16]
    assert result['changed'] is True


def test_recorded_validation_error_names_verb_job_status_url_and_cause(capsys):
    exs = [fixture('plan-added'), recorded('060-jobs-register-missing-datacenters')]
    with ReplayServer(exs) as srv:
        failed, result = run_module(nomad_job.main, args(srv), capsys)
    assert failed
    msg = result['msg']
    assert msg.startswith("Failed to register job 'httpecho': HTTP 500")
    assert srv.address + '/v1/jobs' in msg
    assert 'Missing job datacenters' in msg
    assert 'httpecho.json' in msg


def _unplaceable_exchanges():
    reg = recorded('050-jobs-register-unplaceable')
    ev = recorded('051-evaluation-unplaceable')
    plan = copy.deepcopy(fixture('plan-added'))
    plan['request']['path'] = '/v1/job/unplaceable/plan'
    job = json.loads(job_text())
    job.update(ID='unplaceable', Name='unplaceable')
    evid = ev['response']['body']['ID']
    return job, [plan, reg, ev, exchange('GET', '/v1/evaluation/%s/allocations' % evid, body=[], index=37),
                 recorded('053-job-get-unplaceable')]


def test_recorded_placement_failure_fails_with_nomads_reasons(capsys):
    job, exs = _unplaceable_exchanges()
    with ReplayServer(exs) as srv:
        failed, result = run_module(nomad_job.main, args(srv, content=json.dumps(job)), capsys)
    assert failed
    assert result['msg'].startswith("Failed to place job 'unplaceable': Evaluation")
    assert 'Task Group "web" (failed to place 1 allocation):' in result['msg']
    assert '* Constraint "${attr.nonexistent.attribute} = yes" filtered 3 nodes' in result['msg']
    assert result['placement_failures']['web']['constraint_filtered'] == {'${attr.nonexistent.attribute} = yes': 3}
    assert result['changed'] is True  # it was registered; Nomad keeps a blocked eval


def test_recorded_placement_failure_can_be_allowed(capsys):
    job, exs = _unplaceable_exchanges()
    with ReplayServer(exs) as srv:
        failed, result = run_module(nomad_job.main, args(srv, content=json.dumps(job),
                                                         fail_on_placement_failure=False), capsys)
    assert not failed, result
    assert result['changed'] is True
    assert result['placement_failures']['web']['failed'] == 1
    assert any('filtered 3 nodes' in w for w in result['warnings'])
    assert result['blocked_eval'] == recorded('051-evaluation-unplaceable')['response']['body']['BlockedEval']


def test_bad_json_fails_before_anything_is_sent(capsys):
    with ReplayServer([]) as srv:
        failed, result = run_module(nomad_job.main, args(srv, content='{"Job": {"ID": "x",\n  "Name": }}'), capsys)
        assert srv.requests == []
    assert failed
    assert 'httpecho.json' in result['msg'] and 'line 2' in result['msg']


def test_hcl_error_names_file_and_line_before_anything_is_sent(capsys):
    broken = 'job "broken" {\n  datacenters = ["home"\n}\n'
    with ReplayServer([]) as srv:
        failed, result = run_module(nomad_job.main, args(srv, content=broken, source_name='broken.nomad',
                                                         dialect='hcl1'), capsys)
        assert srv.requests == []
    assert failed
    assert 'broken.nomad' in result['msg'] and 'line' in result['msg']
    # Left to follow the agent, the module asks its version, and nothing more.
    with ReplayServer([agent_self('0.9.1')]) as srv:
        failed, result = run_module(nomad_job.main, args(srv, content=broken, source_name='broken.nomad'), capsys)
        assert [(r['method'], r['path']) for r in srv.requests] == [('GET', '/v1/agent/self')]
    assert failed and 'broken.nomad' in result['msg'] and 'line 3' in result['msg']


def test_hcl_job_is_parsed_to_the_recorded_api_job(capsys):
    with ReplayServer([agent_self('0.9.1'), fixture('plan-none'), stored_job(),
                       exchange('GET', '/v1/job/httpecho/allocations', body=[], index=3)]) as srv:
        failed, result = run_module(nomad_job.main, args(srv, content=hcl_text(), source_name='httpecho.nomad'),
                                    capsys)
        sent = srv.calls('POST', '/v1/job/httpecho/plan')[0]['body']['Job']
    assert not failed, result
    expected = json.loads(job_text())
    assert sent['ID'] == expected['ID'] and sent['Datacenters'] == expected['Datacenters']
    assert sent['TaskGroups'][0]['Count'] == 2
    assert sent['TaskGroups'][0]['Tasks'][0]['Config'] == expected['TaskGroups'][0]['Tasks'][0]['Config']


def test_permission_denied_explains_the_token(capsys):
    denied = with_path(fixture('acl-no-token'), '/v1/job/httpecho/plan')
    denied['request']['method'] = 'POST'
    with ReplayServer([denied]) as srv:
        failed, result = run_module(nomad_job.main, args(srv), capsys)
    assert failed
    assert "Failed to plan job 'httpecho'" in result['msg']
    assert 'a valid ACL token is required (token or NOMAD_TOKEN)' in result['msg']


def test_unreachable_agent_is_named(capsys):
    failed, result = run_module(nomad_job.main, dict(content=job_text(), address='http://127.0.0.1:9',
                                                     timeout=2), capsys)
    assert failed
    assert 'http://127.0.0.1:9' in result['msg'] and "job 'httpecho'" in result['msg']


# -- absent -----------------------------------------------------------------

def test_recorded_purge(capsys):
    purge = recorded('087-job-delete-purge')
    evid = purge['response']['body']['EvalID']
    ev = with_path(recorded('082-evaluation-of-stop'), '/v1/evaluation/' + evid)
    with ReplayServer([recorded('031-job-get'), purge, ev]) as srv:
        failed, result = run_module(nomad_job.main, dict(address=srv.address, name='httpecho', state='absent',
                                                         purge=True), capsys)
        delete = srv.calls('DELETE', '/v1/job/httpecho')
    assert not failed, result
    assert result['changed'] is True and result['eval_id'] == evid
    assert len(delete) == 1 and delete[0]['query'] == {'purge': 'true'}


def test_recorded_absent_job_is_unchanged(capsys):
    with ReplayServer([with_path(recorded('070-job-get-doesnotexist'), '/v1/job/httpecho')]) as srv:
        failed, result = run_module(nomad_job.main, dict(address=srv.address, name='httpecho', state='absent',
                                                         purge=True), capsys)
        assert not srv.calls('DELETE')
    assert not failed and result['changed'] is False


def test_recorded_stopped_job_without_purge_is_unchanged(capsys):
    with ReplayServer([recorded('083-job-get-after-stop')]) as srv:
        failed, result = run_module(nomad_job.main, dict(address=srv.address, name='httpecho', state='absent'),
                                    capsys)
        assert not srv.calls('DELETE')
    assert not failed and result['changed'] is False


def test_absent_check_mode_deletes_nothing(capsys):
    with ReplayServer([stored_job()]) as srv:
        failed, result = run_module(nomad_job.main, dict(address=srv.address, content=job_text(), state='absent',
                                                         purge=True), capsys, check_mode=True, diff=True)
        assert not srv.calls('DELETE')
    assert not failed and result['changed'] is True
    assert result['diff']['after'] == {} and result['diff']['before']['ID'] == 'httpecho'


def test_present_needs_a_job(capsys):
    failed, result = run_module(nomad_job.main, dict(name='httpecho'), capsys)
    assert failed and 'src' in result['msg']


def test_recorded_periodic_job_has_no_evaluation_to_wait_for(capsys):
    reg = recorded('097-jobs-register-periodic')
    job = reg['request']['body']['Job']
    plan = with_path(fixture('plan-added'), '/v1/job/periodic-true/plan')
    with ReplayServer([plan, reg, recorded('098-job-get-periodic')]) as srv:
        failed, result = run_module(nomad_job.main, dict(address=srv.address, job=job), capsys)
        assert not [r for r in srv.requests if r['path'].startswith('/v1/evaluation')]
    assert not failed, result
    assert result['changed'] is True and result['eval_id'] is None
    assert result['allocations'] == []
    assert result['version'] == recorded('098-job-get-periodic')['response']['body']['Version']


def test_no_wait_returns_after_register(capsys):
    exs = register_flow(fixture('plan-added'))[0]
    with ReplayServer(exs) as srv:
        failed, result = run_module(nomad_job.main, args(srv, wait=False), capsys)
        assert not [r for r in srv.requests if r['path'].startswith('/v1/evaluation')]
    assert not failed, result
    assert result['changed'] is True and result['eval_id']


# ---- dialects, variables and namespaces -------------------------------------------

def hcl2_evaluated(**changes):
    job = json.loads(job_text())
    job.update(changes)
    return {'job': job}


def test_a_1_x_agent_gets_the_controllers_hcl2_evaluation(capsys):
    evaluated = hcl2_evaluated(Datacenters=['east'])
    with ReplayServer([agent_self('1.1.0'), with_path(fixture('job-not-found'), '/v1/job/httpecho'),
                       with_path(fixture('plan-added'), '/v1/job/httpecho/plan')]) as srv:
        run_module(nomad_job.main, args(srv, content=hcl_text(), source_name='httpecho.nomad', hcl2_result=evaluated,
                                        vars={'datacenters': ['east']}), capsys, check_mode=True)
        sent = srv.calls('POST', '/v1/job/httpecho/plan')[0]['body']['Job']
    assert sent['Datacenters'] == ['east']


def test_hcl2_errors_name_the_file_and_nothing_is_planned(capsys):
    error = {'error': 'httpecho.nomad:3,11-12: Unsupported argument; An argument named "count" is not expected here.'}
    with ReplayServer([agent_self('1.1.0')]) as srv:
        failed, result = run_module(nomad_job.main, args(srv, content=hcl_text(), source_name='httpecho.nomad',
                                                         hcl2_result=error), capsys)
        assert srv.calls('POST', '/v1/job/httpecho/plan') == []
    assert failed
    assert result['msg'].startswith('Failed to parse job file httpecho.nomad as HCL2: httpecho.nomad:3,11-12:')


def test_hcl2_without_the_action_plugin_says_what_is_missing(capsys):
    with ReplayServer([agent_self('1.1.0')]) as srv:
        failed, result = run_module(nomad_job.main, args(srv, content=hcl_text(), source_name='httpecho.nomad'),
                                    capsys)
    assert failed and 'HCL2, which the nomad_job action plugin evaluates on the controller' in result['msg']


def test_vars_on_a_0_9_agent_fail_before_anything_is_sent(capsys):
    with ReplayServer([agent_self('0.9.1')]) as srv:
        failed, result = run_module(nomad_job.main, args(srv, content=hcl_text(), source_name='httpecho.nomad',
                                                         vars={'count': 3}), capsys)
        assert [r['path'] for r in srv.requests] == ['/v1/agent/self']
    assert failed
    assert 'vars and var_files are for HCL2 job files (Nomad 1.0 or newer); httpecho.nomad is read as HCL1' \
        in result['msg']


def test_a_namespace_on_0_9_fails_clearly_before_anything_is_sent(capsys):
    with ReplayServer([agent_self('0.9.1')]) as srv:
        failed, result = run_module(nomad_job.main, args(srv, namespace='team-a'), capsys)
        assert [r['path'] for r in srv.requests] == ['/v1/agent/self']
    assert failed
    assert result['msg'] == ("Namespace 'team-a' needs Nomad 1.0 or newer: the agent runs Nomad 0.9.1, whose "
                             "open-source edition has only the default namespace")


def test_a_namespace_goes_into_the_job_and_every_request(capsys):
    with ReplayServer([agent_self('1.1.0'), with_path(fixture('job-not-found'), '/v1/job/httpecho'),
                       with_path(fixture('plan-added'), '/v1/job/httpecho/plan')]) as srv:
        run_module(nomad_job.main, args(srv, namespace='team-a'), capsys, check_mode=True)
        plan = srv.calls('POST', '/v1/job/httpecho/plan')[0]
    assert plan['body']['Job']['Namespace'] == 'team-a'
    assert plan['query'].get('namespace') in ('team-a', ['team-a'])


def test_a_job_file_naming_another_namespace_is_an_error(capsys):
    job = json.loads(job_text())
    job['Namespace'] = 'team-b'
    with ReplayServer([agent_self('1.1.0')]) as srv:
        failed, result = run_module(nomad_job.main, args(srv, content=json.dumps(job), namespace='team-a'), capsys)
    assert failed
    assert result['msg'] == "The job in httpecho.json is in namespace 'team-b', but namespace='team-a' was asked for"


# -- Nomad 1.6 and newer: the agent parses the file ---------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def parse_recorded_by_1_6_5(job_file, variables=''):
    """The real 1.6.5's answer to /v1/jobs/parse (tests/real/record_jobs_parse.py)."""
    with open(os.path.join(ROOT, 'tests', 'recordings', 'nomad-1.6.5', 'jobs_parse.json')) as f:
        for ex in json.load(f)['exchanges']:
            if ex['file'] == job_file and ex['request'].get('Variables', '') == variables:
                return ex


def job_file_text(job_file):
    with open(os.path.join(ROOT, job_file)) as f:
        return f.read()


SLEEPER_16 = 'tests/integration/files/sleeper-16.nomad'


def sixteen_args(srv, job_file=SLEEPER_16, **extra):
    return args(srv, content=job_file_text(job_file), source_name=os.path.basename(job_file), **extra)


def test_a_1_6_agent_parses_the_file_with_the_controllers_variable_values(capsys):
    recorded = parse_recorded_by_1_6_5(SLEEPER_16, '{"count": 3}')
    resolved = {'values': {'count': 3}, 'flags': {'count': '3'}, 'files': ''}
    with ReplayServer([agent_self('1.6.5'),
                       exchange('POST', '/v1/jobs/parse', body=recorded['body']),
                       with_path(fixture('job-not-found'), '/v1/job/it-sleeper-16'),
                       with_path(fixture('plan-added'), '/v1/job/it-sleeper-16/plan')]) as srv:
        failed, result = run_module(nomad_job.main, sixteen_args(srv, hcl2_variables=resolved, vars={'count': '3'},
                                                                 hcl2_result={'error': 'not used from 1.6 on'}),
                                    capsys, check_mode=True)
        parse = srv.calls('POST', '/v1/jobs/parse')
        plan = srv.calls('POST', '/v1/job/it-sleeper-16/plan')
    assert not failed, result
    assert parse[0]['body'] == recorded['request']
    assert plan[0]['body']['Job']['NodePool'] == 'default'
    assert plan[0]['body']['Job']['TaskGroups'][0]['Count'] == 3
    assert result['changed'] is True and srv.calls('POST', '/v1/jobs') == []


def test_a_1_6_register_carries_the_submission(capsys):
    recorded = parse_recorded_by_1_6_5(SLEEPER_16)
    resolved = {'values': {}, 'flags': {}, 'files': ''}
    reg = with_path(fixture('register'), '/v1/jobs')
    reg['response']['body']['EvalID'] = ''
    with ReplayServer([agent_self('1.6.5'),
                       exchange('POST', '/v1/jobs/parse', body=recorded['body']),
                       with_path(fixture('plan-added'), '/v1/job/it-sleeper-16/plan'), reg,
                       with_path(fixture('job-not-found'), '/v1/job/it-sleeper-16')]) as srv:
        failed, result = run_module(nomad_job.main, sixteen_args(srv, hcl2_variables=resolved), capsys)
        registered = srv.calls('POST', '/v1/jobs')
    assert not failed, result
    assert 'Variables' not in srv.requests[1]['body']
    assert registered[0]['body']['Submission'] == {'Source': job_file_text(SLEEPER_16), 'Format': 'hcl2',
                                                   'VariableFlags': None, 'Variables': ''}


def test_a_1_6_agents_refusal_names_the_file_and_line_and_nothing_is_planned(capsys):
    typo = 'tests/integration/files/sleeper-16-typo.nomad'
    recorded = parse_recorded_by_1_6_5(typo)
    assert recorded['status'] == 400
    with ReplayServer([agent_self('1.6.5'),
                       exchange('POST', '/v1/jobs/parse', status=400, body=recorded['body'])]) as srv:
        failed, result = run_module(nomad_job.main, sixteen_args(srv, typo, hcl2_variables={'values': {}}), capsys)
        assert [r['path'] for r in srv.requests] == ['/v1/agent/self', '/v1/jobs/parse']
    assert failed
    assert result['msg'].startswith('Failed to parse job file sleeper-16-typo.nomad: the agent refused it: Failed to '
                                    'parse job: sleeper-16-typo.nomad:15,3-13: Unsupported argument;'), result['msg']


def test_a_bad_variable_value_fails_before_the_agent_is_asked_to_parse(capsys):
    error = {'error': ':0,0-0: Invalid argument value for -var variable; The received arg value for count is not '
                      'compatible with the variable\'s type constraint: a number is required.'}
    with ReplayServer([agent_self('1.6.5')]) as srv:
        failed, result = run_module(nomad_job.main, sixteen_args(srv, hcl2_variables=error, vars={'count': 'x'}),
                                    capsys)
        assert [r['path'] for r in srv.requests] == ['/v1/agent/self']
    assert failed and result['msg'] == 'Failed to parse job file sleeper-16.nomad as HCL2: %s' % error['error']


def test_a_1_5_agent_still_gets_the_controllers_evaluation(capsys):
    evaluated = hcl2_evaluated(Datacenters=['east'])
    with ReplayServer([agent_self('1.5.12'), with_path(fixture('job-not-found'), '/v1/job/httpecho'),
                       with_path(fixture('plan-added'), '/v1/job/httpecho/plan')]) as srv:
        failed, result = run_module(nomad_job.main, args(srv, content=hcl_text(), source_name='httpecho.nomad',
                                                         hcl2_result=evaluated), capsys, check_mode=True)
        assert srv.calls('POST', '/v1/jobs/parse') == []
        sent = srv.calls('POST', '/v1/job/httpecho/plan')[0]['body']['Job']
    assert not failed, result
    assert sent['Datacenters'] == ['east']
