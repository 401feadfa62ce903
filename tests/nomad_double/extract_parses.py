# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Regenerate parses-0.9.1.json and parses-1.1.0.json: what a real Nomad made
of each job text it was recorded parsing, by the text's SHA-256.

The double does not parse job files itself: it answers ``/v1/jobs/parse``
and reads ``nomad job run FILE`` with these recorded results, so a test on the
double never runs the collection's own parsers (those are tested against the
same recordings directly). Run it again when the recordings change:

    python tests/nomad_double/extract_parses.py

Sources, all under tests/recordings/nomad-<version>/:

- 0.9.1 (HCL1): the ``/v1/jobs/parse`` exchanges of ``transcripts/api/``;
  ``transcripts/configs/jobs/NAME.nomad`` with ``jobs-json/NAME.json`` (its
  ``/v1/jobs/parse`` output); ``httpecho.nomad`` with ``httpecho.json``.
- 1.1.0 (HCL2 by default, HCL1 with ``hclv1``): the ``/v1/jobs/parse``
  exchanges of ``transcripts/api/`` and ``jobspec-api-parse/``; the
  transcripts' job files with their JSON; ``jobspec/NAME.hcl`` that take no
  ``-var``, with ``nomad job run -output``'s ``jobspec-reference/NAME.json``
  (and ``NAME.hcl1.json`` for HCL1), which equal the API's answer.

A key is ``DIALECT:CANONICALIZE:SHA256``; a value is the job, or the status
and body of the error. Two sources that disagree on one key stop the script.
"""
import glob
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RECORDINGS = os.path.join(os.path.dirname(HERE), 'recordings')


def key(dialect, canonicalize, text):
    return '%s:%d:%s' % (dialect, 1 if canonicalize else 0, hashlib.sha256(text.encode('utf-8')).hexdigest())


class Table(object):
    def __init__(self):
        self.entries = {}
        self.sources = {}

    def add(self, k, value, source):
        if k in self.entries and self.entries[k] != value:
            sys.exit('%s and %s disagree on %s' % (self.sources[k], source, k))
        self.entries[k] = value
        self.sources.setdefault(k, source)


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def exchanges(table, pattern, one_x):
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding='utf-8') as f:
            ex = json.load(f)
        req = ex['request']
        body = req.get('body')
        if req.get('method') != 'POST' or req.get('path') != '/v1/jobs/parse' or not isinstance(body, dict):
            continue
        text = body.get('JobHCL') or ''
        if not text:
            continue
        resp = ex['response']
        # A refusal before parsing (ACL) says nothing of the job.
        if resp['status'] in (401, 403):
            continue
        dialect = 'hcl1' if (not one_x or body.get('hclv1')) else 'hcl2'
        value = {'Job': resp['body']} if resp['status'] == 200 else {'Status': resp['status'], 'Error': resp['body']}
        table.add(key(dialect, body.get('Canonicalize'), text), value, os.path.relpath(path, RECORDINGS))


def pairs(table, jobs_dir, json_dir, dialect):
    for path in sorted(glob.glob(os.path.join(jobs_dir, '*.nomad'))):
        ref = os.path.join(json_dir, os.path.basename(path)[:-len('.nomad')] + '.json')
        if os.path.exists(ref):
            with open(ref, encoding='utf-8') as f:
                job = json.load(f)
            table.add(key(dialect, False, read(path)), {'Job': job.get('Job', job)}, os.path.relpath(ref, RECORDINGS))


def parses_091():
    base = os.path.join(RECORDINGS, 'nomad-0.9.1')
    table = Table()
    exchanges(table, os.path.join(base, 'transcripts', 'api', '*.json'), one_x=False)
    pairs(table, os.path.join(base, 'transcripts', 'configs', 'jobs'),
          os.path.join(base, 'transcripts', 'configs', 'jobs-json'), 'hcl1')
    with open(os.path.join(base, 'httpecho.json'), encoding='utf-8') as f:
        table.add(key('hcl1', False, read(os.path.join(base, 'httpecho.nomad'))), {'Job': json.load(f)['Job']},
                  'nomad-0.9.1/httpecho.json')
    return table.entries


def parses_110():
    base = os.path.join(RECORDINGS, 'nomad-1.1.0')
    table = Table()
    exchanges(table, os.path.join(base, 'transcripts', 'api', '*.json'), one_x=True)
    exchanges(table, os.path.join(base, 'jobspec-api-parse', '*.json'), one_x=True)
    pairs(table, os.path.join(base, 'transcripts', 'configs', 'jobs'),
          os.path.join(base, 'transcripts', 'configs', 'jobs-json'), 'hcl2')
    refs = os.path.join(base, 'jobspec-reference')
    for path in sorted(glob.glob(os.path.join(base, 'jobspec', '*.hcl'))):
        name = os.path.basename(path)[:-len('.hcl')]
        if os.path.exists(os.path.join(base, 'jobspec', name + '.vars.json')):
            continue  # the API takes no variables: its answer differs from the CLI's
        for suffix, dialect in (('.json', 'hcl2'), ('.hcl1.json', 'hcl1')):
            ref = os.path.join(refs, name + suffix)
            if os.path.exists(ref):
                with open(ref, encoding='utf-8') as f:
                    table.add(key(dialect, False, read(path)), {'Job': json.load(f)['Job']},
                              os.path.relpath(ref, RECORDINGS))
    return table.entries


def write(name, entries):
    out = os.path.join(HERE, name)
    with open(out, 'w', encoding='utf-8') as f:
        f.write(json.dumps(entries, indent=1, sort_keys=True) + '\n')
    print('wrote %s: %d parses' % (out, len(entries)))


def main():
    write('parses-0.9.1.json', parses_091())
    write('parses-1.1.0.json', parses_110())


if __name__ == '__main__':
    main()
