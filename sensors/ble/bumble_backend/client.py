"""bleak client backend on a bumble host stack: ``BleakClient(..., backend=...)`` over bumble.

Connects as LE central through the :class:`~sensors.ble.bumble_backend.adapter.BumbleAdapter`,
asks for a large ATT MTU (517 by default), discovers all services, characteristics and
descriptors into bleak's :class:`~bleak.backends.service.BleakGATTServiceCollection` and runs
every GATT operation through bumble's GATT client. bumble's own errors are turned into the
bleak exceptions the OS backends raise (``BleakError``, ``BleakDeviceNotFoundError``,
``BleakGATTProtocolError``), so code above - the collector, bleak-retry-connector - cannot tell
this backend from BlueZ.

Behaviour worth knowing:

- The disconnected callback fires on every disconnection of an established connection - the
  peer dropping the link as well as :meth:`disconnect` - because that is what the BlueZ,
  CoreBluetooth and WinRT backends do (the base-class docstring says "unsolicited" only).
  It is scheduled with ``loop.call_soon``, never called from inside bumble's event dispatch.
- A characteristic that can both notify and indicate is subscribed for notifications, as bleak
  requires; ``start_notify(..., force_indicate=True)`` (WinRT's spelling) asks for indications.
- Pairing is not offered: psoas's wearable profiles need no bonding. ``pair``/``unpair`` raise
  ``BleakError`` and ``BleakClient(pair=True)`` logs a warning and connects unpaired, as the
  bleak contract asks of backends that cannot pair.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypedDict, TypeVar

from bleak.args import SizedBuffer
from bleak.assigned_numbers import gatt_char_props_to_strs
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError, BleakGATTProtocolError
from bleak.uuids import normalize_uuid_16
from bumble import att, core, hci
from bumble.device import Connection, Peer
from bumble.gatt_client import CharacteristicProxy

from sensors.ble.bumble_backend._convert import BumbleDeviceDetails, bleak_uuid
from sensors.ble.bumble_backend.adapter import BumbleAdapter, adapter_for, bound_subclass

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: The ATT MTU a central asks for by default: the largest the spec allows.
DEFAULT_ATT_MTU = 517
_CCCD = normalize_uuid_16(0x2902)
_DEVICE_NAME = normalize_uuid_16(0x2A00)


class BumbleClientArgs(TypedDict, total=False):
    """The ``bumble={...}`` keyword of ``BleakClient`` for this backend."""

    adapter: BumbleAdapter
    """The adapter to connect through, overriding the one bound to the backend class."""
    att_mtu: int
    """The ATT MTU to request after connecting (23..517; default 517)."""


class BleakClientBumble(BaseBleakClient):
    """bleak client backend on a :class:`BumbleAdapter`.

    bleak instantiates backend classes itself, so the adapter is found on the class
    (``bumble_adapter``, set on the per-adapter subclass made by :meth:`bound_to`) unless a
    ``bumble={"adapter": ...}`` keyword overrides it.

    Args:
        address_or_ble_device: a ``BLEDevice`` from a bumble scanner (carries the address type)
            or an address string (``AA:BB:CC:DD:EE:FF``, ``/P`` suffix for a public address).
        services: if given, only these service UUIDs are discovered.
        bumble: backend-specific arguments (:class:`BumbleClientArgs`).
        disconnected_callback, timeout: as for every bleak backend.
    """

    bumble_adapter: ClassVar[BumbleAdapter | None] = None

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        services: set[str] | None = None,
        *,
        bumble: BumbleClientArgs | None = None,
        **kwargs: Any,
    ) -> None:
        disconnected_callback = kwargs.pop("disconnected_callback", None)
        timeout = kwargs.pop("timeout", 10.0)
        super().__init__(
            address_or_ble_device,
            disconnected_callback=disconnected_callback,
            timeout=timeout,
            **kwargs,
        )
        args = bumble or {}
        self._adapter: BumbleAdapter = adapter_for(type(self), args)
        self._att_mtu = int(args.get("att_mtu", DEFAULT_ATT_MTU))
        if not att.ATT_DEFAULT_MTU <= self._att_mtu <= 517:
            raise BleakError(f"att_mtu must be between 23 and 517, not {self._att_mtu}")
        self._details: BumbleDeviceDetails | None = None
        self._name: str | None = None
        if isinstance(address_or_ble_device, BLEDevice):
            if isinstance(address_or_ble_device.details, BumbleDeviceDetails):
                self._details = address_or_ble_device.details
            self._name = address_or_ble_device.name
        self._address_text = self.address
        self.address = self.address.upper().removesuffix("/P")
        self._service_filter = services
        self._connection: Connection | None = None
        self._established = False
        self._last_mtu = att.ATT_DEFAULT_MTU
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    @classmethod
    def bound_to(cls, adapter: BumbleAdapter) -> type[BleakClientBumble]:
        """A subclass whose instances connect through ``adapter`` (pass it as ``backend=``)."""
        return bound_subclass(cls, adapter)

    # -- properties --------------------------------------------------------------------------

    @property
    def adapter(self) -> BumbleAdapter:
        """The adapter this client connects through."""
        return self._adapter

    @property
    def name(self) -> str:
        """Device Name characteristic, else advertised name, else the address with dashes."""
        return self._name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        """The negotiated ATT MTU (the last one after a disconnection)."""
        if self._connection is not None:
            return int(self._connection.att_mtu)
        return self._last_mtu

    @property
    def is_connected(self) -> bool:
        """Whether the LE connection is up."""
        connection = self._connection
        if connection is None or not self._adapter.is_open:
            return False
        return self._adapter.device.connections.get(connection.handle) is connection

    # -- connection --------------------------------------------------------------------------

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect, exchange the ATT MTU and discover the services.

        Keyword Args:
            timeout: seconds for the connection to be established (default: the constructor's).

        Raises:
            BleakDeviceNotFoundError: nothing answered at the address within the timeout.
            BleakError: the connection or the discovery failed.
            TimeoutError: the MTU exchange and discovery did not finish in time.
        """
        if pair:
            logger.warning(
                "%s: pairing is not supported by the bumble backend; connecting unpaired",
                self.address,
            )
        if self.is_connected:
            return
        timeout = float(kwargs.get("timeout", self._timeout))
        loop = asyncio.get_running_loop()
        started = loop.time()
        peer_address = self._peer_address()
        connection = await self._adapter.connect(peer_address, timeout)
        self._attach(connection)
        try:
            budget = max(timeout - (loop.time() - started), 10.0)
            async with asyncio.timeout(budget):
                await self._exchange_mtu(connection)
                self.services = await self._discover(connection)
                if not self._name:
                    self._name = await self._read_device_name(connection)
        except BaseException:
            await self._abandon(connection)
            raise
        self._established = True
        logger.debug("%s connected, ATT MTU %d", self.address, self.mtu_size)

    def _peer_address(self) -> hci.Address:
        if self._details is not None:
            return self._details.address
        return self._adapter.resolve_address(self._address_text)

    def _attach(self, connection: Connection) -> None:
        self._connection = connection
        self._established = False
        self._subscribers.clear()
        connection.on(
            Connection.EVENT_DISCONNECTION,
            functools.partial(self._on_disconnection, connection),
        )

    def _on_disconnection(self, connection: Connection, reason: int) -> None:
        if self._connection is not connection:
            return
        self._last_mtu = int(connection.att_mtu)
        self._connection = None
        self._subscribers.clear()
        self.services = None
        established, self._established = self._established, False
        logger.debug("%s disconnected: %s", self.address, hci.HCI_Constant.error_name(int(reason)))
        if established and self._disconnected_callback is not None:
            asyncio.get_running_loop().call_soon(self._disconnected_callback)

    async def _abandon(self, connection: Connection) -> None:
        """Drop a connection whose set-up failed, without firing the disconnected callback."""
        self._established = False
        if self._connection is connection and self.is_connected:
            try:
                async with asyncio.timeout(5.0):
                    await connection.disconnect()
            except Exception:  # the set-up error matters more than this one
                logger.debug("%s: disconnect after failed set-up failed", self.address)
        self._connection = None

    async def _exchange_mtu(self, connection: Connection) -> None:
        if self._att_mtu == att.ATT_DEFAULT_MTU:
            return
        try:
            await self._gatt("exchanging the ATT MTU", Peer(connection).request_mtu(self._att_mtu))
        except BleakGATTProtocolError as error:
            logger.info("%s refused the ATT MTU exchange (%s); MTU stays 23", self.address, error)

    async def _discover(self, connection: Connection) -> BleakGATTServiceCollection:
        client = connection.gatt_client
        wanted = [core.UUID(uuid) for uuid in self._service_filter] if self._service_filter else []
        collection = BleakGATTServiceCollection()
        services = await self._gatt("discovering services", client.discover_services(wanted))
        for service in services:
            bleak_service = BleakGATTService(service, service.handle, bleak_uuid(service.uuid))
            collection.add_service(bleak_service)
            characteristics = await self._gatt(
                f"discovering the characteristics of {bleak_service.uuid}",
                client.discover_characteristics((), service),
            )
            for characteristic in characteristics:
                bleak_characteristic = BleakGATTCharacteristic(
                    characteristic,
                    characteristic.handle,
                    bleak_uuid(characteristic.uuid),
                    sorted(gatt_char_props_to_strs(int(characteristic.properties))),
                    self._max_write_without_response_size,
                    bleak_service,
                )
                collection.add_characteristic(bleak_characteristic)
                descriptors = await self._gatt(
                    f"discovering the descriptors of {bleak_characteristic.uuid}",
                    client.discover_descriptors(characteristic),
                )
                for descriptor in descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            descriptor,
                            descriptor.handle,
                            bleak_uuid(descriptor.type),
                            bleak_characteristic,
                        )
                    )
        return collection

    def _max_write_without_response_size(self) -> int:
        return max(self.mtu_size - 3, 20)

    async def _read_device_name(self, connection: Connection) -> str | None:
        if self.services is None:
            return None
        characteristic = self.services.get_characteristic(_DEVICE_NAME)
        if characteristic is None or "read" not in characteristic.properties:
            return self._adapter.known_name(self.address)
        try:
            value = await self._gatt(
                "reading the device name",
                connection.gatt_client.read_value(characteristic.handle),
            )
        except BleakError:
            return self._adapter.known_name(self.address)
        return bytes(value).decode("utf-8", errors="replace") or None

    async def disconnect(self) -> None:
        """Disconnect (a no-op when not connected)."""
        connection = self._connection
        if connection is None or not self.is_connected:
            return
        try:
            async with asyncio.timeout(max(self._timeout, 5.0)):
                await connection.disconnect()
        except TimeoutError as error:
            raise BleakError(
                f"{self.address}: the controller did not confirm the disconnection in time"
            ) from error
        except (core.BaseBumbleError, hci.HCI_Error) as error:
            if self.is_connected:
                raise BleakError(f"{self.address}: disconnect failed: {error}") from error

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Not supported: psoas's profiles need no bonding."""
        raise BleakError(
            "pairing is not supported by psoas's bumble backend (the wearable profiles need "
            "no bonding); pair with the OS Bluetooth settings and use the default adapter"
        )

    async def unpair(self) -> None:
        """Not supported (see :meth:`pair`)."""
        raise BleakError(
            "unpairing is not supported by psoas's bumble backend: it never bonds, so there "
            "is nothing to forget"
        )

    # -- GATT operations ---------------------------------------------------------------------

    def _require_connection(self, what: str) -> Connection:
        connection = self._connection
        if connection is None or not self.is_connected:
            raise BleakError(f"{what}: not connected to {self.address}")
        return connection

    async def _gatt(self, what: str, operation: Awaitable[_T]) -> _T:
        """Await a bumble GATT operation, translating its failures into bleak exceptions."""
        try:
            return await operation
        except att.ATT_Error as error:
            raise BleakGATTProtocolError(error.error_code) from error
        except core.TimeoutError as error:
            raise BleakError(f"{what}: {self.address} sent no ATT response within 30 s") from error
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if (task is not None and task.cancelling()) or self.is_connected:
                raise
            # bumble cancels the pending ATT request when the link drops
            raise BleakError(f"{what}: {self.address} disconnected before answering") from None
        except (core.BaseBumbleError, hci.HCI_Error) as error:
            raise BleakError(f"{what} on {self.address}: {error}") from error

    async def read_gatt_char(
        self,
        characteristic: BleakGATTCharacteristic,
        *,
        use_cached: bool = False,
        **kwargs: Any,
    ) -> bytearray:
        """Read a characteristic value (long values with Read Blob)."""
        what = f"reading {characteristic.uuid}"
        connection = self._require_connection(what)
        if use_cached and (
            cached := connection.gatt_client.cached_values.get(characteristic.handle)
        ):
            return bytearray(cached[1])
        value = await self._gatt(what, connection.gatt_client.read_value(characteristic.handle))
        return bytearray(value)

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        """Write a characteristic value, as a Write Request or a Write Command."""
        what = f"writing {characteristic.uuid}"
        connection = self._require_connection(what)
        value = bytes(data)
        if not response and len(value) > connection.att_mtu - 3:
            raise BleakError(
                f"{what}: {len(value)} bytes do not fit one write without response "
                f"(at most {connection.att_mtu - 3} at ATT MTU {connection.att_mtu}); "
                "write with response or split the data"
            )
        await self._gatt(
            what,
            connection.gatt_client.write_value(
                characteristic.handle, value, with_response=response
            ),
        )

    async def read_gatt_descriptor(
        self,
        descriptor: BleakGATTDescriptor,
        *,
        use_cached: bool = False,
        **kwargs: Any,
    ) -> bytearray:
        """Read a descriptor value."""
        what = f"reading descriptor {descriptor.uuid} (handle {descriptor.handle})"
        connection = self._require_connection(what)
        if use_cached and (cached := connection.gatt_client.cached_values.get(descriptor.handle)):
            return bytearray(cached[1])
        value = await self._gatt(what, connection.gatt_client.read_value(descriptor.handle))
        return bytearray(value)

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        """Write a descriptor value (always with response)."""
        what = f"writing descriptor {descriptor.uuid} (handle {descriptor.handle})"
        connection = self._require_connection(what)
        await self._gatt(
            what,
            connection.gatt_client.write_value(descriptor.handle, bytes(data), with_response=True),
        )

    async def start_notify(
        self,
        characteristic: BleakGATTCharacteristic,
        callback: NotifyCallback,
        **kwargs: Any,
    ) -> None:
        """Subscribe; ``callback`` gets each value as a ``bytearray``, in arrival order.

        Keyword Args:
            force_indicate: subscribe for indications when the characteristic offers both.
        """
        what = f"starting notifications on {characteristic.uuid}"
        self._require_connection(what)
        if characteristic.handle in self._subscribers:
            raise BleakError(f"{what}: already started; call stop_notify first")
        if (
            "notify" not in characteristic.properties
            and "indicate" not in characteristic.properties
        ):
            raise BleakError(f"{what}: the characteristic can neither notify nor indicate")
        if characteristic.get_descriptor(_CCCD) is None:
            raise BleakError(
                f"{what}: the characteristic has no Client Characteristic Configuration "
                "descriptor (0x2902), so the peripheral offers no way to subscribe"
            )
        uuid = characteristic.uuid

        def on_value(value: bytes) -> None:
            try:
                callback(bytearray(value))
            except Exception:  # a failing user callback must not break bumble's dispatch
                logger.exception("notification callback for %s raised", uuid)

        proxy: CharacteristicProxy[bytes] = characteristic.obj
        self._subscribers[characteristic.handle] = on_value
        try:
            await self._gatt(
                what,
                proxy.subscribe(on_value, prefer_notify=not kwargs.get("force_indicate", False)),
            )
        except BaseException:
            self._subscribers.pop(characteristic.handle, None)
            raise

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Unsubscribe (writes 0 to the CCCD); a no-op if notifications were not started."""
        subscriber = self._subscribers.pop(characteristic.handle, None)
        if subscriber is None or not self.is_connected:
            return
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        await self._gatt(
            f"stopping notifications on {characteristic.uuid}", proxy.unsubscribe(subscriber)
        )
