# -*- coding: utf-8 -*-
# Copyright (c) nomadops.nomad contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time parse_jobspec per job file over the corpus; print median and max.

The corpus is every job file Nomad 0.9.1 accepted in its recordings
(httpecho.nomad, transcripts/configs/jobs/; Nomad's own jobspec test files
too when NOMAD_SOURCE_0_9_1 names a checkout of Nomad v0.9.1) plus the unit
tests' own fixtures. Each file is parsed --repeat times and its best time kept, so
a busy machine inflates the figures less. Target: median <= 10 ms.

A second section times parse_hcl2_jobspec (Nomad 1.x HCL2 job files) over
the files Nomad 1.1.0 accepted in tests/recordings/nomad-1.1.0/jobspec/, with their
recorded -var values, the same way and with the same target. The parser is
built once per process before timing, as it is in a plugin.

    python bench/jobspec.py [--repeat 20] [--shared DIR] [--shared-1x DIR]
"""

import argparse
import glob
import json
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


def time_best(func, repeat):
    """The best of ``repeat`` runs of func(), in ms, and whether it raised JobspecError."""
    best, outcome = None, 'ok'
    for _attempt in range(repeat):
        start = time.perf_counter()
        try:
            func()
        except JobspecError:
            outcome = 'rejected'
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best * 1000.0, outcome


def report(rows, repeat):
    width = max(len(r[0]) for r in rows)
    print('%-*s %8s %10s  %s' % (width, 'file', 'bytes', 'ms', 'result'))
    for name, size, ms, outcome in rows:
        print('%-*s %8d %10.3f  %s' % (width, name, size, ms, outcome))
    times = [r[2] for r in rows]
    median = statistics.median(times)
    print()
    print('files: %d  repeat: %d (best of)' % (len(rows), repeat))
    print('median: %.3f ms  max: %.3f ms  (target: median <= %.0f ms: %s)'
          % (median, max(times), TARGET_MEDIAN_MS, 'met' if median <= TARGET_MEDIAN_MS else 'MISSED'))


def hcl2_corpus(shared):
    """(path, -var values) of the HCL2 files Nomad 1.1.0 accepted."""
    out = []
    for path in sorted(glob.glob(os.path.join(shared, 'jobspec', '*.hcl'))):
        name = os.path.basename(path)[:-len('.hcl')]
        if not os.path.exists(os.path.join(shared, 'jobspec-reference', name + '.json')):
            continue
        variables = None
        vars_path = path[:-len('.hcl')] + '.vars.json'
        if os.path.exists(vars_path):
            with open(vars_path, encoding='utf-8') as handle:
                variables = json.load(handle)
        out.append((path, variables))
    return out


def bench_hcl2(shared, repeat):
    try:
        from ansible_collections.nomadops.nomad.plugins.plugin_utils.jobspec_hcl2 import parse_hcl2_jobspec
    except ImportError as exc:
        print('HCL2: skipped (%s; install python-hcl2)' % exc)
        return 0
    files = hcl2_corpus(shared)
    if not files:
        print('HCL2: no job files found (shared dir: %s)' % shared)
        return 0
    start = time.perf_counter()
    with open(files[0][0], encoding='utf-8') as handle:
        parse_hcl2_jobspec(handle.read(), os.path.basename(files[0][0]), variables=files[0][1])
    print('HCL2 (Nomad 1.x job files): parser built and first file parsed in %.0f ms'
          % ((time.perf_counter() - start) * 1000.0))
    rows = []
    for path, variables in files:
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
        name = os.path.basename(path)
        ms, outcome = time_best(lambda: parse_hcl2_jobspec(text, name, variables=variables), repeat)
        rows.append((name, len(text), ms, outcome))
    report(rows, repeat)
    return 0


def corpus(shared):
    source = os.environ.get('NOMAD_SOURCE_0_9_1')
    files = sorted(glob.glob(os.path.join(source, 'jobspec', 'test-fixtures', '*.hcl'))) if source else []
    files.append(os.path.join(shared, 'httpecho.nomad'))
    files += sorted(glob.glob(os.path.join(shared, 'transcripts', 'configs', 'jobs', '*.nomad')))
    files += sorted(glob.glob(os.path.join(ROOT, 'tests', 'unit', 'plugins', 'module_utils', 'fixtures',
                                           'jobspec', '*.hcl')))
    return [f for f in files if os.path.exists(f)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=20)
    parser.add_argument('--shared', default=os.path.join(ROOT, 'tests', 'recordings', 'nomad-0.9.1'))
    parser.add_argument('--shared-1x', default=os.path.join(ROOT, 'tests', 'recordings', 'nomad-1.1.0'))
    args = parser.parse_args()

    rows = []
    for path in corpus(args.shared):
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
        name = os.path.basename(path)
        ms, outcome = time_best(lambda: parse_jobspec(text, name), args.repeat)
        rows.append((name, len(text), ms, outcome))

    if not rows:
        print('no job files found (shared dir: %s)' % args.shared)
        return 1
    print('HCL1 (Nomad 0.9 job files):')
    report(rows, args.repeat)
    print()
    return bench_hcl2(args.shared_1x, args.repeat)


if __name__ == '__main__':
    sys.exit(main())
