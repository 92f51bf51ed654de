"""The bumble bleak backend against a real bumble GATT server, packet for packet.

No mocks: the central side is psoas's backend used only through bleak's public ``BleakScanner``
/ ``BleakClient``; the peripheral is a plain bumble ``Device`` with a GATT server on a second
virtual controller of the same ``LocalLink`` (or, in one test, behind a controller served over
local TCP). The two host stacks exchange real HCI, LL, L2CAP and ATT packets.

Tests are sync functions driving ``asyncio.run`` (no pytest-asyncio needed); every test runs
under an overall timeout, and each uses its own link name so no state leaks between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bleak_retry_connector import BleakClientWithServiceCache, establish_connection
from bumble import data_types
from bumble.att import ATT_Error, ErrorCode
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import (
    AdvertisingEventProperties,
    AdvertisingParameters,
    AdvertisingSet,
    Connection,
    Device,
)
from bumble.gatt import Characteristic, CharacteristicValue, Descriptor, Service
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink
from bumble.transport.tcp_server import open_tcp_server_transport_with_socket

from sensors.ble.adapters import BleAdapter, local_link, parse_adapter
from sensors.ble.bumble_backend import BleakClientBumble, BleakScannerBumble
from sensors.errors import UsageError

SERVICE = "3e0f0000-7a1b-4c2d-9e3f-5a6b7c8d9e0f"
DATA = "3e0f0001-7a1b-4c2d-9e3f-5a6b7c8d9e0f"
EVENTS = "3e0f0002-7a1b-4c2d-9e3f-5a6b7c8d9e0f"
USER_DESCRIPTION = "00002901-0000-1000-8000-00805f9b34fb"
RSC_SERVICE = "00001814-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE = "0000180f-0000-1000-8000-00805f9b34fb"
NAME = "psoas-test-imu"
COMPANY = 0xFFFF  # "no company" test identifier
MANUFACTURER_PAYLOAD = b"\x01\x02\x03"
PERIPHERAL_ADDRESS = "F1:E2:D3:C4:B5:A6"  # static random (two top bits set)
ABSENT_ADDRESS = "C7:00:00:00:00:01"
REJECTED_PREFIX = b"\xff"  # values the wearable refuses with ATT "value not allowed"


def run(test: Callable[[], Awaitable[Any]], timeout_s: float = 20.0) -> Any:
    """Run one async test body in a fresh event loop, bounded by ``timeout_s``."""

    async def bounded() -> Any:
        async with asyncio.timeout(timeout_s):
            return await test()

    return asyncio.run(bounded())


async def wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll ``predicate`` until it holds (fails the test after ``timeout_s``)."""
    async with asyncio.timeout(timeout_s):
        while not predicate():
            await asyncio.sleep(0.002)


