# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's own modules the double still reuses (never the other way
round): its agent-config reader. Job files are not among them: the double
answers with what a real Nomad made of each job text (util.recorded_parse),
so the collection's job parsers are tested only against Nomad's outputs.

In the built executable they are bundled under ``ansible_collections/``; in a
source checkout the committed ``collections/`` symlink tree provides them.
"""

import os
import sys

try:
    from ansible_collections.nomadops.nomad.plugins.module_utils import agent_config, hcl
except ImportError:
    _root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path.insert(0, os.path.join(_root, 'collections'))
    from ansible_collections.nomadops.nomad.plugins.module_utils import agent_config, hcl

__all__ = ['agent_config', 'hcl']
