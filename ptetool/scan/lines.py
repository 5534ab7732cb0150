"""Kernel log lines as people paste them: prefixes off, junk made harmless.

A line may carry any stack of prefixes: mail quoting (``> ``, ``>> ``), grep's
``123:`` or a leading space, syslog or journalctl (``Mar  6 10:13:53 host kernel:``),
an ISO or serial-logger time stamp, ``<1>`` log levels, dmesg time stamps
(``[ 12.345678]``, with a ``[T123]`` caller id), and ``kernel:``. None of them
is part of the message; all are peeled off, repeatedly, in any order.
"""

from __future__ import annotations

import re

_PREFIXES = (
    re.compile(r"\s*(?:>\s?)+"),                                            # mail quoting
    re.compile(r"\d+[:-](?=\s*[\[<A-Za-z])"),                             # grep -n
    re.compile(r"<\d{1,2}>"),                                              # printk log level
    re.compile(r"\[\s*\d+\.\d+\]\s?(?:\[\s*[TC]\d+\]\s?)?"),               # dmesg [ 12.345] [T123]
    re.compile(r"\[\s*[TC]\d+\]\s?"),                                      # caller id alone
    re.compile(r"\[(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d [\d:]{8} \d{4}\]\s?"),  # dmesg -T
    re.compile(r"\d{4}-\d\d-\d\d[T ][\d:.,]+(?:Z|[+-]\d\d:?\d\d)?\s+(?:-->\s*)?"),  # ISO / serial loggers
    re.compile(r"\S{3,5}\.? [ \d]\d [\d:]{8}\s+\S+\s+(?:kernel|\S+\[\d+\])?:\s?"),  # syslog, journalctl
    re.compile(r"\d\d:\d\d:\d\d(?:\.\d+)?\s+"),                            # CI logs HH:MM:SS
    re.compile(r"(?:[\w.-]+ )?kernel:\s?"),                                # [host] kernel:
    re.compile(r"\s+"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(raw: bytes | str) -> str:
    """The message text of one log line: prefixes peeled off, control bytes and bad UTF-8 made visible."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = _CONTROL.sub(" ", text.rstrip("\r\n"))
    while True:
        for prefix in _PREFIXES:
            match = prefix.match(text)
            if match and match.end():
                text = text[match.end():]
                break
        else:
            return text.rstrip()
