"""Read kernel log text line by line and decode every page-table value in it, with a model per report.

Memory stays constant: findings wait in a window of at most ``WINDOW`` lines for
the report's own ``CPU: ... <release>`` line (dump_stack prints it after the
message), then are decoded and handed on. The release and arch seen last carry
on to later reports that print none.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from ptetool.arch import generic
from ptetool.decoder import ARCHES, Decoded, decode, other_reading
from ptetool.errors import UsageError, WorkError
from ptetool.kernel import NEWEST, Model, build_model, version_str
from ptetool.layout import ENTRY_MASK
from ptetool.pageflags import PageFlags, decode_flags
from ptetool.releases import parse_release
from ptetool.scan import messages
from ptetool.scan.hints import hints_for
from ptetool.scan.lines import clean

WINDOW = 200
ARCH_LOOKAHEAD = 80  # the register dump that names the arch follows the CPU: line within this many lines
BAD_MAP_WRAP = 3
MIN_SOFT_BREAK = 60  # quoted-printable folds lines at 76 characters; shorter lines ending in '=' are text
PAIR_DISTANCE = 3  # a swap message and the Bad page map of the same entry are printed together
# The x86_64 swap layouts a swap PTE is tried against: (L1TF, variant).
LAYOUTS: tuple[tuple[bool, str | None], ...] = ((True, None), (False, None), (False, "offset15"))
LAYOUT_NAMES = {(True, None): "L1TF", (False, None): "pre-L1TF",
                (False, "offset15"): "first erratum-move (offset 15)"}
# Arches whose swp_entry_t is 32 bits wide (or may be): the 64-bit generic layout does not apply.
SWP_32BIT = ("arm", "i386", "powerpc", "mips", "32-bit")
NOT_MODELLED = ("32-bit", "arm", "i386", "powerpc", "loongarch", "mips", "parisc", "sparc64",
                "s390x")


@dataclass(frozen=True)
class Options:
    """What the command line forces; None leaves it to the log (or a default)."""

    kernel: str | None = None
    kconfig: str | None = None
    arch: str | None = None
    l1tf: bool | None = None
    phys_bits: int | None = None
    la57: bool | None = None


@dataclass(frozen=True)
class Finding:
    """One value found in the log (or a message that did not parse), and what it decodes to."""

    line: int
    message: str
    name: str | None
    text: str
    token: str | None
    value: int | None
    level: str
    arch: str
    decoded: Decoded | None = None
    alternatives: tuple[Decoded, ...] = ()
    hints: tuple[str, ...] = ()
    why_not: str | None = None
    model: Model | None = None
    unparsed: str | None = None
    page_flags: PageFlags | None = None
    # The kernel the report names (or the default) and where the kernel and arch came from; a decoded
    # value's model says the same and more.
    kernel: str | None = None
    sources: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The record `ptetool scan --format ndjson` prints for this finding."""
        from ptetool.scan.record import scan_record

        return scan_record(self)


@dataclass
class _Context:
    release: tuple[str, int] | None = None
    arch: tuple[str, int, str] | None = None
    # The swap layout a release's own pte/swp_entry_t pair agreed on: it holds for the whole log.
    agreed: dict[str, tuple[tuple[bool, str | None], int]] = field(default_factory=dict)
    ram_end: tuple[int, int] | None = None  # (first pfn past the highest usable RAM in e820, its line)
    page_kib: tuple[int, int] | None = None  # (page size in KiB an oops header states, its line)


@dataclass
class _Pending:
    line: int
    text: str
    found: messages.Found | None
    unparsed: messages.Unparsed | None = None
    swap_agreement: tuple[tuple[bool, str | None], int] | None = None
    extra_sources: dict[str, str] = field(default_factory=dict)


DEFAULT_OPTIONS = Options()


