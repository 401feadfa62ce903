# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What playbooks/cluster.yml leaves on three hosts with gossip encryption,
TLS and ACLs, read back independently: files through testinfra, HCL through
pyhcl, the API through curl on the hosts, and a third converge, in check mode
at -vvv, that must change nothing and whose output must hold no secret."""

import base64
import json
import os
import re
import stat

import hcl as pyhcl
import pytest

HOSTS = ["nomad1", "nomad2", "nomad3"]
testinfra_hosts = HOSTS

TLS = "/etc/nomad.d/tls"
CURL_TLS = "--cacert %s/ca.pem --cert %s/agent.pem --key %s/agent-key.pem" % (TLS, TLS, TLS)


def _secrets_dir():
    ephemeral = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    if not ephemeral:
        pytest.skip("MOLECULE_EPHEMERAL_DIRECTORY is not set: run through molecule verify")
    return os.path.join(ephemeral, "secrets")


def _secret(name):
    with open(os.path.join(_secrets_dir(), name)) as handle:
        return handle.read().strip()


def _address(host):
    text = host.check_output("ip -4 -o addr show eth0")
    return re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", text).group(1)


def _curl(host, url, extra=""):
    """(exit code, HTTP status, body) of a request made on the host itself."""
    cmd = host.run("curl -sS -o /tmp/verify-body -w '%%{http_code}' %s '%s'; echo \" $?\"" % (extra, url))
    status, code = cmd.stdout.strip().rsplit(" ", 1)
    body = host.run("cat /tmp/verify-body 2>/dev/null; rm -f /tmp/verify-body").stdout
    return int(code), status, body


# ---- files on the hosts --------------------------------------------------------

def test_data_dir_is_private(host):
    d = host.file("/opt/nomad")
    assert d.is_directory and d.mode == 0o700 and d.user == "root"


@pytest.mark.parametrize("path", ["/etc/nomad.d/gossip.hcl", "/etc/nomad.d/security.hcl", TLS + "/agent-key.pem"])
def test_secret_bearing_files_are_0640_root(host, path):
    f = host.file(path)
    assert f.is_file, path
    assert (f.user, f.group, f.mode) == ("root", "root", 0o640)


def test_every_server_has_the_controllers_gossip_key(host):
    key = _secret("gossip.key")
    assert len(base64.b64decode(key, validate=True)) == 16
    cfg = pyhcl.loads(host.file("/etc/nomad.d/gossip.hcl").content_string)
    assert cfg["server"]["encrypt"] == key


def test_security_hcl_turns_on_tls_and_acl(host):
    cfg = pyhcl.loads(host.file("/etc/nomad.d/security.hcl").content_string)
    assert cfg["acl"]["enabled"] is True
    tls = cfg["tls"]
    assert tls["http"] is True and tls["rpc"] is True
    assert tls["verify_server_hostname"] is True and tls["verify_https_client"] is True
    assert tls["ca_file"] == TLS + "/ca.pem"


def test_host_certificate_names_what_nomad_checks(host):
    text = host.check_output("openssl x509 -in %s/agent.pem -noout -text 2>/dev/null || true" % TLS)
    if not text:
        # The image has no openssl binary; read the SANs with python's ssl instead.
        text = host.check_output(
            "python3 -c \"import ssl,json;print(json.dumps(ssl._ssl._test_decode_cert('%s/agent.pem')))\"" % TLS)
        sans = {pair[1] for pair in json.loads(text)["subjectAltName"]}
    else:
        sans = set(re.findall(r"(?:DNS|IP Address):([^,\s]+)", text))
    assert {"server.global.nomad", "client.global.nomad", "localhost", "127.0.0.1", _address(host)} <= sans


# ---- files on the controller -----------------------------------------------------

@pytest.mark.parametrize("name", ["gossip.key", "acl-token", "acl-token-httpecho-deployer", "tls/ca-key.pem",
                                  "tls/nomad1-key.pem"])
def test_controller_secrets_are_0600(name):
    path = os.path.join(_secrets_dir(), name)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


# ---- the API -----------------------------------------------------------------------

def test_https_with_the_ca_and_client_cert_works(host):
    code, status, body = _curl(host, "https://%s:4646/v1/status/leader" % _address(host), CURL_TLS)
    assert (code, status) == (0, "200"), body
    assert re.match(r'^"\d+\.\d+\.\d+\.\d+:4647"$', body.strip()), body


def test_plain_http_is_not_served(host):
    code, status, body = _curl(host, "http://127.0.0.1:4646/v1/status/leader")
    assert code != 0 or status != "200", body


def test_https_without_a_client_certificate_is_refused(host):
    code, status, body = _curl(host, "https://127.0.0.1:4646/v1/status/leader", "--cacert %s/ca.pem" % TLS)
    assert code != 0, (status, body)


def test_server_certificate_is_checked_against_the_ca(host):
    # No CA given: curl must refuse the self-made chain.
    code, status, body = _curl(host, "https://127.0.0.1:4646/v1/status/leader",
                               "--cert %s/agent.pem --key %s/agent-key.pem" % (TLS, TLS))
    assert code == 60, (code, status, body)  # "SSL certificate problem"


def test_request_without_token_gets_403(host):
    code, status, body = _curl(host, "https://127.0.0.1:4646/v1/jobs", CURL_TLS)
    assert (code, status, body.strip()) == (0, "403", "Permission denied")


def test_job_was_submitted_with_the_token(host):
    token = _secret("acl-token")
    code, status, body = _curl(host, "https://127.0.0.1:4646/v1/jobs",
                               CURL_TLS + " -H 'X-Nomad-Token: %s'" % token)
    assert (code, status) == (0, "200"), body
    jobs = {j["ID"]: j for j in json.loads(body)}
    assert "secure-sleeper" in jobs and jobs["secure-sleeper"]["Status"] == "running"


def test_the_post_job_runs_submitted_with_the_client_token(host):
    token = _secret("acl-token-httpecho-deployer")
    code, status, body = _curl(host, "https://127.0.0.1:4646/v1/acl/token/self",
                               CURL_TLS + " -H 'X-Nomad-Token: %s'" % token)
    assert (code, status) == (0, "200"), body
    info = json.loads(body)
    assert (info["Type"], info["Name"], info["Policies"]) == ("client", "httpecho-deployer", ["httpecho-deploy"])
    code, status, body = _curl(host, "https://127.0.0.1:4646/v1/job/httpecho",
                               CURL_TLS + " -H 'X-Nomad-Token: %s'" % token)
    assert (code, status) == (0, "200"), body
    assert json.loads(body)["Status"] == "running"


def test_the_client_token_may_do_nothing_else(host):
    token = _secret("acl-token-httpecho-deployer")
    for path in ("/v1/agent/self", "/v1/nodes", "/v1/acl/tokens"):
        code, status, body = _curl(host, "https://127.0.0.1:4646" + path,
                                   CURL_TLS + " -H 'X-Nomad-Token: %s'" % token)
        assert (code, status, body.strip()) == (0, "403", "Permission denied"), path


def test_the_policy_is_stored_as_the_role_variable_says(host):
    token = _secret("acl-token")
    code, status, body = _curl(host, "https://127.0.0.1:4646/v1/acl/policy/httpecho-deploy",
                               CURL_TLS + " -H 'X-Nomad-Token: %s'" % token)
    assert (code, status) == (0, "200"), body
    assert '"submit-job", "read-job", "list-jobs"' in json.loads(body)["Rules"]
    # No anonymous policy: requests without a token get nothing, as Nomad's default is.
    code, status, body = _curl(host, "https://127.0.0.1:4646/v1/acl/policy/anonymous",
                               CURL_TLS + " -H 'X-Nomad-Token: %s'" % token)
    assert (code, status) == (0, "404"), body


def test_token_file_holds_the_bootstrap_management_token(host):
    token = _secret("acl-token")
    code, status, body = _curl(host, "https://127.0.0.1:4646/v1/acl/token/self",
                               CURL_TLS + " -H 'X-Nomad-Token: %s'" % token)
    assert (code, status) == (0, "200"), body
    info = json.loads(body)
    assert info["Type"] == "management" and info["Name"] == "Bootstrap Token"


def test_module_without_token_fails_with_a_clear_403(scenario):
    result = scenario.playbook("""
