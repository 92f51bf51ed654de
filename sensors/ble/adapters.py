"""Which Bluetooth stack the collector uses: the ``--adapter`` string.

- no ``--adapter`` (``None``, ``""`` or ``"default"``): bleak's backend for the operating system
  (BlueZ, CoreBluetooth, WinRT); both backend classes are ``None`` and bleak picks them.
- ``bumble:<transport>``: psoas's bumble backend (:mod:`sensors.ble.bumble_backend`) driving the
  HCI controller behind any bumble transport - ``bumble:usb:0``, ``bumble:serial:/dev/ttyACM0``,
  ``bumble:tcp-client:127.0.0.1:9000`` (a virtual controller served by ``psoas virtual-link``).
- ``bumble:link:<name>``: a virtual controller created in this process on the process-wide bumble
  ``LocalLink`` called ``<name>``; a virtual wearable in the same process attaches its own
  controller to :func:`local_link` ``(name)`` and the two exchange real packets. The demo and
  most tests run this way.

Everything above stays plain bleak API; the adapter only chooses the backend classes::

    adapter = parse_adapter(args.adapter)
    await BleakScanner.discover(backend=adapter.scanner_backend)
    BleakClient(device, backend=adapter.client_backend)

How the bumble backend classes find their host stack: bleak instantiates a backend class itself
with fixed arguments, so :func:`parse_adapter` makes per-adapter subclasses (with ``type(...)``)
that carry the adapter's :class:`~sensors.ble.bumble_backend.BumbleAdapter` as a class
attribute. All scanners and clients of one :class:`BleAdapter` therefore share one bumble
``Device`` (one static random address), powered on once - lazily by the first scan or connect,
or explicitly with :meth:`BleAdapter.open`. Each :func:`parse_adapter` call makes a new stack:
parse once per run (and per asyncio event loop) and share the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bleak.backends.client import BaseBleakClient
from bleak.backends.scanner import BaseBleakScanner
from bumble.link import LocalLink

from sensors.ble.bumble_backend import (
    TRANSPORT_SCHEMES,
    BleakClientBumble,
    BleakScannerBumble,
    BumbleAdapter,
)
from sensors.ble.bumble_backend import local_link as _local_link
from sensors.errors import UsageError

_EXAMPLES = (
    "bumble:usb:0, bumble:serial:/dev/ttyACM0, bumble:tcp-client:127.0.0.1:9000 or bumble:link:demo"
)
_SCHEME_EXAMPLES = {
    "usb": "bumble:usb:0 (first USB dongle) or bumble:usb:2fe3:000b (vendor:product)",
    "pyusb": "bumble:pyusb:0",
    "serial": "bumble:serial:/dev/ttyACM0 or bumble:serial:/dev/ttyUSB0,1000000",
    "tcp-client": "bumble:tcp-client:127.0.0.1:9000",
    "tcp-server": "bumble:tcp-server:127.0.0.1:9000",
    "udp": "bumble:udp:0.0.0.0:9000,127.0.0.1:9001",
    "ws-client": "bumble:ws-client:ws://127.0.0.1:7681",
    "ws-server": "bumble:ws-server:127.0.0.1:7681",
    "unix": "bumble:unix:/tmp/hci.sock",
    "unix-client": "bumble:unix-client:/tmp/hci.sock",
    "unix-server": "bumble:unix-server:/tmp/hci.sock",
    "file": "bumble:file:/dev/hci_device",
}
_LINK_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_DEFAULT_SPECS = ("", "default")


@dataclass
class BleAdapter:
    """A parsed ``--adapter``: the bleak backend classes to use, and the stack behind them.

    Attributes:
        spec: the adapter string as given (``""`` for the OS default).
        scanner_backend: pass as ``BleakScanner(backend=...)``; ``None`` = bleak's default.
        client_backend: pass as ``BleakClient(backend=...)``; ``None`` = bleak's default.
        bumble: the bumble host stack for ``bumble:`` adapters, else ``None``.
    """

    spec: str
    scanner_backend: type[BaseBleakScanner] | None
    client_backend: type[BaseBleakClient] | None
    bumble: BumbleAdapter | None = None

    @property
    def is_default(self) -> bool:
        """Whether this is the operating system's own Bluetooth stack."""
        return self.bumble is None

    def __str__(self) -> str:
        return self.spec or "default (operating system Bluetooth)"

    async def open(self) -> None:
        """Power the bumble host stack on (once); a no-op for the OS default."""
        if self.bumble is not None:
            await self.bumble.open()

    async def close(self) -> None:
        """Disconnect everything and release the controller; a no-op for the OS default."""
        if self.bumble is not None:
            await self.bumble.close()

    async def __aenter__(self) -> BleAdapter:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def local_link(name: str) -> LocalLink:
    """The process-wide bumble ``LocalLink`` behind ``bumble:link:<name>``.

    A virtual peripheral attaches its controller with
    ``Controller("wearable", link=local_link(name))`` and is then reachable from
    ``parse_adapter(f"bumble:link:{name}")`` in the same process (and event loop).
    """
    return _local_link(name)


def parse_adapter(spec: str | None) -> BleAdapter:
    """Parse an ``--adapter`` string (see the module docstring for the forms).

    Raises:
        UsageError: the string names no known adapter form; the message lists the valid ones.
    """
    text = (spec or "").strip()
    if text.lower() in _DEFAULT_SPECS:
        return BleAdapter(spec="", scanner_backend=None, client_backend=None)
    if not text.startswith("bumble:"):
        raise UsageError(
            f"--adapter {text!r}: unknown adapter. Leave --adapter out to use the operating "
            f"system's Bluetooth (BlueZ, CoreBluetooth, WinRT), or give bumble:<transport>, "
            f"e.g. {_EXAMPLES}"
        )
    rest = text.removeprefix("bumble:")
    scheme, _, parameter = rest.partition(":")
    if not scheme:
        raise UsageError(f"--adapter {text!r}: bumble: needs a transport, e.g. {_EXAMPLES}")
    if scheme == "link":
        if not _LINK_NAME.fullmatch(parameter):
            raise UsageError(
                f"--adapter {text!r}: a link adapter needs a name of letters, digits, '.', '_' "
                "or '-', e.g. bumble:link:demo"
            )
        stack = BumbleAdapter(text, link=parameter)
    else:
        if scheme not in TRANSPORT_SCHEMES:
            known = ", ".join(["link", *sorted(TRANSPORT_SCHEMES)])
            raise UsageError(
                f"--adapter {text!r}: bumble has no transport {scheme!r}; use one of {known} "
                "(see https://google.github.io/bumble/transports/), e.g. " + _EXAMPLES
            )
        if TRANSPORT_SCHEMES[scheme] and not parameter:
            raise UsageError(
                f"--adapter {text!r}: the {scheme} transport needs a parameter, e.g. "
                f"{_SCHEME_EXAMPLES.get(scheme, _EXAMPLES)}"
            )
        if scheme in ("tcp-client", "tcp-server"):
            _check_host_port(text, scheme, parameter)
        stack = BumbleAdapter(text, transport=rest)
    return BleAdapter(
        spec=text,
        scanner_backend=BleakScannerBumble.bound_to(stack),
        client_backend=BleakClientBumble.bound_to(stack),
        bumble=stack,
    )


def _check_host_port(text: str, scheme: str, parameter: str) -> None:
    host, _, port = parameter.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(
            f"--adapter {text!r}: the {scheme} transport needs <host>:<port> with a port "
            f"between 1 and 65535, e.g. {_SCHEME_EXAMPLES[scheme]}"
        )
