"""bleak scanner backend on a bumble host stack: ``BleakScanner(backend=...)`` over bumble.

Advertisements arrive from the :class:`~sensors.ble.bumble_backend.adapter.BumbleAdapter` (one
scan per adapter, shared by its scanners) already decoded into bleak's ``AdvertisementData``;
this class applies the service-UUID filter and feeds bleak's ``create_or_update_device`` /
``call_detection_callbacks``, so ``discover``, ``find_device_by_name``/``_filter`` and
``advertisement_data()`` behave as on the OS backends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal, TypedDict

from bleak.backends.scanner import (
    AdvertisementData,
    AdvertisementDataCallback,
    BaseBleakScanner,
)
from bleak.exc import BleakError
from bumble.device import Advertisement

from sensors.ble.bumble_backend._convert import BumbleDeviceDetails, address_string
from sensors.ble.bumble_backend.adapter import BumbleAdapter, adapter_for, bound_subclass


class BumbleScannerArgs(TypedDict, total=False):
    """The ``bumble={...}`` keyword of ``BleakScanner`` for this backend."""

    adapter: BumbleAdapter
    """The adapter to scan on, overriding the one bound to the backend class."""


class BleakScannerBumble(BaseBleakScanner):
    """bleak scanner backend on a :class:`BumbleAdapter`.

    bleak instantiates backend classes itself, so the adapter is found on the class
    (``bumble_adapter``, set on the per-adapter subclass made by :meth:`bound_to`) unless a
    ``bumble={"adapter": ...}`` keyword overrides it.

    Args:
        detection_callback: called for each advertisement (see ``BleakScanner``).
        service_uuids: only advertisements naming one of these services are reported.
        scanning_mode: ``"active"`` (request scan responses) or ``"passive"``.
        bumble: backend-specific arguments (:class:`BumbleScannerArgs`).
    """

    bumble_adapter: ClassVar[BumbleAdapter | None] = None

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: Literal["active", "passive"] = "active",
        *,
        bumble: BumbleScannerArgs | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        if scanning_mode not in ("active", "passive"):
            raise BleakError(f"scanning_mode must be 'active' or 'passive', not {scanning_mode!r}")
        self._active = scanning_mode == "active"
        self._adapter = adapter_for(type(self), bumble)
        self._remove_listener: Callable[[], None] | None = None

    @classmethod
    def bound_to(cls, adapter: BumbleAdapter) -> type[BleakScannerBumble]:
        """A subclass whose instances scan on ``adapter`` (pass it as ``backend=``)."""
        return bound_subclass(cls, adapter)

    @property
    def adapter(self) -> BumbleAdapter:
        """The adapter this scanner listens on."""
        return self._adapter

    async def start(self) -> None:
        """Clear what was seen and start (or join) the adapter's scan."""
        if self._remove_listener is not None:
            return
        self.seen_devices = {}
        self._remove_listener = self._adapter.add_advertisement_listener(self._on_advertisement)
        try:
            await self._adapter.start_scanning(active=self._active)
        except BaseException:
            self._remove_listener()
            self._remove_listener = None
            raise

    async def stop(self) -> None:
        """Stop listening (the scan itself stops when the adapter's last scanner stops)."""
        if self._remove_listener is None:
            return
        self._remove_listener()
        self._remove_listener = None
        await self._adapter.stop_scanning()

    def _on_advertisement(self, advertisement: Advertisement, adv: AdvertisementData) -> None:
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        address = address_string(advertisement.address)
        device = self.create_or_update_device(
            advertisement.address.to_string(with_type_qualifier=True),
            address,
            adv.local_name or self._adapter.known_name(address),
            BumbleDeviceDetails(advertisement.address, self._adapter.spec, advertisement),
            adv,
        )
        self.call_detection_callbacks(device, adv)
