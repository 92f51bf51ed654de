"""The importers psoas knows, in the order they are asked whether they read a file.

Adding a format: one module with a class following ``base.Importer``, and one line here.
"""

from __future__ import annotations

from sensors.importers.apple_health import AppleHealthImporter
from sensors.importers.axivity import AxivityImporter
from sensors.importers.base import Importer
from sensors.importers.csvfile import CsvImporter
from sensors.importers.fit import FitImporter
from sensors.importers.geneactiv import GeneactivImporter

IMPORTERS: tuple[Importer, ...] = (
    FitImporter(),
    AxivityImporter(),
    GeneactivImporter(),
    AppleHealthImporter(),
    CsvImporter(),
)
