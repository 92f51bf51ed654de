"""Importers for the files people already have (see base.py for the contract)."""

from sensors.importers.base import Batch, ImportOptions
from sensors.importers.run import FileReport, dry_run_file, expand_paths, import_file

__all__ = ["Batch", "FileReport", "ImportOptions", "dry_run_file", "expand_paths", "import_file"]
