"""GATT UUIDs (lowercase 128-bit strings, the form bleak reports) used by psoas.

The psoas IMU profile's own 128-bit UUIDs are ``70736f61-XXXX-4b1d-8e3a-2c1d5a7e9f00`` ("psoa" in
ASCII, see ``docs/ble-imu-profile.md``). Bluetooth SIG 16/32-bit UUIDs expand onto the Bluetooth
Base UUID ``00000000-0000-1000-8000-00805f9b34fb`` (Core Specification, Vol 3, Part B, §2.5.1);
the numbers are from the SIG's Assigned Numbers document.
"""

from __future__ import annotations

from typing import Final

_SIG_BASE_SUFFIX: Final = "-0000-1000-8000-00805f9b34fb"
_SIG_MAX_SHORT: Final = 0xFFFF_FFFF
_PSOAS_PREFIX: Final = "70736f61"
_PSOAS_SUFFIX: Final = "-4b1d-8e3a-2c1d5a7e9f00"
_PSOAS_MAX_INDEX: Final = 0xFFFF


def sig_uuid(short: int) -> str:
    """The 128-bit string of a Bluetooth SIG 16- or 32-bit UUID (``0x180F`` -> ``0000180f-...``)."""
    if not 0 <= short <= _SIG_MAX_SHORT:
        raise ValueError(f"a Bluetooth SIG short UUID is 0 to 0xFFFFFFFF, got {short:#x}")
    return f"{short:08x}{_SIG_BASE_SUFFIX}"


def psoas_uuid(index: int) -> str:
    """The 128-bit UUID of item ``index`` of the psoas IMU profile (1 = the service)."""
    if not 0 <= index <= _PSOAS_MAX_INDEX:
        raise ValueError(f"a psoas profile UUID index is 0 to 0xFFFF, got {index:#x}")
    return f"{_PSOAS_PREFIX}-{index:04x}{_PSOAS_SUFFIX}"


# psoas open IMU profile v1
IMU_SERVICE: Final = psoas_uuid(0x0001)
IMU_DATA: Final = psoas_uuid(0x0002)
IMU_CONFIG: Final = psoas_uuid(0x0003)
DEVICE_TIME: Final = psoas_uuid(0x0004)
IMU_RACP: Final = psoas_uuid(0x0005)

# Bluetooth SIG Battery Service
BATTERY_SERVICE: Final = sig_uuid(0x180F)
BATTERY_LEVEL: Final = sig_uuid(0x2A19)

# Bluetooth SIG Running Speed and Cadence Service
RSC_SERVICE: Final = sig_uuid(0x1814)
RSC_MEASUREMENT: Final = sig_uuid(0x2A53)
RSC_FEATURE: Final = sig_uuid(0x2A54)
