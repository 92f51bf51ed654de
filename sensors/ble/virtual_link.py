"""A virtual Bluetooth radio link between processes: bumble controllers behind local TCP ports.

``psoas virtual-link --port 9000 --port 9001`` runs one virtual controller per port on a shared
bumble ``LocalLink``; each process then reaches "its" controller with the adapter
``bumble:tcp-client:127.0.0.1:<port>``, exactly as it would drive a USB dongle. Only 127.0.0.1 is
ever bound.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

from bumble.controller import Controller
from bumble.link import LocalLink
from bumble.transport import open_transport

HOST = "127.0.0.1"


@contextlib.asynccontextmanager
async def virtual_link(ports: Sequence[int]) -> AsyncIterator[list[str]]:
    """Serve one controller per port on one link; yields the adapters clients should use."""
    link = LocalLink()
    transports = []
    try:
        for index, port in enumerate(ports):
            transport = await open_transport(f"tcp-server:{HOST}:{port}")
            transports.append(transport)
            Controller(
                f"psoas-virtual-{index}",
                host_source=transport.source,
                host_sink=transport.sink,
                link=link,
            )
        yield [f"bumble:tcp-client:{HOST}:{port}" for port in ports]
    finally:
        for transport in transports:
            await transport.close()


async def serve_virtual_link(ports: Sequence[int]) -> None:
    """Run the link until cancelled (Ctrl-C)."""
    async with virtual_link(ports):
        await asyncio.Event().wait()