class Wearable:
    """Test fixture: a bumble GATT peripheral on its own virtual controller.

    One service (128-bit UUID) with a readable, writable (with and without response),
    notifiable characteristic carrying a writable User Description descriptor (it refuses
    values starting with ``REJECTED_PREFIX`` with an ATT error), and an
    indicate-only characteristic. It advertises (extended advertising, restarted after every
    disconnection) its name, the 128-bit service, two 16-bit services, manufacturer data,
    service data and a TX power level.
    """

    def __init__(
        self, link: LocalLink, name: str = NAME, address: str = PERIPHERAL_ADDRESS
    ) -> None:
        self.link = link
        self.name = name
        self.controller = Controller(name, link=link)
        self.device = Device(
            name=name,
            address=Address(address),
            host=Host(self.controller, AsyncPipeSink(self.controller)),
        )
        self.value = b"hello"
        self.writes: list[bytes] = []
        self.connections: list[Connection] = []
        self.advertising_set: AdvertisingSet
        self.data = Characteristic(
            DATA,
            Characteristic.Properties.READ
            | Characteristic.Properties.WRITE
            | Characteristic.Properties.WRITE_WITHOUT_RESPONSE
            | Characteristic.Properties.NOTIFY,
            Characteristic.READABLE | Characteristic.WRITEABLE,
            CharacteristicValue(read=self._read, write=self._write),
            descriptors=[
                Descriptor(USER_DESCRIPTION, Descriptor.READABLE | Descriptor.WRITEABLE, b"imu")
            ],
        )
        self.events = Characteristic(
            EVENTS,
            Characteristic.Properties.READ | Characteristic.Properties.INDICATE,
            Characteristic.READABLE,
            b"\x00",
        )
        self.device.add_service(Service(SERVICE, [self.data, self.events]))
        self.device.on(Device.EVENT_CONNECTION, self.connections.append)

    def _read(self, _connection: Connection) -> bytes:
        return self.value

    def _write(self, _connection: Connection, value: bytes) -> None:
        if value.startswith(REJECTED_PREFIX):
            raise ATT_Error(ErrorCode.VALUE_NOT_ALLOWED)
        self.writes.append(bytes(value))
        self.value = bytes(value)

    @property
    def advertising_data(self) -> bytes:
        return bytes(
            AdvertisingData(
                [
                    data_types.CompleteLocalName(self.name),
                    data_types.CompleteListOf128BitServiceUUIDs([UUID(SERVICE)]),
                    data_types.IncompleteListOf16BitServiceUUIDs([UUID("1814"), UUID("180F")]),
                    data_types.ManufacturerSpecificData(COMPANY, MANUFACTURER_PAYLOAD),
                    data_types.ServiceData16BitUUID(UUID("180F"), b"\x64"),
                    data_types.TxPowerLevel(-4),
                ]
            )
        )

    async def start(self) -> None:
        await self.device.power_on()
        self.advertising_set = await self.device.create_advertising_set(
            advertising_parameters=AdvertisingParameters(
                advertising_event_properties=AdvertisingEventProperties(
                    is_connectable=True, is_legacy=False
                ),
                primary_advertising_interval_min=20,
                primary_advertising_interval_max=20,
            ),
            random_address=self.device.random_address,
            advertising_data=self.advertising_data,
            auto_restart=True,
        )

    async def pause_advertising(self) -> None:
        """Stop advertising: to a central the wearable is now out of range."""
        await self.advertising_set.stop()

    async def resume_advertising(self) -> None:
        await self.advertising_set.start()

    async def stop(self) -> None:
        for connection in list(self.device.connections.values()):
            with contextlib.suppress(Exception):
                await connection.disconnect()
        await self.device.power_off()
        with contextlib.suppress(KeyError):
            self.link.remove_controller(self.controller)

    @property
    def connection(self) -> Connection:
        live = [c for c in self.connections if c.handle in self.device.connections]
        assert live, "the wearable has no live connection"
        return live[-1]

    async def notify(self, payloads: list[bytes]) -> None:
        for payload in payloads:
            await self.device.notify_subscribers(self.data, payload)

    async def indicate(self, payloads: list[bytes]) -> None:
        for payload in payloads:
            await self.device.indicate_subscribers(self.events, payload)

    async def drop_link(self) -> None:
        """The peripheral ends the connection (as a wearable walking out of range would)."""
        await self.connection.disconnect()


@contextlib.asynccontextmanager
async def wearable_and_adapter(
    link_name: str | None = None,
) -> AsyncIterator[tuple[Wearable, BleAdapter]]:
    """A started wearable and an open ``bumble:link:`` adapter on a fresh in-process link."""
    name = link_name or f"test-{uuid.uuid4().hex[:10]}"
    wearable = Wearable(local_link(name))
    await wearable.start()
    adapter = parse_adapter(f"bumble:link:{name}")
    try:
        async with adapter:
            yield wearable, adapter
    finally:
        await wearable.stop()


async def find_wearable(adapter: BleAdapter) -> Any:
    device = await BleakScanner.find_device_by_name(
        NAME, timeout=5.0, backend=adapter.scanner_backend
    )
    assert device is not None, "the wearable was not found by name"
    return device


# -- scanning ------------------------------------------------------------------------------


