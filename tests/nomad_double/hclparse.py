# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HCL1 text (agent configs, ACL policy rules) read with pyhcl, a parser
that is neither Nomad's nor the collection's, so the double cannot agree
with the collection's parser by construction.

pyhcl's syntax errors are worded its own way. Two kinds recorded from the
real releases (tests/recordings/nomad-*/agent_config.json, ``syntax``) get
Nomad's words and position: a block left open at the end of the text, and an
illegal character; every other one keeps pyhcl's words.
"""

import re

import hcl as pyhcl

from .util import IS_1X


class SyntaxErr(Exception):
    """``message``: HCL's words without a position; ``line``/``column``: where, or None."""

    def __init__(self, message, line=None, column=None):
        super(SyntaxErr, self).__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def positioned(self):
        """'At L:C: message' as Go's HCL1 writes it (the message alone without a position)."""
        if self.line is None:
            return self.message
        return 'At %d:%d: %s' % (self.line, self.column, self.message)


def loads(text):
    """The decoded document (dict), or SyntaxErr."""
    try:
        doc = pyhcl.loads(text)
    except ValueError as e:
        raise _syntax_error(str(e), text)
    if not isinstance(doc, dict):
        raise SyntaxErr('root should be an object')
    return doc


def _syntax_error(said, text):
    if said.startswith('Unexpected end of file; expected RIGHTBRACE'):
        # Recorded (agent cli/42, cli/86; ACL policies): "object expected
        # closing RBRACE got: EOF", placed by 1.x on the line after the last
        # one, column 2 (0.9.1 gives no position).
        err = SyntaxErr('object expected closing RBRACE got: EOF')
        if IS_1X:
            err.line, err.column = text.count('\n') + 1, len(text.rsplit('\n', 1)[-1]) + 2
        return err
    # pyhcl's lexer counts columns from 0, Go's HCL from 1.
    m = re.match(r'^Line (\d+), column (\d+), index \d+: (.*)$', said, re.S)
    if m:
        words = 'illegal char' if m.group(3).startswith('Illegal character') else m.group(3)
        return SyntaxErr(words, int(m.group(1)), int(m.group(2)) + 1)
    return SyntaxErr(said)
