"""One bumble host stack on one HCI transport: the "adapter" behind psoas's bumble bleak backend.

A :class:`BumbleAdapter` owns exactly one bumble :class:`~bumble.device.Device` (host stack with
a static random address) talking HCI to one controller, and everything that must be shared by
the scanners and clients of that controller:

- the host stack is powered on once, under a lock, however many scanners/clients use it;
- scanning is reference counted (two ``BleakScanner``\\ s on one adapter share one scan);
- LE connection attempts are serialised (a controller initiates one connection at a time);
- the addresses (with their public/random type) and names seen in advertisements, so a client
  given only an address string can connect.

The controller is either a real one behind a bumble transport (``usb:0``, ``serial:...``,
``tcp-client:host:port``; see :func:`bumble.transport.open_transport`), or - for ``link``
adapters - a bumble virtual :class:`~bumble.controller.Controller` created in this process and
attached to a process-wide named :class:`~bumble.link.LocalLink` (:func:`local_link`). Other code
in the same process (the virtual wearable, a test's GATT server) attaches its own controller to
the same link and the two stacks exchange real HCI, LL, L2CAP and ATT packets.

Why our own code rather than a library: bleak has no bumble backend (a third-party fork exists
but is not released) and bumble has no bleak adapter; this module is the small glue between
bumble's host API and bleak's backend contract.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from bleak.backends.scanner import AdvertisementData
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDeviceNotFoundError,
    BleakError,
)
from bumble import core, hci
from bumble.controller import Controller
from bumble.device import Advertisement, Connection, Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport import Transport, open_transport
from bumble.transport.common import AsyncPipeSink

from sensors.ble.bumble_backend._convert import address_string, advertisement_data

logger = logging.getLogger(__name__)

#: bumble transport schemes (``bumble.transport.open_transport``) and whether each needs a
#: parameter after the colon.
TRANSPORT_SCHEMES: dict[str, bool] = {
    "usb": True,
    "pyusb": True,
    "serial": True,
    "tcp-client": True,
    "tcp-server": True,
    "udp": True,
    "ws-client": True,
    "ws-server": True,
    "unix": True,
    "unix-client": True,
    "unix-server": True,
    "file": True,
    "pty": False,
    "vhci": False,
    "hci-socket": False,
    "android-emulator": False,
    "android-netsim": False,
}

#: LE ACL buffer size (bytes) our in-process virtual controllers announce to the host.
VIRTUAL_ACL_PACKET_LENGTH = 251

_ADDRESS = re.compile(r"(?P<address>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})(?P<public>/P)?")

_links: dict[str, LocalLink] = {}


def local_link(name: str) -> LocalLink:
    """The process-wide bumble ``LocalLink`` called ``name`` (created on first use).

    A virtual peripheral joins it with ``Controller("...", link=local_link(name))`` and is then
    reachable from the adapter ``bumble:link:<name>``.
    """
    link = _links.get(name)
    if link is None:
        link = _links[name] = LocalLink()
    return link


AdvertisementListener = Callable[[Advertisement, AdvertisementData], None]


class BumbleAdapter:
    """A bumble host stack on one controller, shared by every scanner and client of an adapter.

    Args:
        spec: the adapter string the user gave (``bumble:usb:0``), used in messages.
        transport: a bumble transport spec (``usb:0``); exclusive with ``link``.
        link: the name of an in-process :func:`local_link` to attach a virtual controller to.
        device_name: the GAP device name of our own stack.
        address: our static random address; a fresh one is generated when omitted.
        power_on_timeout_s: seconds the controller gets to answer the power-on HCI sequence.
    """

    def __init__(
        self,
        spec: str,
        *,
        transport: str | None = None,
        link: str | None = None,
        device_name: str = "psoas",
        address: hci.Address | None = None,
        power_on_timeout_s: float = 15.0,
    ) -> None:
        if (transport is None) == (link is None):
            raise ValueError("give exactly one of transport= or link=")
        self.spec = spec
        self.transport_spec = transport
        self.link_name = link
        self.device_name = device_name
        self.address = address or hci.Address.generate_static_address()
        self.power_on_timeout_s = power_on_timeout_s
        self._device: Device | None = None
        self._controller: Controller | None = None
        self._transport: Transport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._open_lock = asyncio.Lock()
        self._scan_lock = asyncio.Lock()
        self._connect_lock = asyncio.Lock()
        self._scan_users = 0
        self._listeners: dict[object, AdvertisementListener] = {}
        self._seen: dict[str, hci.Address] = {}
        self._stale_attempt: hci.Address | None = None
        self._names: dict[str, str] = {}

    def __repr__(self) -> str:
        state = "open" if self.is_open else "closed"
        return f"<BumbleAdapter {self.spec} {address_string(self.address)} {state}>"

    # -- life cycle --------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether the host stack is powered on."""
        return self._device is not None

    @property
    def device(self) -> Device:
        """The bumble ``Device`` (host stack); only while open."""
        if self._device is None:
            raise BleakError(f"adapter {self.spec} is not open; call open() first")
        return self._device

    @property
    def controller(self) -> Controller | None:
        """The in-process virtual controller of a ``link`` adapter, else ``None``."""
        return self._controller

    async def open(self) -> None:
        """Open the transport (or attach to the link) and power the host stack on, once."""
        self._check_loop()
        async with self._open_lock:
            if self._device is not None:
                return
            host = await self._open_host()
            device = Device(name=self.device_name, address=self.address, host=host)
            try:
                async with asyncio.timeout(self.power_on_timeout_s):
                    await device.power_on()
            except (TimeoutError, core.BaseBumbleError, hci.HCI_Error) as error:
                await self._release_transport()
                raise BleakBluetoothNotAvailableError(
                    f"adapter {self.spec}: the controller did not complete the HCI power-on "
                    f"sequence within {self.power_on_timeout_s:g} s ({error!r}); check that "
                    "it is a Bluetooth LE controller, that no other program (e.g. BlueZ) uses "
                    "it, and unplug/replug it",
                    BleakBluetoothNotAvailableReason.NO_BLUETOOTH,
                ) from error
            device.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
            device.on(Device.EVENT_CONNECTION, self._on_connection_outcome)
            device.on(Device.EVENT_CONNECTION_FAILURE, self._on_connection_outcome)
            self._device = device
            self._loop = asyncio.get_running_loop()
            source = self._transport.source if self._transport is not None else None
            terminated = getattr(source, "terminated", None)
            if isinstance(terminated, asyncio.Future):
                terminated.add_done_callback(lambda _: self._on_transport_lost(device))
            logger.debug("adapter %s open as %s", self.spec, address_string(self.address))

    async def close(self) -> None:
        """Disconnect, stop scanning, power off and release the transport or link slot."""
        async with self._open_lock:
            device = self._device
            if device is None:
                return
            self._device = None
            for connection in list(device.connections.values()):
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(2.0):
                        await connection.disconnect()
            if device.is_scanning:
                with contextlib.suppress(Exception):
                    await device.stop_scanning()
            self._scan_users = 0
            with contextlib.suppress(Exception):
                await device.power_off()
            device.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
            device.remove_listener(Device.EVENT_CONNECTION, self._on_connection_outcome)
            device.remove_listener(Device.EVENT_CONNECTION_FAILURE, self._on_connection_outcome)
            self._stale_attempt = None
            await self._release_transport()
            self._loop = None

    def _on_transport_lost(self, device: Device) -> None:
        """The HCI transport died (dongle unplugged, virtual-link server gone).

        bumble has already reported every connection as disconnected; forget the dead stack so
        that the next scan or connect opens the transport afresh (and says so if it cannot).
        """
        if self._device is not device:
            return
        logger.warning("adapter %s: the HCI transport was lost", self.spec)
        self._device = None
        self._scan_users = 0
        self._stale_attempt = None
        self._loop = None
        device.remove_listener(Device.EVENT_ADVERTISEMENT, self._on_advertisement)
        device.remove_listener(Device.EVENT_CONNECTION, self._on_connection_outcome)
        device.remove_listener(Device.EVENT_CONNECTION_FAILURE, self._on_connection_outcome)
        transport, self._transport = self._transport, None
        if transport is not None:
            with contextlib.suppress(Exception):
                transport.source.close()  # type: ignore[attr-defined]
            with contextlib.suppress(Exception):
                transport.sink.close()  # type: ignore[attr-defined]

    async def __aenter__(self) -> BumbleAdapter:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _open_host(self) -> Host:
        if self.link_name is not None:
            controller = Controller(f"psoas:{self.link_name}", link=local_link(self.link_name))
            # Model a BLE 5 controller with Data Length Extension: with bumble's default of
            # 27-byte ACL buffers the host splits every 247-byte ATT PDU into 10 fragments
            # and the in-process link gets ~4x slower.
            controller.le_acl_data_packet_length = VIRTUAL_ACL_PACKET_LENGTH
            self._controller = controller
            return Host(controller, AsyncPipeSink(controller))
        assert self.transport_spec is not None
        try:
            transport = await open_transport(self.transport_spec)
        except Exception as error:
            raise BleakBluetoothNotAvailableError(
                f"adapter {self.spec}: cannot open the HCI transport '{self.transport_spec}': "
                f"{error or type(error).__name__}; check that the controller is plugged in and "
                "that you may access it (USB: udev rules or libusb; serial: dialout group; "
                "tcp-client: is the server running?)",
                BleakBluetoothNotAvailableReason.NO_BLUETOOTH,
            ) from error
        self._transport = transport
        return Host(controller_source=transport.source, controller_sink=transport.sink)

    async def _release_transport(self) -> None:
        if self._controller is not None and self.link_name is not None:
            with contextlib.suppress(KeyError):
                local_link(self.link_name).remove_controller(self._controller)
            self._controller = None
        if self._transport is not None:
            with contextlib.suppress(Exception):
                await self._transport.close()
            self._transport = None

    def _check_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop:
            raise BleakError(
                f"adapter {self.spec} was opened in another asyncio event loop; a bumble stack "
                "belongs to one loop - create the adapter (parse_adapter) inside the loop that "
                "uses it"
            )

    # -- advertisements and scanning ---------------------------------------------------------

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        key = address_string(advertisement.address)
        self._seen[key] = advertisement.address
        adv = advertisement_data(advertisement)
        if adv.local_name:
            self._names[key] = adv.local_name
        for listener in list(self._listeners.values()):
            listener(advertisement, adv)

    def add_advertisement_listener(self, listener: AdvertisementListener) -> Callable[[], None]:
        """Call ``listener(advertisement, data)`` for every advertisement; returns a remover."""
        token = object()
        self._listeners[token] = listener

        def remove() -> None:
            self._listeners.pop(token, None)

        return remove

    def known_name(self, address: str) -> str | None:
        """The last local name advertised by ``address`` (``AA:BB:...``), if any."""
        return self._names.get(address.upper())

    async def start_scanning(self, *, active: bool = True) -> None:
        """Start scanning unless another scanner of this adapter already does."""
        await self.open()
        async with self._scan_lock:
            self._scan_users += 1
            if self._scan_users > 1:
                return
            try:
                await self.device.start_scanning(active=active, filter_duplicates=False)
            except (core.BaseBumbleError, hci.HCI_Error) as error:
                self._scan_users -= 1
                raise BleakError(f"adapter {self.spec}: cannot start scanning: {error}") from error

    async def stop_scanning(self) -> None:
        """Stop scanning when the last scanner of this adapter stops."""
        async with self._scan_lock:
            if self._scan_users == 0:
                return
            self._scan_users -= 1
            if self._scan_users == 0 and self._device is not None and self._device.is_scanning:
                try:
                    await self._device.stop_scanning()
                except (core.BaseBumbleError, hci.HCI_Error) as error:
                    raise BleakError(
                        f"adapter {self.spec}: cannot stop scanning: {error}"
                    ) from error

    # -- connections -------------------------------------------------------------------------

    def resolve_address(self, text: str) -> hci.Address:
        """The typed bumble address for an address string.

        ``AA:BB:CC:DD:EE:FF/P`` is a public address. Without the suffix, the type seen in an
        advertisement wins; an address never seen is taken as random when its two top bits are
        ``11`` (a static random address, what most wearables use) and as public otherwise.
        """
        match = _ADDRESS.fullmatch(text.strip())
        if match is None:
            raise BleakError(
                f"'{text}' is not a Bluetooth address; write it as AA:BB:CC:DD:EE:FF "
                "(add /P for a public address)"
            )
        address = match["address"].upper()
        if match["public"]:
            return hci.Address(address, hci.Address.PUBLIC_DEVICE_ADDRESS)
        if (seen := self._seen.get(address)) is not None:
            return seen
        static_random = int(address[:2], 16) >> 6 == 0b11
        kind = (
            hci.Address.RANDOM_DEVICE_ADDRESS
            if static_random
            else hci.Address.PUBLIC_DEVICE_ADDRESS
        )
        return hci.Address(address, kind)

    async def connect(self, address: hci.Address, timeout_s: float) -> Connection:
        """Open an LE connection to ``address`` as central, within ``timeout_s`` seconds.

        An existing connection of this stack to the same peer is returned as is (as BlueZ
        shares one connection between clients).

        Raises:
            BleakDeviceNotFoundError: nothing answered at that address in time.
            BleakError: the controller refused or failed the connection.
        """
        await self.open()
        device = self.device
        async with self._connect_lock:
            if (existing := self._connection_to(address)) is not None:
                return existing
            if self._stale_attempt is not None:
                # Never issue a second LE Create Connection while the controller may still
                # hold an unconfirmed one: bumble's virtual controller accepts it as soon as the
                # old one completes, and bumble's Device hands whichever connection completes
                # first to the caller - the wrong peer, or a ghost connection later.
                return await self._join_stale_attempt(address, timeout_s)
            try:
                return await asyncio.wait_for(
                    device.connect(address, transport=core.PhysicalTransport.LE, timeout=None),
                    timeout_s,
                )
            except TimeoutError:
                await self._abandon_connection(address)
                if (late := self._connection_to(address)) is not None:
                    return late  # it completed while the cancel was on its way
                raise self._not_found(address, timeout_s) from None
            except asyncio.CancelledError:
                await self._abandon_connection(address)
                if (late := self._connection_to(address)) is not None:
                    with contextlib.suppress(Exception):
                        async with asyncio.timeout(2.0):
                            await late.disconnect()
                raise
            except hci.HCI_Error as error:
                raise BleakError(
                    f"adapter {self.spec} could not start a connection to "
                    f"{address_string(address)}: {error}"
                ) from error
            except core.ConnectionError as error:
                raise BleakError(
                    f"connection to {address_string(address)} on adapter {self.spec} failed: "
                    f"{error.error_name}"
                ) from error
            except core.BaseBumbleError as error:
                raise BleakError(
                    f"adapter {self.spec} could not start a connection to "
                    f"{address_string(address)}: {error}"
                ) from error

    def _connection_to(self, address: hci.Address) -> Connection | None:
        return self.device.find_connection_by_bd_addr(address, transport=core.PhysicalTransport.LE)

    def _not_found(self, address: hci.Address, timeout_s: float) -> BleakDeviceNotFoundError:
        return BleakDeviceNotFoundError(
            address_string(address),
            f"{address_string(address)} did not answer a connection request within "
            f"{timeout_s:g} s on adapter {self.spec}; is the device advertising and in range "
            "(and not connected to another central)?",
        )

    def _on_connection_outcome(self, outcome: Connection | core.ConnectionError) -> None:
        stale = self._stale_attempt
        if stale is None:
            return
        if isinstance(outcome, Connection) and bytes(outcome.peer_address) != bytes(stale):
            return
        self._stale_attempt = None
        if self._device is not None:
            self._device.connect_own_address_type = None

    async def _abandon_connection(self, address: hci.Address) -> None:
        """Cancel a connection attempt at the controller after a timeout or cancellation."""
        device = self.device
        outcome: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def settle(*_: Any) -> None:
            if not outcome.done():
                outcome.set_result(None)

        # bumble's Device asserts that it knows its own address type when a connection it
        # initiated completes; after a cancelled connect() it has forgotten it, so a connection
        # completing late would be lost inside bumble. Keep it known while the attempt lives.
        device.connect_own_address_type = hci.OwnAddressType.RANDOM
        device.on(Device.EVENT_CONNECTION, settle)
        device.on(Device.EVENT_CONNECTION_FAILURE, settle)
        try:
            with contextlib.suppress(Exception):
                await device.send_sync_command(hci.HCI_LE_Create_Connection_Cancel_Command())
            if self._controller is not None:
                # bumble's virtual controller acknowledges the cancel but neither drops the
                # pending connection nor reports it cancelled (a real controller answers with
                # LE Connection Complete, status 0x02); without this the next connect is
                # refused with COMMAND_DISALLOWED and the old target could still be joined.
                self._controller.pending_le_connection = None
                settle()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(outcome), 1.0)
        finally:
            device.remove_listener(Device.EVENT_CONNECTION, settle)
            device.remove_listener(Device.EVENT_CONNECTION_FAILURE, settle)
        if outcome.done():
            device.connect_own_address_type = None
        else:
            # A remote bumble virtual controller (e.g. behind tcp-client) keeps the attempt
            # alive: it completes when the device advertises again. Remember it, so that the
            # next connect to the same device can take that connection over.
            self._stale_attempt = address
            logger.info(
                "adapter %s: the controller did not confirm cancelling the connection to %s",
                self.spec,
                address_string(address),
            )

    async def _join_stale_attempt(self, address: hci.Address, timeout_s: float) -> Connection:
        """Wait for the controller's unconfirmed earlier attempt when it targets ``address``."""
        stale = self._stale_attempt
        assert stale is not None
        if bytes(stale) != bytes(address):
            raise BleakError(
                f"adapter {self.spec}: cannot connect to "
                f"{address_string(address)}: the controller is still trying to reach "
                f"{address_string(stale)} from an earlier, timed-out connect (it never "
                "confirmed the cancel, as bumble's virtual controller does not); that attempt "
                f"completes when {address_string(stale)} advertises again - or restart the "
                "controller (psoas virtual-link) to clear it"
            )
        device = self.device
        joined: asyncio.Future[Connection] = asyncio.get_running_loop().create_future()

        def on_connection(connection: Connection) -> None:
            if bytes(connection.peer_address) == bytes(address) and not joined.done():
                joined.set_result(connection)

        device.connect_own_address_type = hci.OwnAddressType.RANDOM
        device.on(Device.EVENT_CONNECTION, on_connection)
        try:
            if (existing := self._connection_to(address)) is not None:
                return existing
            return await asyncio.wait_for(joined, timeout_s)
        except TimeoutError:
            raise self._not_found(address, timeout_s) from None
        finally:
            device.remove_listener(Device.EVENT_CONNECTION, on_connection)


def adapter_for(cls: type, args: Mapping[str, Any] | None) -> BumbleAdapter:
    """The adapter a backend instance uses: ``bumble={"adapter": ...}`` or its class's."""
    adapter = (args or {}).get("adapter") or getattr(cls, "bumble_adapter", None)
    if adapter is None:
        raise BleakError(
            f"{cls.__name__} has no bumble adapter: use the backend classes of "
            "sensors.ble.adapters.parse_adapter('bumble:...'), or pass "
            "bumble={'adapter': BumbleAdapter(...)}"
        )
    return adapter


_Backend = TypeVar("_Backend", bound=type)


def bound_subclass(cls: _Backend, adapter: BumbleAdapter) -> _Backend:
    """A subclass of backend ``cls`` whose instances use ``adapter`` (pass it as ``backend=``)."""
    return type(
        f"{cls.__name__}[{adapter.spec}]",
        (cls,),
        {"bumble_adapter": adapter, "__module__": cls.__module__},
    )
