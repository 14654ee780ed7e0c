"""The package version, importable from every room without loading the others."""

__version__ = "0.1.0"
