# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make `ansible_collections.nomadops.nomad` importable from a checkout
(collections/ holds a symlink back to the repo root) and expose the shared
test helpers in this directory."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

for path in (os.path.join(ROOT, 'collections'), HERE):
    if path not in sys.path:
        sys.path.insert(0, path)
