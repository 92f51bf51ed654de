"""psoas's bleak backend on bumble: drive a USB/serial HCI dongle or a virtual controller.

bleak talks to the operating system's Bluetooth stack; bumble *is* a Bluetooth host stack, in
Python, that speaks HCI to any controller - a USB dongle, a UART board, a controller behind a TCP
port, or a virtual controller on an in-process ``LocalLink``. This package implements bleak's
backend contract (``BaseBleakScanner``, ``BaseBleakClient``) on top of bumble so that everything
above it - the collector, bleak-retry-connector - stays plain bleak API::

    from bleak import BleakClient, BleakScanner
    from sensors.ble.adapters import parse_adapter

    adapter = parse_adapter("bumble:link:demo")   # or bumble:usb:0, bumble:tcp-client:...
    device = await BleakScanner.find_device_by_name("psoas-imu", backend=adapter.scanner_backend)
    async with BleakClient(device, backend=adapter.client_backend) as client:
        ...

How the backend classes find their bumble stack: bleak instantiates backend classes itself with
fixed arguments, so each adapter gets its own subclasses (``BleakScannerBumble.bound_to(adapter)``
/ ``BleakClientBumble.bound_to(adapter)``) carrying the :class:`BumbleAdapter` as the class
attribute ``bumble_adapter``. A ``bumble={"adapter": ...}`` keyword to ``BleakScanner`` /
``BleakClient`` overrides it. One adapter is one host stack (one ``Device``, one static random
address), powered on once and shared by all its scanners and clients.
"""

from sensors.ble.bumble_backend._convert import BumbleDeviceDetails
from sensors.ble.bumble_backend.adapter import TRANSPORT_SCHEMES, BumbleAdapter, local_link
from sensors.ble.bumble_backend.client import BleakClientBumble, BumbleClientArgs
from sensors.ble.bumble_backend.scanner import BleakScannerBumble, BumbleScannerArgs

__all__ = [
    "TRANSPORT_SCHEMES",
    "BleakClientBumble",
    "BleakScannerBumble",
    "BumbleAdapter",
    "BumbleClientArgs",
    "BumbleDeviceDetails",
    "BumbleScannerArgs",
    "local_link",
]