def test_scan_finds_wearable_by_name_and_service_with_its_advertisement_data() -> None:
    async def body() -> None:
        async with wearable_and_adapter() as (_wearable, adapter):
            device = await find_wearable(adapter)
            assert device.address == PERIPHERAL_ADDRESS
            assert device.name == NAME

            found = await BleakScanner.discover(
                timeout=0.3,
                return_adv=True,
                service_uuids=[SERVICE],
                backend=adapter.scanner_backend,
            )
            assert PERIPHERAL_ADDRESS in found
            ble_device, adv = found[PERIPHERAL_ADDRESS]
            assert ble_device.name == NAME
            assert adv.local_name == NAME
            assert adv.service_uuids == [SERVICE, RSC_SERVICE, BATTERY_SERVICE]
            assert adv.manufacturer_data == {COMPANY: MANUFACTURER_PAYLOAD}
            assert adv.service_data == {BATTERY_SERVICE: b"\x64"}
            assert adv.tx_power == -4
            assert -127 < adv.rssi < 0

            by_16_bit = await BleakScanner.find_device_by_filter(
                lambda d, a: COMPANY in a.manufacturer_data,
                timeout=5.0,
                service_uuids=[RSC_SERVICE],
                backend=adapter.scanner_backend,
            )
            assert by_16_bit is not None and by_16_bit.address == PERIPHERAL_ADDRESS

            other_service = await BleakScanner.discover(
                timeout=0.3,
                service_uuids=["0000feed-0000-1000-8000-00805f9b34fb"],
                backend=adapter.scanner_backend,
            )
            assert other_service == []

    run(body)


def test_two_scanners_share_one_scan_and_one_host_stack() -> None:
    async def body() -> None:
        async with wearable_and_adapter() as (_wearable, adapter):
            seen_a: list[str] = []
            seen_b: list[str] = []
            scanner_a = BleakScanner(
                lambda d, a: seen_a.append(d.address), backend=adapter.scanner_backend
            )
            scanner_b = BleakScanner(
                lambda d, a: seen_b.append(d.address), backend=adapter.scanner_backend
            )
            await scanner_a.start()
            await scanner_b.start()
            await wait_until(lambda: bool(seen_a) and bool(seen_b))
            await scanner_a.stop()
            seen_b.clear()
            await wait_until(lambda: bool(seen_b))  # b still hears the wearable
            await scanner_b.stop()
            assert adapter.bumble is not None
            assert not adapter.bumble.device.is_scanning
            assert scanner_a.backend_id == scanner_b.backend_id

    run(body)


# -- connection and GATT -------------------------------------------------------------------


def test_connect_discovers_services_reads_writes_and_negotiates_mtu() -> None:
    async def body() -> None:
        async with wearable_and_adapter() as (wearable, adapter):
            device = await find_wearable(adapter)
            client = BleakClient(device, backend=adapter.client_backend, timeout=5.0)
            await client.connect()
            try:
                assert client.is_connected
                assert client.mtu_size == 517
                assert client.name == NAME

                service = client.services.get_service(SERVICE)
                assert service is not None
                data = service.get_characteristic(DATA)
                events = service.get_characteristic(EVENTS)
                assert data is not None and events is not None
                assert set(data.properties) == {"read", "write", "write-without-response", "notify"}
                assert set(events.properties) == {"read", "indicate"}
                assert data.handle != events.handle
                assert data.max_write_without_response_size == 514
                description = data.get_descriptor(USER_DESCRIPTION)
                assert description is not None
                assert data.get_descriptor("2902") is not None

                assert await client.read_gatt_char(DATA) == bytearray(b"hello")

                await client.write_gatt_char(DATA, b"with-response", response=True)
                assert wearable.writes == [b"with-response"]
                await client.write_gatt_char(data, bytearray(b"without"), response=False)
                await wait_until(lambda: len(wearable.writes) == 2)
                assert wearable.writes[1] == b"without"
                long_value = bytes(range(256)) * 2  # 512 bytes: more than one ATT PDU
                await client.write_gatt_char(DATA, long_value, response=True)
                assert await client.read_gatt_char(DATA) == bytearray(long_value)

                assert await client.read_gatt_descriptor(description.handle) == b"imu"
                await client.write_gatt_descriptor(description.handle, b"left thigh")
                assert await client.read_gatt_descriptor(description.handle) == b"left thigh"
            finally:
                await client.disconnect()
            assert not client.is_connected

    run(body)


