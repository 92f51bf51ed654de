"""The importers psoas knows, in the order they are asked whether they read a file.

Adding a format: one module with a class following ``base.Importer``, and one line here.
"""

from __future__ import annotations

from sensors.importers.base import Importer
from sensors.importers.csvfile import CsvImporter

IMPORTERS: tuple[Importer, ...] = (CsvImporter(),)
