# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m nomad_double ...`` behaves as the ``nomad`` binary."""
import sys

from nomad_double.cli import main

sys.exit(main())
