# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time parse_jobspec per job file over the corpus; print median and max.

The corpus is every job file Nomad 0.9.1 accepted in the shared recordings
(jobspec/, httpecho.nomad, transcripts/configs/jobs/) plus the unit tests'
own fixtures. Each file is parsed --repeat times and its best time kept, so
a busy machine inflates the figures less. Target: median <= 10 ms.

    python bench/jobspec.py [--repeat 20] [--shared DIR]
"""

import argparse
import glob
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'collections'))

from ansible_collections.nomadops.nomad.plugins.module_utils.jobspec import (  # noqa: E402
    JobspecError,
    parse_jobspec,
)

TARGET_MEDIAN_MS = 10.0


def corpus(shared):
    files = sorted(glob.glob(os.path.join(shared, 'jobspec', '*.hcl')))
    files.append(os.path.join(shared, 'httpecho.nomad'))
    files += sorted(glob.glob(os.path.join(shared, 'transcripts', 'configs', 'jobs', '*.nomad')))
    files += sorted(glob.glob(os.path.join(ROOT, 'tests', 'unit', 'plugins', 'module_utils', 'fixtures',
                                           'jobspec', '*.hcl')))
    return [f for f in files if os.path.exists(f)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=20)
    parser.add_argument('--shared', default=os.environ.get('NOMAD_SHARED_DIR')
                        or os.path.join(ROOT, '..', 'shared', 'nomad-0.9.1'))
    args = parser.parse_args()

    rows = []
    for path in corpus(args.shared):
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
        name = os.path.basename(path)
        best = None
        outcome = 'ok'
        for _attempt in range(args.repeat):
            start = time.perf_counter()
            try:
                parse_jobspec(text, name)
            except JobspecError:
                outcome = 'rejected'
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
        rows.append((name, len(text), best * 1000.0, outcome))

    if not rows:
        print('no job files found (shared dir: %s)' % args.shared)
        return 1
    width = max(len(r[0]) for r in rows)
    print('%-*s %8s %10s  %s' % (width, 'file', 'bytes', 'ms', 'result'))
    for name, size, ms, outcome in rows:
        print('%-*s %8d %10.3f  %s' % (width, name, size, ms, outcome))
    times = [r[2] for r in rows]
    median = statistics.median(times)
    print()
    print('files: %d  repeat: %d (best of)' % (len(rows), args.repeat))
    print('median: %.3f ms  max: %.3f ms  (target: median <= %.0f ms: %s)'
          % (median, max(times), TARGET_MEDIAN_MS, 'met' if median <= TARGET_MEDIAN_MS else 'MISSED'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
