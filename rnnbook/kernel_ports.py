"""Start Jupyter kernels on ports that no other process is about to take (build/test machinery).

jupyter_client gives a new kernel five TCP ports by binding port 0 and closing the socket; the
kernel binds them a moment later. Port 0 draws from the system's *ephemeral* range, the same
range every outgoing TCP connection (every ZMQ client of every other kernel) takes its local port
from. When many kernels start at once (the book build beside nbval beside other tests), one of
those connections sometimes grabs a port in between, and the kernel dies with ``ZMQError:
Address already in use`` ("Kernel died before replying to kernel_info").

:func:`install` makes jupyter_client draw kernel ports at random from just below the ephemeral
range, which outgoing connections never use, checking each is free. Called by the book build's
Sphinx extension and by tests/conftest.py; Jupyter, Binder and Colab never load it.
"""

from __future__ import annotations

import random
import socket

_LOW = 20000
_rng = random.SystemRandom()


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default; macOS's range starts at 49152


def install() -> bool:
    """Patch ``jupyter_client``'s port choice; returns False when jupyter_client lacks the hook."""
    try:
        from jupyter_client.connect import LocalPortCache
    except ImportError:
        return False
    if getattr(LocalPortCache.find_available_port, "_rnnbook", False):
        return True
    high = max(_LOW + 1000, _ephemeral_low()) - 1

    def find_available_port(self, ip: str) -> int:
        for _ in range(1000):
            port = _rng.randint(_LOW, high)
            if port in self.currently_used_ports:
                continue
            with socket.socket() as sock:
                try:
                    sock.bind((ip, port))
                except OSError:
                    continue  # taken: draw another
            self.currently_used_ports.add(port)
            return port
        raise RuntimeError(f"no free TCP port found in [{_LOW}, {high}] for a kernel")

    find_available_port._rnnbook = True
    LocalPortCache.find_available_port = find_available_port
    return True
