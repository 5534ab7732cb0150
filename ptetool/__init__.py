"""ptetool: bit-exact encoder/decoder for Linux page-table entries."""

__version__ = "0.1.0"