def scan_log(lines: Iterable[bytes | str], options: Options = DEFAULT_OPTIONS) -> Iterator[Finding]:
    """Every page-table value in ``lines`` (kernel log text), decoded with the model its report implies."""
    context = _Context()
    pending: list[_Pending] = []  # this report's findings, waiting for its CPU: line
    resolved: list[_Pending] = []  # a report whose release is known, waiting for its register dump's arch
    resolved_at = 0
    walk_open = False
    bad_map_line = 0  # the line of a Bad page map whose values may follow on the next lines
    cpu_start = ""  # a CPU: line wrapped before its release
    soft_break = ""  # a quoted-printable mail's soft line break: the line goes on in the next one
    for number, raw in enumerate(lines, 1):
        cleaned = clean(raw)
        if cleaned.endswith("=") and not cleaned.endswith("==") and len(soft_break + cleaned) > MIN_SOFT_BREAK:
            soft_break += cleaned[:-1].replace("=3D", "=")
            continue
        text = soft_break + cleaned.replace("=3D", "=")
        soft_break = ""
        if not text:
            continue
        release = messages.release_in(cpu_start + text if cpu_start else text)
        cpu_start = text + " " if messages.CPU_START.search(text) and release is None else ""
        ram_end = messages.ram_end_in(text)
        if ram_end is not None and (context.ram_end is None or ram_end > context.ram_end[0]):
            context.ram_end = (ram_end, number)
        page_kib = messages.page_kib_in(text)
        if page_kib is not None:
            context.page_kib = (page_kib, number)
        arch = messages.arch_in(text)
        if arch:
            context.arch = (arch, number, text[:60])
            if resolved:
                yield from _flush(resolved, context, options)
                resolved = []
        bad_map_open = 0 < number - bad_map_line <= BAD_MAP_WRAP
        found, unparsed, walk_open = messages.find(text, walk_open, bad_map_open)
        if unparsed and unparsed[0].message == "bad_page_map":
            bad_map_line = number  # the values may come on the next lines
            pending.append(_Pending(number, text, None, unparsed[0]))
        else:
            if found and found[0].message == "bad_page_map":
                bad_map_line = number
                pending = [p for p in pending if not (p.unparsed and p.unparsed.message == "bad_page_map"
                                                      and number - p.line <= BAD_MAP_WRAP)]
            pending += [_Pending(number, text, f) for f in found]
            pending += [_Pending(number, text, None, u) for u in unparsed]
        if release:
            context.release = (release, number)
            by_release = messages.arch_of_release(release)
            if by_release:
                context.arch = (by_release, number, f"release {release}")
            yield from _flush(resolved, context, options)
            resolved, resolved_at, pending = pending, number, []
        elif resolved and number - resolved_at > ARCH_LOOKAHEAD:
            yield from _flush(resolved, context, options)
            resolved = []
        if pending and number - pending[0].line > WINDOW:
            yield from _flush(resolved + pending, context, options)
            resolved, pending = [], []
    yield from _flush(resolved + pending, context, options)


def _flush(batch: list[_Pending], context: _Context, options: Options) -> Iterator[Finding]:
    _agree(batch, context, options)
    for item in batch:
        yield _finding(item, context, options)


def _arch_for(found: messages.Found, context: _Context, options: Options) -> tuple[str, str]:
    if options.arch:
        return options.arch, f"--arch {options.arch}"
    if found.arch is not None:
        return found.arch, "the message's own format"
    bracketed = found.message in ("oops_pagetable", "bad_entry")  # a format arm64 and riscv64 share
    if context.arch is not None:
        arch, line, why = context.arch
        if bracketed and arch in ("x86_64", "i386"):
            return "arm64", "the message's format (as arm64 prints it, not x86)"
        return arch, f"log line {line}: {why}"
    if bracketed:
        return "arm64", "the message's format (as arm64 prints it, not x86)"
    return "x86_64", "default: the log names no arch"


def _kernel_for(context: _Context, options: Options) -> tuple[str, str]:
    if options.kernel:
        return options.kernel, f"--kernel {options.kernel}"
    if context.release is not None:
        release, line = context.release
        return release, f"log line {line}: release {release}"
    return version_str(NEWEST), f"default: the log names no release; the newest modelled ({version_str(NEWEST)})"