def test_gatt_error_from_peripheral_is_a_bleak_protocol_error() -> None:
    async def body() -> None:
        async with wearable_and_adapter() as (_wearable, adapter):
            device = await find_wearable(adapter)
            async with BleakClient(device, backend=adapter.client_backend) as client:
                with pytest.raises(BleakGATTProtocolError) as caught:
                    await client.write_gatt_char(DATA, REJECTED_PREFIX + b"x", response=True)
                assert caught.value.code == ErrorCode.VALUE_NOT_ALLOWED
                assert await client.read_gatt_char(DATA) == bytearray(b"hello")  # still usable
                with pytest.raises(BleakError, match="not supported"):
                    await client.pair()

    run(body)


def test_500_notifications_arrive_in_order_and_stop_notify_stops_them() -> None:
    async def body() -> None:
        async with wearable_and_adapter() as (wearable, adapter):
            device = await find_wearable(adapter)
            received: list[bytearray] = []
            async with BleakClient(device, backend=adapter.client_backend) as client:
                await client.start_notify(DATA, lambda _char, value: received.append(value))
                payloads = [i.to_bytes(4, "little") + bytes(236) for i in range(500)]
                started = time.perf_counter()
                await wearable.notify(payloads)
                await wait_until(lambda: len(received) >= 500)
                elapsed = time.perf_counter() - started
                print(f"\n500 notifications of 240 B in {elapsed:.3f} s: {500 / elapsed:.0f}/s")
                assert all(isinstance(value, bytearray) for value in received)
                assert [bytes(value) for value in received] == payloads

                await client.stop_notify(DATA)
                await wearable.notify([b"late"] * 10)
                await asyncio.sleep(0.1)
                assert len(received) == 500

    run(body)


def test_indications_arrive_in_order_and_are_confirmed() -> None:
    async def body() -> None:
        async with wearable_and_adapter() as (wearable, adapter):
            device = await find_wearable(adapter)
            received: list[bytes] = []
            async with BleakClient(device, backend=adapter.client_backend) as client:
                await client.start_notify(
                    EVENTS, lambda _char, value: received.append(bytes(value))
                )
                payloads = [bytes([i]) * 20 for i in range(50)]
                # indicate_subscribers waits for each ATT confirmation: a missing one hangs here
                await wearable.indicate(payloads)
                await wait_until(lambda: len(received) == 50)
                assert received == payloads
                await client.stop_notify(EVENTS)

    run(body)


# -- link loss, reconnection, failures -----------------------------------------------------


def test_peripheral_dropping_the_link_fires_disconnected_callback_and_reconnect_works() -> None:
    async def body() -> None:
        async with wearable_and_adapter() as (wearable, adapter):
            device = await find_wearable(adapter)
            dropped = asyncio.Event()
            client = BleakClient(
                device,
                disconnected_callback=lambda _client: dropped.set(),
                backend=adapter.client_backend,
            )
            await client.connect()
            await client.start_notify(DATA, lambda _char, _value: None)
            await wearable.drop_link()
            async with asyncio.timeout(5.0):
                await dropped.wait()
            assert not client.is_connected
            with pytest.raises(BleakError):
                await client.read_gatt_char(DATA)

            # the same client reconnects (the wearable re-advertises after the drop)
            dropped.clear()
            await client.connect()
            assert client.is_connected
            assert await client.read_gatt_char(DATA) == bytearray(b"hello")
            await client.disconnect()
            assert not client.is_connected

            # and a new client given only the address string connects too
            async with BleakClient(PERIPHERAL_ADDRESS, backend=adapter.client_backend) as again:
                assert await again.read_gatt_char(DATA) == bytearray(b"hello")

    run(body)


