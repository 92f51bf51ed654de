"""Fuzzing psoas's decoders and importers: the targets (``targets``) and the atheris harness."""