def _model(kernel: str, kconfig: str | None, phys_bits: int | None, la57: bool | None, l1tf: bool | None,
           sources: tuple[tuple[str, str], ...]) -> Model:
    return replace(_built(kernel, kconfig, phys_bits, la57, l1tf), sources=sources)


@lru_cache(maxsize=64)
def _built(kernel: str, kconfig: str | None, phys_bits: int | None, la57: bool | None, l1tf: bool | None) -> Model:
    return build_model(kernel, kconfig or "allyes", phys_bits, la57 if la57 is not None else False, l1tf)


def _model_for(item: _Pending, arch: str, arch_why: str, context: _Context, options: Options) -> Model:
    kernel, kernel_why = _kernel_for(context, options)
    sources = {"kernel": kernel_why, "arch": arch_why,
               "kconfig": f"--kconfig {options.kconfig}" if options.kconfig else "default: allyes (every option)"}
    l1tf: bool | None = options.l1tf
    if options.l1tf is not None:
        sources["swap_layout"] = f"--{'' if options.l1tf else 'no-'}l1tf"
    variant = None
    if item.swap_agreement is None and context.release is not None and arch == "x86_64":
        item.swap_agreement = context.agreed.get(context.release[0])
    if options.l1tf is None and item.swap_agreement is not None:
        (l1tf, variant), other = item.swap_agreement
        sources["swap_layout"] = (f"agreement with line {other}: the pte and the swp_entry_t the kernel printed "
                                  f"for it agree only under the {LAYOUT_NAMES[(l1tf, variant)]} layout")
    model = _model(kernel, options.kconfig, options.phys_bits, options.la57, options.l1tf, tuple(sources.items()))
    if options.l1tf is not None or item.swap_agreement is None:
        return model
    kept = tuple(a for a in model.assumptions if not a.startswith("x86 swap layout"))
    return replace(model, l1tf=l1tf, swap_variant=variant, l1tf_unsure=False,
                   assumptions=(*kept, f"x86 swap layout: {sources['swap_layout']}"))


def _finding(item: _Pending, context: _Context, options: Options) -> Finding:
    if item.found is None:
        assert item.unparsed is not None
        return Finding(item.line, item.unparsed.message, None, item.text, None, None, "pte", "",
                       unparsed=item.unparsed.why)
    found = item.found
    arch, arch_why = _arch_for(found, context, options)
    value = int(found.token, 16)
    kernel, kernel_why = _kernel_for(context, options)
    base = Finding(item.line, found.message, found.name, item.text, found.token, value, found.level, arch,
                   kernel=kernel, sources=(("kernel", kernel_why), ("arch", arch_why)))
    if found.cut:
        return replace(base, why_not="the line is cut short right after this value: its digits may be incomplete")
    if value > ENTRY_MASK:
        return replace(base, why_not=f"{found.token} has {value.bit_length()} bits, more than 64")
    if found.name == "page_flags" and arch not in ("x86_64", "generic"):
        return replace(base, why_not=f"struct page flags of {arch}, whose page-flag numbering is not modelled "
                       "(only x86_64's is)")
    if found.name == "page_flags":
        kernel, _ = _kernel_for(context, options)
        release = parse_release(kernel)
        version = release.version if release else NEWEST
        return replace(base, why_not=_not_an_entry(found), page_flags=decode_flags(value, version, found.printed))
    if found.message == "bad_rss_counter" or found.name == "pfn":
        return replace(base, why_not=_not_an_entry(found))
    if arch == "generic" and context.arch is not None and context.arch[0] in SWP_32BIT and not options.arch:
        return replace(base, why_not=f"the log is from {context.arch[0]}, whose swp_entry_t may be 32 bits wide: "
                       "not modelled yet")
    if arch not in ARCHES:
        not_yet = "is not modelled yet" if arch in NOT_MODELLED else "is not modelled"
        return replace(base, why_not=f"{arch} page-table layouts {not_yet}: the value is found and named, not decoded")
    if arch in ("arm64", "riscv64") and context.page_kib is not None and context.page_kib[0] != 4:
        kib, line = context.page_kib
        return replace(base, why_not=f"{arch} with {kib} KiB pages (line {line}): only the 4 KiB granule is "
                       "modelled, and the output address and swap fields move with the page size")
    try:
        model = _model_for(item, arch, arch_why, context, options)
    except (UsageError, WorkError) as exc:
        return replace(base, why_not=str(exc))
    d = decode(value, arch, found.level, model)
    other = other_reading(d)
    alternatives = (other,) if other is not None else ()
    return replace(base, decoded=d, model=model, alternatives=alternatives,
                   hints=hints_for(d, _complaint(item, context) if found.subject else "context", context.ram_end))


