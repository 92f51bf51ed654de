"""GATT profile codecs: pure functions from payload bytes to canonical rows and back.

- :mod:`.uuids`: the UUIDs of the psoas IMU profile and of the Bluetooth SIG services we use.
- :mod:`.imu`: the psoas open IMU profile v1 (``docs/ble-imu-profile.md``).
- :mod:`.rsc`: the Bluetooth SIG Running Speed and Cadence service (footpods).

Nothing here knows about connections, bleak or bumble. Decoders raise only
:class:`ProfileDecodeError`; encoders raise :class:`ProfileEncodeError`.
"""

from sensors.ble.profiles import uuids
from sensors.ble.profiles.errors import ProfileDecodeError, ProfileEncodeError, ProfileError

__all__ = ["ProfileDecodeError", "ProfileEncodeError", "ProfileError", "uuids"]