def test_two_wearables_stream_at_once_through_one_adapter() -> None:
    async def body() -> None:
        async with wearable_and_adapter() as (first, adapter):
            second = Wearable(first.link, name="psoas-test-foot", address="D1:E2:D3:C4:B5:A7")
            await second.start()
            try:
                found_second = await BleakScanner.find_device_by_name(
                    "psoas-test-foot", timeout=5.0, backend=adapter.scanner_backend
                )
                assert found_second is not None
                received: dict[str, list[bytes]] = {"first": [], "second": []}
                async with (
                    BleakClient(await find_wearable(adapter), backend=adapter.client_backend) as a,
                    BleakClient(found_second, backend=adapter.client_backend) as b,
                ):
                    await a.start_notify(DATA, lambda _c, v: received["first"].append(bytes(v)))
                    await b.start_notify(DATA, lambda _c, v: received["second"].append(bytes(v)))
                    ones = [bytes([1, i]) for i in range(100)]
                    twos = [bytes([2, i]) for i in range(100)]
                    await asyncio.gather(first.notify(ones), second.notify(twos))
                    await wait_until(
                        lambda: len(received["first"]) + len(received["second"]) == 200
                    )
                    assert received == {"first": ones, "second": twos}
                    assert b.name == "psoas-test-foot"
            finally:
                await second.stop()

    run(body)


def test_connecting_to_an_absent_address_fails_with_bleak_error_within_timeout() -> None:
    async def body() -> None:
        async with wearable_and_adapter() as (_wearable, adapter):
            client = BleakClient(ABSENT_ADDRESS, backend=adapter.client_backend, timeout=1.0)
            started = time.monotonic()
            with pytest.raises(BleakDeviceNotFoundError, match="did not answer"):
                await client.connect()
            assert time.monotonic() - started < 3.0
            assert not client.is_connected

            # the abandoned attempt leaves the adapter usable
            device = await find_wearable(adapter)
            async with BleakClient(device, backend=adapter.client_backend) as client:
                assert client.is_connected

            with pytest.raises(BleakError, match="not a Bluetooth address"):
                await BleakClient("not-an-address", backend=adapter.client_backend).connect()

    run(body)


def test_bleak_retry_connector_establishes_a_connection_through_the_backend() -> None:
    async def body() -> None:
        async with wearable_and_adapter() as (_wearable, adapter):
            device = await find_wearable(adapter)
            client = await establish_connection(
                BleakClientWithServiceCache,
                device,
                NAME,
                max_attempts=2,
                backend=adapter.client_backend,
            )
            try:
                assert client.is_connected
                assert await client.read_gatt_char(DATA) == bytearray(b"hello")
            finally:
                await client.disconnect()

    run(body)


# -- transports ----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def wearable_behind_tcp() -> AsyncIterator[tuple[Wearable, BleAdapter, Any]]:
    """A wearable and a ``bumble:tcp-client:`` adapter whose controller is served on 127.0.0.1.

    Both controllers share a private ``LocalLink``; the adapter's controller is reached through
    bumble's tcp-server transport, as ``psoas virtual-link`` serves it to other processes.
    """
    link = LocalLink()
    wearable = Wearable(link)
    await wearable.start()
    # IPPROTO_TCP, not 0: asyncio only disables Nagle on sockets whose proto is IPPROTO_TCP,
    # and with Nagle on every ATT round trip waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = await open_tcp_server_transport_with_socket(sock)
    Controller("tcp-served", host_source=server.source, host_sink=server.sink, link=link)
    adapter = parse_adapter(f"bumble:tcp-client:127.0.0.1:{port}")
    try:
        async with adapter:
            yield wearable, adapter, server
    finally:
        await server.close()
        await wearable.stop()


def test_tcp_client_adapter_drives_a_controller_served_on_local_tcp() -> None:
    async def body() -> None:
        async with wearable_behind_tcp() as (wearable, adapter, _server):
            device = await find_wearable(adapter)
            received: list[bytes] = []
            async with BleakClient(device, backend=adapter.client_backend) as client:
                assert client.mtu_size == 517
                assert await client.read_gatt_char(DATA) == bytearray(b"hello")
                await client.start_notify(DATA, lambda _c, v: received.append(bytes(v)))
                await wearable.notify([bytes([i]) * 100 for i in range(20)])
                await wait_until(lambda: len(received) == 20)
                assert received == [bytes([i]) * 100 for i in range(20)]

    run(body)


