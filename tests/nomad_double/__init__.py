# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A test double of Nomad 0.9.1 (CLI, HTTP API, cluster), for tests only."""
