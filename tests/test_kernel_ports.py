"""rnnbook.kernel_ports: kernels get ports below the ephemeral range and still start."""

from __future__ import annotations

from jupyter_client.connect import LocalPortCache
from jupyter_client.manager import start_new_kernel

from rnnbook import kernel_ports


def test_ports_are_drawn_below_the_ephemeral_range_and_are_distinct():
    assert kernel_ports.install()  # idempotent: conftest installed it already
    assert kernel_ports.install()
    cache = LocalPortCache()
    ports = [cache.find_available_port("127.0.0.1") for _ in range(50)]
    low = kernel_ports._ephemeral_low()
    assert all(kernel_ports._LOW <= p < low for p in ports), ports
    assert len(set(ports)) == len(ports)
    for p in ports:
        cache.return_port(p)
    assert not cache.currently_used_ports


def test_a_kernel_starts_and_runs_code_on_those_ports():
    km, kc = start_new_kernel(kernel_name="python3", startup_timeout=60)
    try:
        assert all(p < kernel_ports._ephemeral_low() for p in km.ports)
        reply = kc.execute_interactive("x = 6 * 7", timeout=30)
        assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