- hosts: nomad1
  gather_facts: false
  tasks:
    - name: Read jobs without a token
      nomadops.nomad.nomad_job_info:
        address: https://127.0.0.1:4646
        ca_cert: /etc/nomad.d/tls/ca.pem
        client_cert: /etc/nomad.d/tls/agent.pem
        client_key: /etc/nomad.d/tls/agent-key.pem
      environment:
        NOMAD_TOKEN: ""
""")
    out = result.stdout + result.stderr
    assert result.returncode != 0, out[-3000:]
    assert "permission denied: a valid ACL token is required" in out, out[-3000:]
    assert "Permission denied" in out


# ---- once-only bootstrap, no leak, nothing changes ---------------------------------

@pytest.fixture(scope="module")
def verbose_converge(scenario):
    # In check mode, so one more run of the playbook proves two things: check
    # mode on a built cluster finds nothing to do, and -vvv shows no secret
    # (check mode reads the key, the certificates and the stored token just
    # as a real run does). Idempotence already made a real second converge.
    return scenario.playbook("converge.yml", "-vvv", "--diff", "--check", timeout=900)


def _private_key_chunks(path):
    lines = open(path).read().strip().splitlines()
    body = "".join(lines[1:-1])
    return [body[i:i + 40] for i in range(0, len(body) - 40, 40)]


def test_verbose_check_converge_changes_nothing_and_shows_no_secret(verbose_converge):
    out = verbose_converge.stdout + verbose_converge.stderr
    assert verbose_converge.returncode == 0, out[-4000:]
    recap = out[out.rindex("PLAY RECAP"):]
    assert re.findall(r"changed=(\d+)", recap) == ["0", "0", "0"], recap
    # The secrets really passed through this run.
    assert "Bootstrap ACLs once" in out and "gossip" in out

    secrets = {
        "management token": [_secret("acl-token")],
        "client token": [_secret("acl-token-httpecho-deployer")],
        "gossip key": [_secret("gossip.key")],
        "CA private key": _private_key_chunks(os.path.join(_secrets_dir(), "tls", "ca-key.pem")),
        "agent private key": _private_key_chunks(os.path.join(_secrets_dir(), "tls", "nomad1-key.pem")),
    }
    for label, values in secrets.items():
        assert values
        for value in values:
            assert value not in out, "%s appears in the -vvv output" % label


def test_no_second_bootstrap_was_attempted(verbose_converge):
    # Every converge after the first verifies the stored token; a second
    # POST /v1/acl/bootstrap would be refused, and the agent logs refusals.
    assert verbose_converge.returncode == 0
    from testinfra import get_host
    hosts = {name: get_host("podman://" + name) for name in HOSTS}
    for name, node in hosts.items():
        log = node.run("journalctl -u nomad --no-pager").stdout
        assert "ACL bootstrap already done" not in log, name

    # The check can see one: attempt a bootstrap by hand and find it logged.
    node = hosts["nomad1"]
    code, status, body = _curl(node, "https://127.0.0.1:4646/v1/acl/bootstrap", CURL_TLS + " -X POST")
    assert (code, status) == (0, "500") and "ACL bootstrap already done" in body, body
    for dummy in range(20):
        if "ACL bootstrap already done" in node.run("journalctl -u nomad --no-pager").stdout:
            break
        node.run("sleep 0.5")
    else:
        pytest.fail("a refused bootstrap does not show in the agent's log, so its absence above proves nothing")


# ---- a new gossip key on the running servers: last, since it changes the key ----

NEW_GOSSIP_KEY = "HpVvH8gU1DNY3LaSUrQ2Ww=="


def test_a_new_gossip_key_is_rotated_in_while_the_servers_run(scenario):
    from testinfra import get_host
    hosts = {name: get_host("podman://" + name) for name in HOSTS}

    def started():
        return {name: node.check_output("systemctl show nomad -p ExecMainStartTimestamp --value")
                for name, node in hosts.items()}

    before = started()
    result = scenario.playbook("converge.yml", "-e", "nomad_encrypt=%s" % NEW_GOSSIP_KEY)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert "Rotate the running servers to a new gossip key" in out and NEW_GOSSIP_KEY not in out
    assert started() == before, "an agent restarted: the key went through the keyring API"
    token = _secret("acl-token")
    node = hosts["nomad1"]
    code, status, body = _curl(node, "https://127.0.0.1:4646/v1/agent/keyring/list",
                               CURL_TLS + " -H 'X-Nomad-Token: %s'" % token)
    assert (code, status) == (0, "200"), body
    assert json.loads(body)["Keys"] == {NEW_GOSSIP_KEY: 3}
    for name, each in hosts.items():
        cfg = pyhcl.loads(each.file("/etc/nomad.d/gossip.hcl").content_string)
        assert cfg["server"]["encrypt"] == NEW_GOSSIP_KEY, name
        members = json.loads(_curl(each, "https://127.0.0.1:4646/v1/agent/members",
                                   CURL_TLS + " -H 'X-Nomad-Token: %s'" % token)[2])["Members"]
        assert sorted(m["Status"] for m in members) == ["alive"] * 3, name
