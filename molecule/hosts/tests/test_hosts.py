# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test hosts boot systemd, see each other by name and nothing else."""

import pytest

HOSTS = ["nomad1", "nomad2", "nomad3"]
testinfra_hosts = HOSTS


def test_pid1_is_systemd(host):
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"


def test_no_failed_units(host):
    out = host.check_output("systemctl list-units --failed --plain --no-legend")
    assert out == ""


def test_hostname(host):
    assert host.check_output("hostname") == host.backend.get_hostname()


@pytest.mark.parametrize("peer", HOSTS)
def test_peer_reachable_by_name(host, peer):
    cmd = host.run("curl -sS -o /dev/null -w '%%{http_code}' -m 5 http://%s:8080/hostname", peer)
    assert cmd.rc == 0, cmd.stderr
    assert cmd.stdout == "200"


def test_outside_unreachable(host):
    # The network is internal: no default route, so no packet can leave it.
    assert host.check_output("ip -4 route show default") == ""
    assert host.run("ip -4 route get 203.0.113.1").rc != 0


def test_python_for_modules(host):
    assert host.run("python3 -c 'import requests'").rc == 0
