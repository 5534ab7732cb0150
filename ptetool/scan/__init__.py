"""ptetool scan: page-table values in kernel log text, decoded with the model each report implies."""

from ptetool.scan.scanner import Finding, Options, read_lines, scan_log

__all__ = ["Finding", "Options", "read_lines", "scan_log"]