def test_timed_out_connect_on_a_remote_virtual_controller_recovers_when_device_returns() -> None:
    """bumble's virtual controller never confirms a connection cancel; the adapter copes."""

    async def body() -> None:
        async with wearable_behind_tcp() as (wearable, adapter, _server):
            device = await find_wearable(adapter)
            await wearable.pause_advertising()
            started = time.monotonic()
            with pytest.raises(BleakDeviceNotFoundError):
                await BleakClient(device, backend=adapter.client_backend, timeout=0.5).connect()
            assert time.monotonic() - started < 3.0

            await wearable.resume_advertising()
            async with BleakClient(device, backend=adapter.client_backend) as client:
                assert await client.read_gatt_char(DATA) == bytearray(b"hello")

    run(body)


def test_losing_the_hci_transport_disconnects_clients_and_closes_the_adapter() -> None:
    async def body() -> None:
        async with wearable_behind_tcp() as (_wearable, adapter, server):
            device = await find_wearable(adapter)
            lost = asyncio.Event()
            client = BleakClient(
                device, disconnected_callback=lambda _c: lost.set(), backend=adapter.client_backend
            )
            await client.connect()
            server.sink.transport.close()  # the virtual-link server drops our HCI connection
            async with asyncio.timeout(5.0):
                await lost.wait()
            assert not client.is_connected
            assert adapter.bumble is not None
            await wait_until(lambda: not adapter.bumble.is_open)  # type: ignore[union-attr]

    run(body)


# -- adapter strings -----------------------------------------------------------------------


def test_parse_adapter_default_means_the_os_backend() -> None:
    for spec in (None, "", "  ", "default"):
        adapter = parse_adapter(spec)
        assert adapter.is_default
        assert adapter.scanner_backend is None and adapter.client_backend is None


def test_parse_adapter_binds_backend_classes_to_one_stack_per_adapter() -> None:
    first = parse_adapter("bumble:link:parse-test")
    second = parse_adapter("bumble:usb:0")
    assert first.scanner_backend is not None and first.client_backend is not None
    assert issubclass(first.scanner_backend, BleakScannerBumble)
    assert issubclass(first.client_backend, BleakClientBumble)
    assert first.scanner_backend.bumble_adapter is first.bumble  # type: ignore[attr-defined]
    assert first.client_backend.bumble_adapter is first.bumble  # type: ignore[attr-defined]
    assert second.bumble is not None and second.bumble.transport_spec == "usb:0"
    assert parse_adapter("bumble:serial:/dev/ttyACM0,1000000").bumble.transport_spec == (  # type: ignore[union-attr]
        "serial:/dev/ttyACM0,1000000"
    )
    assert parse_adapter("bumble:tcp-client:127.0.0.1:9000").spec == (
        "bumble:tcp-client:127.0.0.1:9000"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("hci0", "unknown adapter.*operating system.*bumble:usb:0"),
        ("bumble:", "needs a transport"),
        ("bumble:bluetooth:0", "no transport 'bluetooth'.*tcp-client"),
        ("bumble:usb", "usb transport needs a parameter.*bumble:usb:0"),
        ("bumble:tcp-client:localhost", "<host>:<port>.*127.0.0.1:9000"),
        ("bumble:tcp-client:127.0.0.1:99999", "between 1 and 65535"),
        ("bumble:link:", "needs a name.*bumble:link:demo"),
        ("bumble:link:has space", "needs a name"),
    ],
)
def test_parse_adapter_rejects_bad_specs_with_a_helpful_message(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_adapter(spec)


def test_opening_an_unreachable_tcp_controller_is_a_clear_bleak_error() -> None:
    async def body() -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()  # nothing listens there now
        adapter = parse_adapter(f"bumble:tcp-client:127.0.0.1:{port}")
        with pytest.raises(BleakError, match="cannot open the HCI transport"):
            await BleakScanner.discover(timeout=0.1, backend=adapter.scanner_backend)

    run(body)
