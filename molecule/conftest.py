# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the scenarios' verify tests share: running Ansible against the
scenario's own inventory, as an operator would from the controller.

Outside `molecule verify` there is no inventory, so the tests that need one
skip instead of failing.
"""

import json
import os
import subprocess
import tempfile

import pytest


def _molecule_path(variable):
    value = os.environ.get(variable)
    if not value:
        pytest.skip("%s is not set: run through molecule verify" % variable)
    return value


def _run(argv, timeout, env=None):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, check=False)


class Scenario:
    """The running scenario, seen from the controller."""

    @staticmethod
    def playbook(playbook, *options, timeout=600):
        """ansible-playbook on the scenario's inventory. `playbook` is YAML
        text, or the name of a playbook file in the scenario directory."""
        inventory = _molecule_path("MOLECULE_INVENTORY_FILE")
        if "\n" not in playbook:
            path = os.path.join(_molecule_path("MOLECULE_SCENARIO_DIRECTORY"), playbook)
            return _run(["ansible-playbook", *options, "-i", inventory, path], timeout)
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as handle:
            handle.write(playbook)
        try:
            return _run(["ansible-playbook", *options, "-i", inventory, handle.name], timeout)
        finally:
            os.unlink(handle.name)

    @staticmethod
    def adhoc(pattern, module, args):
        """`ansible PATTERN -m MODULE -a ARGS`: the process and each host's result."""
        inventory = _molecule_path("MOLECULE_INVENTORY_FILE")
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
        proc = _run(["ansible", pattern, "-i", inventory, "-m", module, "-a", args], 600, env)
        try:
            data = json.loads(proc.stdout[proc.stdout.index("{"):])
            return proc, data["plays"][0]["tasks"][0]["hosts"]
        except (ValueError, KeyError, IndexError):
            raise AssertionError("unreadable ansible output (rc %d):\n%s\n%s"
                                 % (proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))


@pytest.fixture(scope="session")
def scenario():
    return Scenario()
