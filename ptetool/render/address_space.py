"""A picture of an address space: each mapping a strip of pages coloured by what pagemap says of them.

Runs of pages with the same class (and marker kind) become segments whose width grows with the
logarithm of their length, so a sparse 32 GiB mapping and a 3-page guard region both stay visible.
The SVG carries every segment's page count (``data-pages``) and the totals (``data-total-*``), so a
script can check the picture against the summary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from ptetool.pagemap import ASSUMED_MASK, CLASS_SHIFT, CLASSES, Rules, Runs, Summary, Vma, decode_record

STRIP_WIDTH = 1000  # px
STRIP_HEIGHT = 20
LABEL_HEIGHT = 30
MAX_SEGMENTS = 4096  # per mapping, kept while reading; beyond it neighbours are merged into mixed segments
MAX_DRAWN = 1000  # segments drawn per strip; more are bucketed

# Categories, in legend order, with their colours (one per class, one per marker kind, one for hidden).
COLORS: dict[str, str] = {
    "present": "#2e7d32",
    "none": "#e0e0e0",
    "swap": "#ef6c00",
    "hidden": "#616161",
    "uffd-wp marker": "#8e24aa",
    "guard marker": "#d50000",
    "poisoned marker": "#000000",
    "marker": "#f06292",
    "migration": "#1565c0",
    "device_private": "#00897b",
    "device_exclusive": "#00acc1",
    "hwpoison": "#b71c1c",
    "swapin_error": "#6d4c41",
    "invalid": "#ff00ff",
}
MIXED = "mixed"


def category(cls: str, marker: tuple[str, ...] | None, assumed: bool) -> str:
    """The picture's name for a run: its class, or for a PTE marker its kind, or hidden."""
    if assumed:
        return "hidden"
    if cls == "pte_marker":
        kinds = [k for k in ("guard", "uffd_wp", "poisoned") if marker and k in marker]
        return {"guard": "guard marker", "uffd_wp": "uffd-wp marker", "poisoned": "poisoned marker"}.get(
            kinds[0], "marker") if kinds else "marker"
    return cls


@dataclass
class Segment:
    category: str
    pages: int
    start: int
    mix: dict[str, int] | None = None  # for a merged segment: pages by category

    def composition(self) -> dict[str, int]:
        return self.mix if self.mix is not None else {self.category: self.pages}


@dataclass
class Strips:
    """Segments per mapping (vma index, -1 without mappings), collected from the summary's runs."""

    rules: Rules
    zeroed_rule: bool
    page_size: int
    by_vma: dict[int, list[Segment]] = field(default_factory=dict)
    _kinds: dict[int, str] = field(default_factory=dict)  # category of a run code (and raw, for markers)

    def add(self, runs: Runs) -> None:
        for run in runs:
            cat = self._category(run.code, run.first)
            segs = self.by_vma.setdefault(run.vma_id, [])
            last = segs[-1] if segs else None
            if (last is not None and last.category == cat and last.mix is None
                    and last.start + last.pages * self.page_size == run.start):
                last.pages += run.pages
                continue
            segs.append(Segment(cat, run.pages, run.start))
            if len(segs) > MAX_SEGMENTS:
                self.by_vma[run.vma_id] = _halve(segs)

    def _category(self, code: int, first: int) -> str:
        cls = CLASSES[code >> CLASS_SHIFT]
        if cls not in ("pte_marker", "swap", "migration"):
            return cls
        entry = decode_record(first, self.rules, self.zeroed_rule)
        return category(entry.cls, entry.marker, bool(entry.pmask & ASSUMED_MASK))


def _halve(segs: list[Segment]) -> list[Segment]:
    """Merge neighbours pairwise: the picture stays within MAX_SEGMENTS, the page counts stay exact."""
    out = []
    for i in range(0, len(segs), 2):
        a = segs[i]
        if i + 1 == len(segs):
            out.append(a)
            continue
        b = segs[i + 1]
        mix = dict(a.composition())
        for cat, pages in b.composition().items():
            mix[cat] = mix.get(cat, 0) + pages
        out.append(Segment(max(mix, key=lambda c: mix[c]), a.pages + b.pages, a.start, mix))
    return out


def _buckets(segs: list[Segment]) -> list[Segment]:
    while len(segs) > MAX_DRAWN:
        segs = _halve(segs)
    return segs


def totals(strips: Strips) -> dict[str, int]:
    counts: dict[str, int] = {}
    for segs in strips.by_vma.values():
        for seg in segs:
            for cat, pages in seg.composition().items():
                counts[cat] = counts.get(cat, 0) + pages
    return counts


