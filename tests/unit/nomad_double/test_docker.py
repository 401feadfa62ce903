# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The double's docker driver: the fingerprint over dockerd's socket and the
`docker run` that stands for a task of the seed's job."""

import http.server
import json
import os
import socketserver
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from nomad_double import client  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.nomadops.nomad.plugins.module_utils.jobspec import parse_jobspec  # noqa: E402


class _Docker(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({'Version': '20.10.24+dfsg1', 'ApiVersion': '1.41'}).encode()
        self.send_response(200 if self.path == '/version' else 404)
        self.send_header('Content-Type', 'application/json')
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        request, dummy = super().get_request()
        return request, ('local', 0)


def test_no_daemon_is_what_0_9_1_reports(tmp_path, monkeypatch):
    monkeypatch.setattr(client, 'DOCKER_SOCKET', str(tmp_path / 'docker.sock'))
    driver, attrs = client._docker_driver('2026-11-29T00:00:00Z')
    assert (driver['Detected'], driver['Healthy'], driver['HealthDescription']) == (
        False, False, 'Failed to connect to docker daemon')
    assert attrs == {}


def test_a_daemon_on_the_socket_is_detected_with_its_version(tmp_path, monkeypatch):
    sock = str(tmp_path / 'docker.sock')
    server = _UnixServer(sock, _Docker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(client, 'DOCKER_SOCKET', sock)
        driver, attrs = client._docker_driver('2026-11-29T00:00:00Z')
    finally:
        server.shutdown()
        server.server_close()
    assert (driver['Detected'], driver['Healthy'], driver['HealthDescription']) == (True, True, 'Healthy')
    assert attrs['driver.docker'] == '1' and attrs['driver.docker.version'] == '20.10.24+dfsg1'
    assert driver['Attributes']['driver.docker'] == 'true'


def test_image_tags():
    assert client._image_with_tag('hashicorp/http-echo') == 'hashicorp/http-echo:latest'
    assert client._image_with_tag('hashicorp/http-echo:0.2.3') == 'hashicorp/http-echo:0.2.3'
    assert client._image_with_tag('127.0.0.1:5000/http-echo') == '127.0.0.1:5000/http-echo:latest'


def test_the_seeds_task_becomes_docker_run_with_its_port_mapped():
    with open(os.path.join(ROOT, 'examples', 'httpecho.nomad')) as handle:
        job = parse_jobspec(handle.read(), 'httpecho.nomad')
    alloc = {'ID': '5d1f3a6e-0000-4000-8000-000000000001', 'Name': 'httpecho.web[1]', 'TaskGroup': 'web', 'Job': job,
             'TaskResources': {'server': {'Networks': [{'IP': '10.89.64.2', 'MBits': 250, 'ReservedPorts': None,
                                                        'DynamicPorts': [{'Label': 'http', 'Value': 23116}]}]}}}
    runner = client.AllocRunner(None, alloc)
    task = job['TaskGroups'][0]['Tasks'][0]
    env = {'HOME': '/root', 'NOMAD_PORT_http': '23116', 'NOMAD_ALLOC_ID': alloc['ID']}
    argv = runner._docker_argv(task, env, ['-text', 'hello world'])
    assert argv[:5] == ['docker', 'run', '--rm', '--name', 'server-' + alloc['ID']]
    # 0.9.1 always pulls an image tagged latest, as an untagged one is.
    assert argv[5:7] == ['--pull', 'always']
    assert '10.89.64.2:23116:5678/tcp' in argv and '10.89.64.2:23116:5678/udp' in argv
    assert 'NOMAD_ALLOC_ID=' + alloc['ID'] in argv and not any(a.startswith('HOME=') for a in argv)
    assert argv[-3:] == ['hashicorp/http-echo:latest', '-text', 'hello world']
