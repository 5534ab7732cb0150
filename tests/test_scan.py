"""ptetool scan: real kernel log excerpts (tests/data/scan_corpus, each with its source) and edge cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ptetool.render.text import brief
from ptetool.scan import Finding, Options, read_lines, scan_log
from ptetool.scan.lines import clean
from tests.cli_helpers import run

CORPUS = Path(__file__).parent / "data" / "scan_corpus"
GOLDEN = Path(__file__).parent / "golden" / "scan-corpus.txt"


def scan_file(name: str, options: Options | None = None) -> list[Finding]:
    options = options or Options()
    return list(scan_log(read_lines(str(CORPUS / name)), options))


def summary_line(f: Finding) -> str:
    if f.decoded is not None:
        layout = dict(f.decoded.model.sources).get("swap_layout", "")
        model = f"kernel={f.decoded.model.release or f.decoded.model.label} l1tf={f.decoded.model.swap_l1tf}"
        agreed = " [agreement]" if "agree" in layout else ""
        return f"{f.line} {f.message} {f.name} {f.arch} {model} {brief(f.decoded)}{agreed}"
    return f"{f.line} {f.message} {f.name} {f.arch} {f.token} -- {f.why_not or f.unparsed}"


def corpus_summary() -> str:
    out = []
    for path in sorted(CORPUS.glob("*.log")):
        out.append(f"== {path.name}")
        for f in scan_file(path.name):
            out.append(summary_line(f))
            out += [f"    hint: {h}" for h in f.hints]
            if f.page_flags is not None:
                pf = f.page_flags
                out.append(f"    page_flags: {pf.numbering} {'|'.join(pf.set_names)} agrees={pf.agrees} "
                           f"off={','.join(pf.disabled)}")
    return "\n".join(out) + "\n"


def test_every_corpus_file_has_a_source() -> None:
    sources = json.loads((CORPUS / "SOURCES.json").read_text())
    assert sorted(s["file"] for s in sources) == sorted(p.name for p in CORPUS.glob("*.log"))
    assert all(s["source"] for s in sources)


def test_corpus_findings_match_the_reviewed_golden() -> None:
    """Every value of every excerpt, at its level and layout; reviewed by hand (see the notes in the README)."""
    assert corpus_summary() == GOLDEN.read_text()


def test_stable_418_report_selects_l1tf_by_its_own_swp_entry() -> None:
    swap, pte, _pmd, _rss = scan_file("linux-mm-fedora-4.18.8-bad-swap-offset.log")
    assert (swap.name, swap.token, pte.name, pte.token) == ("swp_entry", "1ffffffffffff", "pte", "400000000000000")
    assert swap.decoded is not None and pte.decoded is not None
    assert (pte.decoded.cls, pte.decoded.swap) == (swap.decoded.cls, swap.decoded.swap)
    assert pte.decoded.swap is not None and pte.decoded.swap.offset == (1 << 49) - 1
    assert pte.decoded.model.swap_l1tf and dict(pte.decoded.model.sources)["swap_layout"].startswith(
        "agreement with line 1")
    assert "possible single-bit flip: bit 58 set in 0x0000000000000000 (none) gives this value" in pte.hints


def test_41_report_agrees_with_itself_under_the_old_layout() -> None:
    swap, pte, _pmd = scan_file("celery-4.1-bad-page-map-swap.log")
    assert swap.decoded is not None and pte.decoded is not None
    assert not pte.decoded.model.swap_l1tf
    assert pte.decoded.swap is not None and (pte.decoded.swap.type, pte.decoded.swap.offset) == (0, 0x7E9058)
    assert swap.decoded.swap == pte.decoded.swap


def test_rhel7_before_the_l1tf_errata_reads_the_first_erratum_move() -> None:
    findings = scan_file("linux-mm-rhel7-3.10.0-514-bad-swap-file-unused.log")
    pte = findings[1]
    assert pte.decoded is not None and pte.decoded.model.swap_variant == "offset15"
    assert pte.decoded.swap is not None and (pte.decoded.swap.type, pte.decoded.swap.offset) == (8, 0x103256)
    assert pte.decoded.model.release == "3.10.0-514.16.1.el7.x86_64"


def test_forcing_the_layout_overrides_the_log() -> None:
    _swap, pte, *_ = scan_file("linux-mm-fedora-4.18.8-bad-swap-offset.log", Options(l1tf=False))
    assert pte.decoded is not None and pte.decoded.swap is not None
    assert (pte.decoded.model.swap_l1tf, pte.decoded.swap.offset) == (False, 0x100000000000)


def test_arm64_walks_decode_and_other_arches_are_named_not_decoded() -> None:
    findings = scan_file("imx8mq-5.1-arm64-pgd-pud-pmd-pte-quoted.log")
    assert [(f.name, f.token, f.arch, f.decoded.cls if f.decoded else None) for f in findings] == [
        ("pgd", "00000000dffff003", "arm64", "present"), ("pud", "00000000dfffe003", "arm64", "present"),
        ("pmd", "00000000dbf36003", "arm64", "present"), ("pte", "00e8000038300707", "arm64", "present")]
    pte = findings[3].decoded
    assert pte is not None and pte.fields["pfn"] == 0x38300 and "valid" in pte.flags and "dirty" in pte.flags
    exynos = scan_file("exynos-3.10-rc1-arm-pgd-pte-ppte.log")
    assert all(f.decoded is None and f.why_not and "arm page-table layouts is not modelled yet" in f.why_not
               for f in exynos)


def test_an_arm64_swap_pte_agrees_with_the_swp_entry_the_kernel_printed() -> None:
    """rpi 6.0 (arm64, type 3-7 / offset 8-57 era): the pte and the generic swp_entry_t name one slot."""
    swap, pte, _pmd = scan_file("rpi-6.0-arm64-bad-page-map-read-folio.log")
    assert swap.decoded is not None and pte.decoded is not None and pte.arch == "arm64"
    assert swap.decoded.swap == pte.decoded.swap  # type 1, offset 0x207070a050609


PREFIXED = [
    "BUG: Bad page map in process gdbus  pte:400000000000000 pmd:a9ed2067",
    "[ 1234.567890] BUG: Bad page map in process gdbus  pte:400000000000000 pmd:a9ed2067",
    "<1>[ 1234.567890] [  T123] BUG: Bad page map in process gdbus  pte:400000000000000 pmd:a9ed2067",
    "Mar  6 10:13:53 host kernel: [88.929583] BUG: Bad page map in process gdbus  pte:400000000000000 pmd:a9ed2067",
    "2018-09-20T10:11:12.123456+02:00 host kernel: BUG: Bad page map in process gdbus  pte:400000000000000 "
    "pmd:a9ed2067",
    "kernel: BUG: Bad page map in process gdbus  pte:400000000000000 pmd:a9ed2067",
    " BUG: Bad page map in process gdbus  pte:400000000000000 pmd:a9ed2067",
    "> > BUG: Bad page map in process gdbus  pte:400000000000000 pmd:a9ed2067",
    "123:BUG: Bad page map in process gdbus  pte:400000000000000 pmd:a9ed2067",
]


@pytest.mark.parametrize("line", PREFIXED)
def test_prefixes_are_tolerated(line: str) -> None:
    assert [(f.message, f.name, f.token) for f in scan_log([line])] == [
        ("bad_page_map", "pte", "400000000000000"), ("bad_page_map", "pmd", "a9ed2067")]


def test_wrapped_message_joins_its_values_and_a_cut_value_is_not_decoded() -> None:
    wrapped = ["BUG: Bad page map in process httpd", "pte:2bf1e025", "pmd:1535b5067"]
    assert [(f.line, f.name, f.token) for f in scan_log(wrapped, Options(kernel="3.2"))] == [
        (2, "pte", "2bf1e025"), (3, "pmd", "1535b5067")]
    [cut] = scan_log(["swap_free: Bad swap file entry 10000000001>"])
    assert cut.decoded is None and cut.why_not is not None and "cut short" in cut.why_not
    [broken] = scan_log(["BUG: Bad page map in process x  something else"])
    assert (broken.message, broken.unparsed) == ("bad_page_map", "no pte:/pmd: value where the message prints them")


def test_kernel_before_3_0_is_named_and_not_guessed() -> None:
    findings = scan_file("linux-mm-2.6.32-bad-page-map-wrapped-deep-quoted.log")
    assert findings and all(f.decoded is None for f in findings)
    assert findings[0].why_not == "--kernel 2.6.32.10: kernel 2.6 is not modelled; the oldest modelled is 3.0"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=120), max_size=20))
def test_any_bytes_scan_without_error(lines: list[bytes]) -> None:
    for f in scan_log(lines):
        assert f.line >= 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*PREFIXED, "PGD 0 P4D 0", "PUD 1", "PTE ffffffffffffffffff", "page flags: 0x4(",
                                            "BUG: Bad rss-counter state mm:x idx:9 val:1", "\x00\xff pte:1>"]),
                max_size=12))
def test_message_fragments_in_any_order_scan_without_error(lines: list[str]) -> None:
    list(scan_log(lines))


def test_clean_keeps_nul_and_bad_utf8_harmless() -> None:
    assert clean(b"\x00\xffBUG: x\r\n") == "\ufffdBUG: x"


def test_scan_cli_formats_and_errors(tmp_path: Path) -> None:
    log = str(CORPUS / "linux-mm-fedora-4.18.8-bad-swap-offset.log")
    records = [json.loads(x) for x in run("scan", "--format", "ndjson", log).stdout.splitlines()]
    assert [(r["line"], r["message"], r["name"], r["class"]) for r in records] == [
        (1, "bad_swap_entry", "swp_entry", "swap"), (2, "bad_page_map", "pte", "swap"),
        (2, "bad_page_map", "pmd", "present"), (30, "bad_rss_counter", "MM_SWAPENTS", None)]
    assert records[1]["model"]["sources"]["kernel"] == "log line 5: release 4.18.8-200"
    assert records[1]["text"] == "BUG: Bad page map in process gdbus  pte:400000000000000 pmd:a9ed2067"
    assert records[3]["not_decoded"] == "an rss counter (MM_SWAPENTS), not a page-table entry"
    assert json.loads(run("scan", "--format", "json", log).stdout) == records
    report = run("scan", "--format", "report", log).stdout
    assert max(len(line) for line in report.splitlines()) <= 80
    missing = run("scan", str(tmp_path / "nope"))
    assert (missing.exit_code, missing.stderr) == (1, f"ptetool: cannot read {tmp_path / 'nope'}: "
                                                      "No such file or directory\n")
    assert run("scan", "--kernel", "2.4", log).exit_code == 2
    empty = run("scan", "-", stdin="nothing here\n")
    assert (empty.exit_code, empty.stdout, empty.stderr) == (0, "", "ptetool: no page-table values or kernel "
                                                             "messages found\n")


def test_decode_reads_level_tokens_and_points_messages_to_scan() -> None:
    line = "BUG: Bad page map in process gdbus  pte:400000000000000 pmd:a9ed2067\n"
    result = run("decode", "--kernel", "4.18.8", "--kconfig", "allyes", "--phys-bits", "46", stdin=line)
    assert result.stdout.splitlines() == [
        "0x0400000000000000 swap type=0(swapfile) offset=0x1ffffffffffff [1 problem]",
        "0x00000000a9ed2067 present pfn=0xa9ed2 present,rw,user,accessed,dirty"]
    assert result.stderr.startswith("ptetool: stdin line 1 is a kernel message: decoding only its pte:/pmd:")
    word = run("decode", "--kernel", "6.18", "Bad", "0xbad")
    assert word.exit_code == 2
    assert "ptetool: bad value 'Bad': a word, not a number (write 0xbad to decode it as hex)" in word.stderr
    assert word.stdout.startswith("0x0000000000000bad present")


def test_page_flags_are_checked_against_the_names_the_kernel_printed() -> None:
    findings = scan_file("linux-mm-3.18.9-bad-page-map-dump-page-quoted.log")
    flags = [f.page_flags for f in findings if f.page_flags is not None]
    assert [(p.numbering, p.set_names, p.agrees) for p in flags] == [
        ((3, 10), ("referenced", "uptodate", "dirty", "lru", "active"), True),
        ((3, 10), ("referenced", "uptodate", "dirty"), True)]


def test_pfn_past_the_ram_the_boot_log_reports_is_a_hint() -> None:
    log = ["[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x00000000bffdffff] usable",
           "[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000023fffffff] usable",
           "[  100.1] BUG: Bad page map in process a.out  pte:8000000412345867 pmd:1f3b4067",
           "[  100.2] CPU: 1 PID: 77 Comm: a.out Tainted: G    B   6.12.10 #1"]
    pte, pmd = scan_log(log)
    assert pte.hints == ("possible: pfn 0x412345 lies past the last RAM the log reports (line 2: RAM ends before "
                         "pfn 0x240000): not RAM, so only a device mapping could be there",)
    assert pmd.hints == ()


def test_quoted_printable_soft_breaks_are_joined() -> None:
    log = ["CPU: 0 PID: 1230 Comm: cc1plus Tainted: G    B   W       T  6.0.0-rc2-PMacG=",
           "4 #5",
           "[  1.0] BUG: Bad page map in process x  pte:400000000000000 pmd:1f3b4067 addr:7f0000001000 z=3D",
           "swap_info_get: Bad swap offset entry 1ffffffffffff"]
    found = list(scan_log(log))
    assert [(f.line, f.name) for f in found] == [(3, "pte"), (3, "pmd"), (4, "swp_entry")]
    assert found[0].decoded is not None and found[0].decoded.model.release == "6.0.0-rc2-PMacG4"


def test_a_read_error_midway_is_a_work_error() -> None:
    result = run("scan", "/proc/self/mem")  # readable to open, EIO on the first read
    assert (result.exit_code, result.stderr) == (1, "ptetool: cannot read /proc/self/mem: Input/output error\n")


CORPUS_TEXTS = [p.read_bytes() for p in sorted(CORPUS.glob("*.log"))]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(CORPUS_TEXTS), st.integers(0, 4000), st.integers(0, 4000), st.binary(max_size=8))
def test_corpus_cut_and_mangled_anywhere_scans_without_error(text: bytes, cut: int, at: int, junk: bytes) -> None:
    mangled = text[:cut] + junk + text[cut + at % 7:]
    for f in scan_log(mangled.splitlines(keepends=True)):
        assert (f.decoded is not None) or f.why_not or f.unparsed


def test_report_block_carries_line_diagram_fields_and_model_sources() -> None:
    report = run("scan", "--format", "report", str(CORPUS / "celery-4.1-bad-page-map-swap.log")).stdout
    block = report.split("\n\n")[1]
    assert block.splitlines()[:2] == [
        "line 3: bad_page_map pte fd20b000",
        "  | BUG: Bad page map in process celery  pte:fd20b000 pmd:16d7b08067"]
    assert "0x00000000fd20b000 swap type=0(swapfile) offset=0x7e9058" in block
    assert "  swap_layout: agreement with line 1: the pte and the swp_entry_t the kernel" in block
    assert "+---" in block  # the plain ASCII diagram


def test_a_value_not_decoded_still_states_the_reports_kernel_and_arch_sources() -> None:
    record = json.loads(run("scan", "--format", "ndjson",
                            str(CORPUS / "rpi-4.9-arm-bad-page-state.log")).stdout.splitlines()[1])
    assert (record["class"], record["arch"], record["name"]) == (None, "arm", "page_flags")
    assert record["model"] == {"kernel": "4.9.45-v7+", "sources": {
        "kernel": "log line 7: release 4.9.45-v7+", "arch": "log line 7: release 4.9.45-v7+"}}


def test_arm64_with_64k_pages_is_refused_not_misread() -> None:
    """The 64 KiB granule moves the output address and swap fields: only 4 KiB is modelled."""
    findings = scan_file("centriq-5.8-arm64-64k-pmd-quoted.log", Options())
    assert findings and all(f.decoded is None and "64 KiB pages (line 10)" in (f.why_not or "") for f in findings)
    four_k = [f for f in scan_file("android-6.12-arm64-caller-id-prefix-quoted.log", Options()) if f.decoded]
    assert four_k  # "pgtable: 4k pages" decodes


def test_hardware_name_with_dt_alone_says_arm64() -> None:
    """A Bad page map has no register dump: arm64's "Hardware name: ... (DT)" is the clue left."""
    log = CORPUS / "rpi-6.0-arm64-bad-page-map-read-folio.log"
    lines = [line.replace("-v8-", "-").replace("arch/arm64/", "arch/") for line in log.read_text().splitlines()[:9]]
    findings = [f for f in scan_log(lines) if f.name == "pte"]
    assert findings and findings[0].decoded is not None
    assert (findings[0].arch, findings[0].decoded.arch) == ("arm64", "arm64")
    assert "Hardware name" in dict(findings[0].sources)["arch"]


def test_a_bad_pud_that_reads_as_a_valid_table_pointer_says_so() -> None:
    """sophgo riscv 6.1: "bad pud 0000000201325801" has V set and no leaf bit, which pud_bad() accepts."""
    bad = [f for f in scan_file("sophgo-riscv-6.1-rss-counter-bad-pud.log", Options()) if f.message == "bad_entry"]
    assert bad and bad[0].decoded is not None and bad[0].decoded.layout.name == "riscv64 pud table"
    assert any("valid table pointer, which riscv64's pud_bad() accepts" in h for h in bad[0].hints)
