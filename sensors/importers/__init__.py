"""Importers for the files people already have (see base.py for the contract)."""

from sensors.importers.base import Batch, ImportOptions
from sensors.importers.run import FileReport, import_file

__all__ = ["Batch", "FileReport", "ImportOptions", "import_file"]
