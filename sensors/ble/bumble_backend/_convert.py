"""Translations between bumble's objects and bleak's: UUIDs, addresses, advertising data.

Kept apart from the scanner and client so both (and the tests) share one definition of how a
bumble advertisement becomes bleak's :class:`~bleak.backends.scanner.AdvertisementData`.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from typing import Any

from bleak.backends.scanner import AdvertisementData
from bleak.uuids import normalize_uuid_16, normalize_uuid_32
from bumble import core, hci
from bumble.device import Advertisement

#: RSSI reported when the controller gives none (bumble uses 127, bleak users expect -127).
NO_RSSI_DBM = -127

_AD = core.AdvertisingData.Type
_UUID_LISTS: dict[int, int] = {
    _AD.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    _AD.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS: 2,
    _AD.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    _AD.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS: 4,
    _AD.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
    _AD.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS: 16,
}
_SERVICE_DATA: dict[int, int] = {
    _AD.SERVICE_DATA_16_BIT_UUID: 2,
    _AD.SERVICE_DATA_32_BIT_UUID: 4,
    _AD.SERVICE_DATA_128_BIT_UUID: 16,
}


@dataclass(frozen=True)
class BumbleDeviceDetails:
    """``BLEDevice.details`` for devices found by the bumble backend.

    Deliberately not a ``dict``: bleak-retry-connector treats a dict with a ``"path"`` key as a
    BlueZ D-Bus device and would query BlueZ about it.
    """

    address: hci.Address
    """The peer address *with* its type (public or random), needed to connect."""
    adapter: str
    """The adapter string (``bumble:...``) whose scanner saw the device."""
    advertisement: Advertisement | None = None
    """The bumble advertisement the device was last seen in."""


def uuid_from_le_bytes(data: bytes) -> str:
    """A bleak UUID string from a 2-, 4- or 16-byte little-endian UUID as sent over the air."""
    if len(data) == 2:
        return normalize_uuid_16(int.from_bytes(data, "little"))
    if len(data) == 4:
        return normalize_uuid_32(int.from_bytes(data, "little"))
    if len(data) == 16:
        return str(uuid.UUID(bytes=bytes(reversed(data))))
    raise ValueError(f"a Bluetooth UUID has 2, 4 or 16 bytes, not {len(data)}")


def bleak_uuid(value: core.UUID) -> str:
    """The bleak (lower-case, 128-bit, dashed) string of a bumble UUID."""
    return uuid_from_le_bytes(value.to_bytes(force_128=True))


def address_string(address: hci.Address) -> str:
    """``AA:BB:CC:DD:EE:FF`` (most significant byte first, no type suffix), as bleak shows it."""
    return address.to_string(with_type_qualifier=False)


def advertisement_fields(
    ad_structures: list[tuple[int, bytes]],
) -> tuple[str | None, list[str], dict[int, bytes], dict[str, bytes], int | None]:
    """Decode AD structures into (local name, service UUIDs, manufacturer data, service data,
    tx power).

    Duplicates are merged: an advertisement and its scan response are concatenated by bumble,
    and bumble's virtual controller repeats the advertising data as scan response. Truncated
    structures are skipped rather than fatal - an advertisement is untrusted radio input.
    """
    complete_name: str | None = None
    short_name: str | None = None
    service_uuids: list[str] = []
    manufacturer_data: dict[int, bytes] = {}
    service_data: dict[str, bytes] = {}
    tx_power: int | None = None
    for ad_type, data in ad_structures:
        ad_type = int(ad_type)
        if ad_type in _UUID_LISTS:
            size = _UUID_LISTS[ad_type]
            for start in range(0, len(data) - size + 1, size):
                text = uuid_from_le_bytes(data[start : start + size])
                if text not in service_uuids:
                    service_uuids.append(text)
        elif ad_type in _SERVICE_DATA:
            size = _SERVICE_DATA[ad_type]
            if len(data) >= size:
                service_data[uuid_from_le_bytes(data[:size])] = bytes(data[size:])
        elif ad_type == _AD.MANUFACTURER_SPECIFIC_DATA:
            if len(data) >= 2:
                manufacturer_data[int.from_bytes(data[:2], "little")] = bytes(data[2:])
        elif ad_type == _AD.COMPLETE_LOCAL_NAME:
            complete_name = data.decode("utf-8", errors="replace")
        elif ad_type == _AD.SHORTENED_LOCAL_NAME:
            short_name = data.decode("utf-8", errors="replace")
        elif ad_type == _AD.TX_POWER_LEVEL and len(data) == 1:
            tx_power = struct.unpack("b", data)[0]
    return complete_name or short_name, service_uuids, manufacturer_data, service_data, tx_power


def advertisement_data(advertisement: Advertisement, *extra: Any) -> AdvertisementData:
    """bleak's :class:`AdvertisementData` for one bumble advertisement (RSSI in dBm)."""
    name, uuids, manufacturer, service_data, tx_power = advertisement_fields(
        list(advertisement.data.ad_structures)
    )
    rssi = advertisement.rssi
    if rssi == Advertisement.RSSI_NOT_AVAILABLE:
        rssi = NO_RSSI_DBM
    return AdvertisementData(
        local_name=name,
        manufacturer_data=manufacturer,
        service_data=service_data,
        service_uuids=uuids,
        tx_power=tx_power,
        rssi=int(rssi),
        platform_data=(advertisement, *extra),
    )
