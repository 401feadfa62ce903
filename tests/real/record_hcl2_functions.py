# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record what a real Nomad CLI makes of the job files that call the HCL2
functions the evaluator implements (time, YAML and filesystem functions).

    python tests/real/record_hcl2_functions.py NOMAD_BINARY

For each ``*.hcl`` in ``tests/unit/plugins/plugin_utils/fixtures/hcl2_functions``
it runs ``nomad job run -output NAME.hcl`` from that directory (the CLI's
base directory for ``file()`` and the others is its working directory), with
no ``NOMAD_*`` variables and HOME set to that directory. An accepted file's
output goes to ``NAME.json`` (sorted keys, 2-space indent), a rejected one's
stderr, byte for byte, to ``NAME.error.txt``. ``VERSION`` records the
binary's ``nomad version``. No agent is needed.
"""

import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, 'tests', 'unit', 'plugins', 'plugin_utils', 'fixtures', 'hcl2_functions')


def record(binary):
    env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': FIXTURES}
    version = subprocess.run([binary, 'version'], capture_output=True, text=True, check=True).stdout
    with open(os.path.join(FIXTURES, 'VERSION'), 'w', encoding='utf-8') as handle:
        handle.write(version)
    for stale in glob.glob(os.path.join(FIXTURES, '*.json')) + glob.glob(os.path.join(FIXTURES, '*.error.txt')):
        os.remove(stale)
    for path in sorted(glob.glob(os.path.join(FIXTURES, '*.hcl'))):
        name = os.path.basename(path)[:-len('.hcl')]
        proc = subprocess.run([binary, 'job', 'run', '-output', name + '.hcl'], cwd=FIXTURES, env=env,
                              capture_output=True, check=False)
        if proc.returncode == 0:
            with open(os.path.join(FIXTURES, name + '.json'), 'w', encoding='utf-8') as handle:
                json.dump(json.loads(proc.stdout), handle, indent=2, sort_keys=True, ensure_ascii=False)
                handle.write('\n')
        else:
            with open(os.path.join(FIXTURES, name + '.error.txt'), 'wb') as handle:
                handle.write(proc.stderr)
        print('%s: exit %d' % (name, proc.returncode))


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: record_hcl2_functions.py NOMAD_BINARY')
    record(sys.argv[1])
