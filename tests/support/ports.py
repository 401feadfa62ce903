# Copyright: (c) 2026, nomadops contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loopback ports for agents that tests start."""

import random
import socket

# Below Linux's ephemeral range (32768-60999 by default): a port the kernel
# handed out with port 0 could be taken as the source port of any outgoing
# connection between the choice and the agent's bind, and that agent would
# then fail to start.
LOW, HIGH = 20000, 32000


def free_ports(n):
    """``n`` distinct ports on 127.0.0.1 that nothing listens on now."""
    ports = []
    while len(ports) < n:
        port = random.randint(LOW, HIGH)
        if port in ports:
            continue
        sock = socket.socket()
        try:
            sock.bind(('127.0.0.1', port))
        except OSError:
            continue
        finally:
            sock.close()
        ports.append(port)
    return ports