def _complaint(item: _Pending, context: _Context) -> str:
    """What the kernel said of this value: a swap message's own words where there is one."""
    assert item.found is not None
    match = messages.SWAP_ENTRY.search(item.text) if item.found.message == "bad_swap_entry" else None
    if match:
        return f"{match['kind']} swap {match['what']} entry"
    return item.found.message


def _not_an_entry(found: messages.Found) -> str:
    if found.name == "pfn":
        return "a page frame number, not a page-table entry"
    if found.name == "page_flags":
        return "struct page flags, not a page-table entry (decoded under page_flags)"
    return f"an rss counter ({found.name}), not a page-table entry"


def _agree(batch: list[_Pending], context: _Context, options: Options) -> None:
    """Where the kernel printed a swap PTE and the swp_entry_t derived from it, let the two choose the layout."""
    if options.l1tf is not None:
        return
    swaps = [p for p in batch if p.found and p.found.message == "bad_swap_entry" and not p.found.cut]
    ptes = [p for p in batch if p.found and p.found.message == "bad_page_map" and p.found.name == "pte"
            and not p.found.cut]
    for swap in swaps:
        assert swap.found is not None
        near = [p for p in ptes if abs(p.line - swap.line) <= PAIR_DISTANCE]
        if not near:
            continue
        pte = min(near, key=lambda p: abs(p.line - swap.line))
        assert pte.found is not None
        arch, _ = _arch_for(pte.found, context, options)
        if arch != "x86_64":
            continue
        kernel, _ = _kernel_for(context, options)
        try:
            agreeing = [layout for layout in LAYOUTS
                        if _swp_entry_of(int(pte.found.token, 16), kernel, options, layout)
                        == int(swap.found.token, 16)]
        except (UsageError, WorkError):
            continue
        if len(agreeing) == 1:
            swap.swap_agreement = (agreeing[0], pte.line)
            pte.swap_agreement = (agreeing[0], swap.line)
            if context.release is not None and not options.kernel:
                context.agreed.setdefault(context.release[0], (agreeing[0], swap.line))


def _swp_entry_of(pte: int, kernel: str, options: Options, layout: tuple[bool, str | None]) -> int | None:
    """The arch-independent swp_entry_t the kernel derives from an x86_64 swap PTE under one layout."""
    model = replace(build_model(kernel, options.kconfig or "allyes", options.phys_bits, False, layout[0]),
                    swap_variant=layout[1])
    if pte > ENTRY_MASK:
        return None
    d = decode(pte, "x86_64", "pte", model)
    if d.swap is None:
        return None
    entry = generic.layout("swap", "pte", model)
    try:
        return entry["swp_type"].insert(d.swap.type) | entry["swp_offset"].insert(d.swap.offset)
    except ValueError:
        return None


def read_lines(path: str | None) -> Iterator[bytes]:
    """Lines of FILE (or stdin for None/'-') as bytes, one at a time."""
    import sys

    if path in (None, "-"):
        yield from sys.stdin.buffer
        return
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, after a generator's last line
    except OSError as exc:
        raise WorkError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        try:
            yield from handle
        except OSError as exc:  # a read error midway (EIO, a vanished network file)
            raise WorkError(f"cannot read {path}: {exc.strerror or exc}") from None