def svg(strips: Strips, summary: Summary, vmas: Sequence[Vma] | None, title: str,
        clip: tuple[int, int] | None = None) -> str:
    """The whole picture as an SVG document."""
    all_totals = totals(strips)
    legend = [cat for cat in COLORS if all_totals.get(cat)]
    rows: list[str] = []
    y = 40 + 22 * ((len(legend) + 3) // 4) + 10
    for vma_id, _counts in summary.per_vma:
        segs = _buckets(strips.by_vma.get(vma_id, []))
        if not segs:
            continue
        rows.append(_strip(segs, vma_id, vmas, y, strips.page_size, clip))
        y += LABEL_HEIGHT + STRIP_HEIGHT + 14
    height = y + 20
    width = STRIP_WIDTH + 40
    total_attrs = " ".join(f'data-total-{_slug(cat)}="{pages}"' for cat, pages in sorted(all_totals.items()))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12" {total_attrs}>',
        f'<title>{escape(title)}</title>',
        f'<text x="20" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
        *_legend(legend, all_totals),
        f'<text x="20" y="{40 + 22 * ((len(legend) + 3) // 4)}" fill="#555">each run of n pages is drawn '
        f'1 + log2(n) units wide; hover a segment for its pages</text>',
        *rows,
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def _slug(cat: str) -> str:
    return cat.replace(" ", "-")


def _legend(legend: list[str], all_totals: dict[str, int]) -> list[str]:
    out = []
    for i, cat in enumerate(legend):
        x, y = 20 + (i % 4) * 250, 34 + (i // 4) * 22
        out.append(f'<rect x="{x}" y="{y}" width="14" height="14" fill="{COLORS[cat]}" stroke="#333" '
                   f'stroke-width="0.5"/>')
        out.append(f'<text x="{x + 20}" y="{y + 12}">{escape(cat)}: {all_totals[cat]} pages</text>')
    return out


def _strip(segs: list[Segment], vma_id: int, vmas: Sequence[Vma] | None, y: int, page_size: int,
           clip: tuple[int, int] | None) -> str:
    vma = vmas[vma_id] if vmas is not None and vma_id >= 0 else None
    pages = sum(s.pages for s in segs)
    counts: dict[str, int] = {}
    for seg in segs:
        for cat, n in seg.composition().items():
            counts[cat] = counts.get(cat, 0) + n
    if vma is not None:
        lo, hi = (vma.start, vma.end) if clip is None else (max(vma.start, clip[0]), min(vma.end, clip[1]))
        label = f"{vma.name}  {lo:#x}-{hi:#x} {vma.perms}"
    else:
        label = "(no mapping)" if vmas is not None else "(records)"
    summary = ", ".join(f"{cat} {n}" for cat, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    weights = [1 + math.log2(s.pages) for s in segs]
    scale = STRIP_WIDTH / sum(weights)
    out = [f'<g class="mapping" data-vma="{vma_id}" data-pages="{pages}">',
           f'<text x="20" y="{y + 12}" font-weight="bold">{escape(label)}</text>',
           f'<text x="20" y="{y + 26}" fill="#333">{pages} pages: {escape(summary)}</text>']
    x = 20.0
    top = y + LABEL_HEIGHT + 2
    for seg, weight in zip(segs, weights, strict=True):
        w = weight * scale
        end = seg.start + seg.pages * page_size
        what = seg.category if seg.mix is None else (
            "mixed: " + ", ".join(f"{c} {n}" for c, n in sorted(seg.mix.items(), key=lambda kv: -kv[1])))
        out.append(f'<rect class="seg" x="{x:.2f}" y="{top}" width="{max(w, 0.5):.2f}" height="{STRIP_HEIGHT}" '
                   f'fill="{COLORS.get(seg.category, "#999")}" data-category="{escape(seg.category)}" '
                   f'data-pages="{seg.pages}" data-start="{seg.start:#x}"'
                   + (f' data-mix="{escape(_mix_attr(seg.mix))}"' if seg.mix else "")
                   + f'><title>{seg.start:#x}-{end:#x}: {seg.pages} pages, {escape(what)}</title></rect>')
        x += w
    out.append(f'<rect x="20" y="{top}" width="{STRIP_WIDTH}" height="{STRIP_HEIGHT}" fill="none" '
               'stroke="#333" stroke-width="0.5"/>')
    out.append("</g>")
    return "\n".join(out)


def _mix_attr(mix: dict[str, int]) -> str:
    return ";".join(f"{cat}={n}" for cat, n in sorted(mix.items()))


def html(svg_text: str, title: str) -> str:
    """The picture in a page of its own."""
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{escape(title)}</title>\n"
            "<style>body { font-family: monospace; margin: 1em; }</style>\n</head>\n<body>\n"
            f"{svg_text}</body>\n</html>\n")
