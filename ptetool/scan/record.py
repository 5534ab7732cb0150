"""The JSON shape of a scan finding: the decode record plus where and what it was in the log."""

from __future__ import annotations

from typing import Any

from ptetool.record import model_record, to_record
from ptetool.scan.scanner import Finding
from ptetool.values import format_value


def scan_record(f: Finding) -> dict[str, Any]:
    """SPEC "scan findings": the record of the value, plus line, message, name, text and hints.

    A value that is found but not decoded (an arch not modelled yet, a pfn, a cut line) keeps
    the record's keys with ``class`` null and says why in ``not_decoded``; a message that did
    not parse has ``value`` null and says why in ``unparsed``.
    """
    if f.decoded is not None:
        record: dict[str, Any] = dict(to_record(f.decoded))
    else:
        record = {
            "value": format_value(f.value) if f.value is not None and f.value >> 64 == 0 else f.token,
            "class": None, "arch": f.arch or None, "level": f.level, "layout": None, "fields": {}, "flags": [],
            "swap": None, "marker": None, "problems": [], "notes": [], "rules": None,
            "model": model_record(f.model, f.arch) if f.model is not None else _stated(f),
        }
    record.update(line=f.line, message=f.message, name=f.name, text=f.text, hints=list(f.hints))
    if f.decoded is None:
        record["not_decoded" if f.unparsed is None else "unparsed"] = f.why_not or f.unparsed
    if f.page_flags is not None:
        pf = f.page_flags
        record["page_flags"] = {
            "numbering": f"{pf.numbering[0]}.{pf.numbering[1]}", "source": pf.source, "set": list(pf.set_names),
            "printed": list(pf.printed) if pf.printed is not None else None, "agrees": pf.agrees,
            "config_off": list(pf.disabled),
        }
    if f.alternatives:
        record["alternatives"] = [to_record(a) for a in f.alternatives]
    return record



def _stated(f: Finding) -> dict[str, Any] | None:
    """What the report says of its kernel, for a value that was not decoded (no model was applied)."""
    return {"kernel": f.kernel, "sources": dict(f.sources)} if f.kernel is not None else None
