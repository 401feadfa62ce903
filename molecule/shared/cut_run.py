# Copyright: the nomadops.nomad authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a command and cut it off where an operator's Ctrl-C, a lost
controller or a killed process would: at the Nth output line that matches a
pattern, SIGKILL goes to the command's whole process group (ansible-playbook
and every worker and connection it forked), so nothing gets to clean up.

    cut_run.py --at 'TASK \\[.*: Restart nomad on' --nth 2 --log LOG -- ansible-playbook ...

Ansible prints a task's banner before it runs the task, so cutting at a
banner leaves everything before that task done and nothing of it. Exits 0
once it cut, 1 when the command ended before the cut point (the run did not
take the path the scenario expected), printing the output's tail.
"""

import argparse
import os
import re
import signal
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--at', required=True, help='regular expression an output line must match')
    parser.add_argument('--nth', type=int, default=1, help='cut at the Nth matching line')
    parser.add_argument('--log', required=True, help='where the output goes')
    parser.add_argument('command', nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ['--'] else args.command
    pattern = re.compile(args.at)
    env = dict(os.environ, PYTHONUNBUFFERED='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_NOCOLOR='1')
    seen = 0
    lines = []
    with open(args.log, 'w') as log:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, text=True, bufsize=1)
        for line in proc.stdout:
            log.write(line)
            log.flush()
            lines.append(line)
            if pattern.search(line):
                seen += 1
                if seen == args.nth:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    log.write('--- cut off here (SIGKILL to the process group) ---\n')
                    print('cut off at: %s' % line.strip())
                    return 0
        proc.wait()
    sys.stdout.write(''.join(lines[-60:]))
    print('the command ended (rc %d) before line %d matching %r: nothing was cut off'
          % (proc.returncode, args.nth, args.at))
    return 1


if __name__ == '__main__':
    sys.exit(main())
