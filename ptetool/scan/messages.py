"""The kernel messages that carry page-table values, and the lines that tell release and arch.

Each pattern is the printk format of a kernel version range (the file and the
versions stand beside it); ``%08llx`` is a minimum width, so values match any
number of hex digits. A message that starts right but does not parse is
reported as unparsed, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEX = r"[0-9a-f]+"


@dataclass(frozen=True)
class Found:
    """A value as the message printed it: what it is, at which level, and the arch its format implies."""

    message: str
    name: str
    token: str
    level: str = "pte"
    arch: str | None = None  # None: the log's arch decides
    cut: bool = False  # the line was cut short (a '>' at the cut) right after this value
    printed: str | None = None  # the names the kernel printed beside a flags word
    subject: bool = True  # the entry the message complains about (not the tables above it)


@dataclass(frozen=True)
class Unparsed:
    message: str
    why: str


# mm/memory.c print_bad_pte(), 2.6.29-6.17: "BUG: Bad page map in process %s  pte:%08llx pmd:%08llx";
# print_bad_page_map() 6.18 on: "BUG: Bad page map in process %s  %s:%08llx", then "pgd:.. p4d:.. pud:.. pmd:..".
BAD_PAGE_MAP = re.compile(r"BUG: Bad page map in process (?P<comm>.*?) +(?P<rest>(?:pgd|p4d|pud|pmd|pte):.*)$")
BAD_PAGE_MAP_START = re.compile(r"BUG: Bad page map in process (?!.*messages suppressed)")
# print_bad_page_map() 6.18: the walk above the bad entry on its own line.
LEVEL_TOKENS = re.compile(rf"\b(?P<level>pgd|p4d|pud|pmd|pte):\s*(?P<value>{HEX})(?P<cut>>)?(?![0-9a-z])")
PGTABLE_LINE = re.compile(rf"pgd:\s*{HEX}(?: (?:p4d|pud|pmd):\s*{HEX})*>?\s*$")
# A Bad page map wrapped by a mail client: its values alone on the next lines.
LEVEL_ONLY = re.compile(rf"(?:(?:pgd|p4d|pud|pmd|pte):\s*{HEX}>?\s*)+$")
# mm/swapfile.c: "%s%08lx" with "Bad swap file entry ", "Bad swap offset entry ", "Unused swap file entry ",
# "Unused swap offset entry ", after "swap_free: " (<= 4.10), "swap_info_get: " (4.11-5.11), "%s: " __func__
# (5.12 on: __swap_info_get, _swap_info_get), "get_swap_device: " (5.1 on), "swap_dup: " (<= 5.0).
SWAP_ENTRY = re.compile(rf"(?:(?P<func>[A-Za-z_]\w*): )?(?P<kind>Bad|Unused) swap (?P<what>file|offset) entry "
                        rf"(?P<value>{HEX})(?P<cut>>)?\s*$")
SWAP_ENTRY_START = re.compile(r"(?:Bad|Unused) swap (?:file|offset) entry")
# arch/x86/mm/fault.c dump_pagetable() (x86_64): "PGD %lx " ["P4D %lx " from 4.12] "PUD %lx " "PMD %lx " "PTE %lx";
# from 4.9 the pieces may land on separate lines.
X86_WALK = re.compile(rf"\b(?P<level>PGD|P4D|PUD|PMD|PTE) (?P<value>{HEX})(?P<cut>>)?(?![0-9a-z])")
X86_WALK_START = re.compile(rf"PGD {HEX}")
X86_WALK_CONT = re.compile(rf"(?:P4D|PUD|PMD|PTE) {HEX}")
# arch/x86/mm/fault.c (i386): "*pdpt = %016Lx *pde = %016Lx *pte = %016Lx" or "*pde = %08Lx ".
I386_WALK = re.compile(rf"\*(?P<level>pdpt|pde|pte) = (?P<value>{HEX})")
# arch/arm64/mm/fault.c show_pte(): "[%016lx] pgd=%016llx, p4d=.., pud=.., pmd=.., pte=.." (5.8 on; '*pgd=' and
# no p4d before 4.16/5.8); arch/arm/mm/fault.c: "[%08lx] *pgd=%08llx, *pmd=.., *pte=.., *ppte=..";
# arch/riscv/mm/fault.c (6.13 on): the arm64 form.
BRACKET_WALK = re.compile(rf"(?:[A-Za-z]*)\[(?P<addr>{HEX})\] \*?pgd=(?P<rest>{HEX}.*)$")
BRACKET_TOKENS = re.compile(rf"\*?(?P<level>pgd|p4d|pud|pmd|pte|ppte)=(?P<value>{HEX})(?P<cut>>)?")
# mm/pgtable-generic.c p?d_clear_bad() through the arch's *_ERROR macros: "%s:%d: bad pmd %p(%016lx)".
BAD_ENTRY = re.compile(rf"\S+:\d+: bad (?P<level>pgd|p4d|pud|pmd|pte) (?:\S+\((?P<value>{HEX})\)|(?P<value2>{HEX}))")
# mm/debug.c dump_page(): "page:%p count:%d mapcount:%d mapping:%p index:%#lx" (<= 5.4),
# "page:%p refcount:%d ... pfn:%#lx" (5.5 on), "page: refcount:%d ... pfn:%#lx" (6.10 on).
DUMP_PAGE = re.compile(r"page:\s?\S* ?(?:ref)?count:-?\d+ mapcount:-?\d+ mapping:\s*\S+ index:\S+"
                       rf"(?: (?:device )?pfn:(?:0x)?(?P<pfn>{HEX}))?")
# "flags: %#lx(%pGp)" (3.18 on; "page flags: " before, "anon flags:"/"ksm flags:" 5.5 on, %pGp prints the
# number itself from 5.14), and bad_page()'s "bad because of flags: %#lx(%pGp)" (3.14-4.19).
PAGE_FLAGS = re.compile(rf"(?P<lead>(?:page |anon |ksm |bad because of )?flags:) (?:0x)?(?P<value>{HEX})"
                        r"(?:\((?P<names>[^)]*)(?P<close>\))?)?")
# mm/page_alloc.c bad_page(): "BUG: Bad page state in process %s  pfn:%05lx".
BAD_PAGE_STATE = re.compile(rf"BUG: Bad page state in process (?P<comm>.*?) +pfn:(?P<pfn>{HEX})(?P<cut>>)?")
BAD_PAGE_STATE_START = re.compile(r"BUG: Bad page state in process (?!.*messages suppressed)")
# kernel/fork.c check_mm(): "idx:%d" (3.4-5.1), "type:%s" (5.2 on).
RSS_COUNTER = re.compile(r"BUG: Bad rss-counter state mm:\S+ (?:idx:(?P<idx>\d+)|type:(?P<type>MM_\w+)) "
                         r"val:(?P<val>-?\d+)")
RSS_COUNTER_START = re.compile(r"BUG: Bad rss-counter state")
RSS_TYPES = ("MM_FILEPAGES", "MM_ANONPAGES", "MM_SWAPENTS", "MM_SHMEMPAGES")

# lib/dump_stack.c dump_stack_print_info() (3.10 on) and the boot banner (init/version.c).
CPU_START = re.compile(r"(?:CPU: \d+ (?:UID: \d+ )?PID: \d+ Comm: |Pid: \d+, comm: )")
CPU_LINE = re.compile(r"CPU: \d+ (?:UID: \d+ )?PID: \d+ Comm: .{0,20}? (?:Kdump: loaded )?"
                      r"(?:Not tainted|Tainted: [A-Z -]*?) +(?P<release>\d+\.\d+[\w.+~-]*)")
PID_LINE = re.compile(r"Pid: \d+, comm: .{0,20}? (?:Not tainted|Tainted: [A-Z ]*?) +(?P<release>\d+\.\d+[\w.+~-]*)")
BANNER = re.compile(r"Linux version (?P<release>\d+\.\d+[\w.+~-]*)")
# Register dumps and fault lines that name the arch.
ARCH_MARKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"RIP: [0-9a-f]{4}:"), "x86_64"),
    (re.compile(r"\bRAX: [0-9a-f]{16}"), "x86_64"),
    (re.compile(r"\bEIP: "), "i386"),
    (re.compile(r"\*pde = "), "i386"),
    (re.compile(r"pc : \[<[0-9a-f]{8}>\]"), "arm"),
    (re.compile(r"\bpsr: [0-9a-f]{8}"), "arm"),
    (re.compile(r"pc : (?!\[<[0-9a-f]{8}>\])"), "arm64"),
    (re.compile(r"\bpstate: [0-9a-f]{8}"), "arm64"),
    (re.compile(r"pgtable: \d+k pages, \d+-bit VAs"), "arm64"),
    (re.compile(r"\bepc : .* ra : "), "riscv64"),
    (re.compile(r"pgtable: \d+K pagesize"), "riscv64"),
    (re.compile(r"\bNIP:? "), "powerpc"),
    (re.compile(r"\bERA: |\bera == "), "loongarch"),
    (re.compile(r"\bTPC: |\bTSTATE: "), "sparc64"),
    (re.compile(r"\bIAOQ"), "parisc"),
    (re.compile(r"Krnl PSW :|Failing address: .* TEID"), "s390x"),
    (re.compile(r"\bepc\s+: [0-9a-f]{8,16}"), "mips"),
    (re.compile(r"\bstatus: [0-9a-f]{16} badaddr: "), "riscv64"),
    (re.compile(r"Hardware name: .*(?i:riscv)"), "riscv64"),
    (re.compile(r"Hardware name: ASpeed"), "arm"),  # ASPEED BMC SoCs are 32-bit ARM
    # arm64 names its machine "%s (DT)" (arch/arm64/kernel/setup.c); riscv does too, so its boards'
    # vendors are named; 32-bit ARM prints the machine name alone ("Generic DT based system").
    (re.compile(r"Hardware name: .*(?i:sifive|starfive|visionfive|sophgo|t-?head|milk-?v|kendryte|canaan|spacemit|"
                r"licheepi|nezha|sun20i) .*\(DT\)"), "riscv64"),
    (re.compile(r"Hardware name: .*\(DT\)\s*$"), "arm64"),
    (re.compile(r"__s390x_|Hardware name: (?:IBM|QEMU) \d{4} "), "s390x"),
    # struct page pointers: x86_64's vmemmap at 0xffffea..., arm64's at 0xfffffc... or 0xfffffe...
    (re.compile(r"\bpage:ffffea[0-9a-f]{10} "), "x86_64"),
    (re.compile(r"\bpage:ffff(?:fc|fd|fe)[0-9a-f]{10} "), "arm64"),
    (re.compile(r"\bpage:[0-9a-f]{8} (?:ref)?count:"), "32-bit"),
    # Call-trace entries with kernel text at low addresses: sparc64 (s390x is caught above).
    (re.compile(r"\[<00000000[0-9a-f]{8}>\] \w+\+0x"), "sparc64"),
    # Call traces with file names (syzbot, CONFIG_DEBUG_INFO decoders) name the arch directory.
    (re.compile(r"\barch/x86/"), "x86_64"),
    (re.compile(r"\barch/arm64/"), "arm64"),
    (re.compile(r"\barch/arm/"), "arm"),
    (re.compile(r"\barch/riscv/"), "riscv64"),
    (re.compile(r"\barch/s390/"), "s390x"),
    (re.compile(r"\barch/powerpc/"), "powerpc"),
    (re.compile(r"\barch/sparc/"), "sparc64"),
)
RELEASE_ARCH: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"x86_64|amd64|\.x86-64"), "x86_64"),
    (re.compile(r"aarch64|arm64|-v8\b|-v8[-+]"), "arm64"),
    (re.compile(r"armv7|armmp|-v7[+l-]|-v7$|-v6"), "arm"),
    (re.compile(r"i[3-6]86|-686"), "i386"),
    (re.compile(r"riscv64"), "riscv64"),
    (re.compile(r"ppc64|powerpc"), "powerpc"),
    (re.compile(r"s390x"), "s390x"),
    (re.compile(r"loong"), "loongarch"),
)


def _x86_level(name: str) -> str:
    return name.lower()


def find(text: str, walk_open: bool, bad_map_open: bool = False) -> tuple[list[Found], list[Unparsed], bool]:
    """The values one cleaned line prints, what looked like a message and did not parse, and
    whether an x86 page-table walk is still open at its end (its pieces may continue on the next line).
    ``bad_map_open``: a Bad page map began just before, so a line of bare level values continues it."""
    found: list[Found] = []
    unparsed: list[Unparsed] = []
    if bad_map_open and LEVEL_ONLY.match(text):
        return _level_tokens(text, "bad_page_map"), unparsed, False
    if BAD_PAGE_MAP_START.match(text):
        match = BAD_PAGE_MAP.match(text)
        if match is None:
            unparsed.append(Unparsed("bad_page_map", "no pte:/pmd: value where the message prints them"))
        else:
            found += _level_tokens(match["rest"], "bad_page_map", first_is_subject=True)
        return found, unparsed, False
    if PGTABLE_LINE.match(text):
        return _level_tokens(text, "bad_page_map"), unparsed, False
    if SWAP_ENTRY_START.search(text):
        match = SWAP_ENTRY.search(text)
        if match is None:
            unparsed.append(Unparsed("bad_swap_entry", "no hex swp_entry_t value after the message"))
        else:
            found.append(Found("bad_swap_entry", "swp_entry", match["value"], "pte", "generic", bool(match["cut"])))
        return found, unparsed, False
    if X86_WALK_START.match(text) or (walk_open and X86_WALK_CONT.match(text)):
        for m in X86_WALK.finditer(text):
            found.append(Found("oops_pagetable", _x86_level(m["level"]), m["value"], _x86_level(m["level"]),
                               "x86_64", bool(m["cut"])))
        return found, unparsed, not text.rstrip().startswith("PTE") and " PTE " not in text
    if I386_WALK.search(text):
        for m in I386_WALK.finditer(text):
            level = {"pdpt": "pud", "pde": "pmd", "pte": "pte"}[m["level"]]
            found.append(Found("oops_pagetable", m["level"], m["value"], level, "i386"))
        return found, unparsed, False
    match = BRACKET_WALK.search(text)
    if match:
        pgd = re.match(HEX, match["rest"])
        arch = "arm" if len(match["addr"]) <= 8 and pgd and len(pgd[0]) <= 8 else None
        for m in BRACKET_TOKENS.finditer(text[match.start("rest") - 5:]):
            level = "pte" if m["level"] == "ppte" else m["level"]
            found.append(Found("oops_pagetable", m["level"], m["value"], level, arch, bool(m["cut"])))
        return found, unparsed, False
    match = BAD_ENTRY.search(text)
    if match:
        # x86_64's *_ERROR prints "%p(%016lx)"; arm64, riscv and others print the bare value and a '.'.
        arch = "x86_64" if match["value"] else None
        found.append(Found("bad_entry", match["level"], match["value"] or match["value2"], match["level"], arch))
        return found, unparsed, False
    match = DUMP_PAGE.search(text)
    if match:
        if match["pfn"]:
            found.append(Found("dump_page", "pfn", match["pfn"]))
        return found, unparsed, False
    match = PAGE_FLAGS.match(text)
    if match:
        found.append(Found("dump_page", "page_flags", match["value"], printed=match["names"]))
        return found, unparsed, False
    if BAD_PAGE_STATE_START.match(text):
        match = BAD_PAGE_STATE.match(text)
        if match is None:
            unparsed.append(Unparsed("bad_page_state", "no pfn: value where the message prints it"))
        else:
            found.append(Found("bad_page_state", "pfn", match["pfn"], cut=bool(match["cut"])))
        return found, unparsed, False
    if RSS_COUNTER_START.match(text):
        match = RSS_COUNTER.match(text)
        if match is None:
            unparsed.append(Unparsed("bad_rss_counter", "no idx:/type: and val: where the message prints them"))
        else:
            counter = match["type"] or (RSS_TYPES[int(match["idx"])] if int(match["idx"]) < len(RSS_TYPES)
                                        else f"idx {match['idx']}")
            found.append(Found("bad_rss_counter", counter, match["val"]))
        return found, unparsed, False
    return found, unparsed, False


def _level_tokens(text: str, message: str, first_is_subject: bool = False) -> list[Found]:
    """Level-named values; in a Bad page map line the first is the bad entry, the rest its tables."""
    return [Found(message, m["level"], m["value"], m["level"], None, bool(m["cut"]),
                  subject=first_is_subject and i == 0)
            for i, m in enumerate(LEVEL_TOKENS.finditer(text))]


# arch/x86/kernel/e820.c: "BIOS-e820: [mem %#018Lx-%#018Lx] usable" (3.x on; "e820: " before 4.x too).
E820_RAM = re.compile(r"(?:BIOS-)?e820: \[mem 0x(?P<start>[0-9a-f]+)-0x(?P<end>[0-9a-f]+)\] usable")


# arm64 show_pte(): "pgtable: %luk pages, %llu-bit VAs"; riscv: "pgtable: %luK pagesize" (fault.c).
PAGE_SIZE_LINE = re.compile(r"pgtable: (?P<kib>\d+)[kK] page")


def page_kib_in(text: str) -> int | None:
    """The page size in KiB that an oops's page-table header states, if the line states one."""
    match = PAGE_SIZE_LINE.search(text)
    return int(match["kib"]) if match else None


def ram_end_in(text: str) -> int | None:
    """The first page frame past a usable RAM range the boot log reports, if the line reports one."""
    match = E820_RAM.search(text)
    return (int(match["end"], 16) + 1) >> 12 if match else None


def release_in(text: str) -> str | None:
    for pattern in (CPU_LINE, BANNER, PID_LINE):
        match = pattern.search(text)
        if match:
            return match["release"].rstrip(".-")
    return None


def arch_in(text: str) -> str | None:
    for pattern, arch in ARCH_MARKS:
        if pattern.search(text):
            return arch
    return None


def arch_of_release(release: str) -> str | None:
    for pattern, arch in RELEASE_ARCH:
        if pattern.search(release):
            return arch
    return None

