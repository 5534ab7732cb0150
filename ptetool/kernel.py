"""The kernel model: which kernel version and config a value is read against.

The version decides the layout era (x86 swap layout, which software bits
exist, which PTE-marker bits exist); the config decides the swap-type
numbering and the optional bits. Every decode states the model it used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ptetool.errors import UsageError, WorkError
from ptetool.releases import L1TF_MAINLINE, STABLE_L1TF_FIRST, l1tf_verdict, parse_release

Version = tuple[int, int]

OLDEST: Version = (3, 0)
NEWEST: Version = (6, 18)

# The config options that change how an entry is read. Everything else in a
# .config is irrelevant to ptetool and is not kept.
OPTIONS: tuple[str, ...] = (
    "CONFIG_MIGRATION",
    "CONFIG_DEVICE_PRIVATE",
    "CONFIG_MEMORY_FAILURE",
    "CONFIG_PTE_MARKER",
    "CONFIG_PTE_MARKER_UFFD_WP",
    "CONFIG_MEM_SOFT_DIRTY",
    "CONFIG_HAVE_ARCH_USERFAULTFD_WP",
    "CONFIG_NUMA_BALANCING",
)

ALLYES = "allyes"
RUNNING = "running"

# x86_64 MAX_PHYSMEM_BITS (arch/x86/include/asm/sparsemem.h, 6.12): 52 with
# 5-level paging active, 46 without. SWP_PFN_BITS = MAX_PHYSMEM_BITS - PAGE_SHIFT.
PHYSMEM_BITS_LA57 = 52
PHYSMEM_BITS_4LEVEL = 46
PAGE_SHIFT = 12


def parse_version(text: str) -> Version:
    """'6.12', '6.12.57', '6.18.44-fc-v657' -> (major, minor); usage error otherwise."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:[.\-+~_].*)?", text.strip())
    if not match:
        raise UsageError(f"--kernel {text!r}: expected a version such as 6.12 or 'running'")
    version = (int(match[1]), int(match[2]))
    if version < OLDEST:
        raise UsageError(
            f"--kernel {text}: kernel {version[0]}.{version[1]} is not modelled; the oldest modelled is "
            f"{OLDEST[0]}.{OLDEST[1]}"
        )
    return version


def version_str(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def parse_kconfig_text(text: str) -> frozenset[str]:
    """The relevant options a .config enables; as the kernel reads it, a missing option is not set."""
    enabled: set[str] = set()
    for line in text.splitlines():
        match = re.match(r"(CONFIG_\w+)=(.*)$", line.strip())
        if match and match[1] in OPTIONS and match[2].strip() in ("y", "m"):
            enabled.add(match[1])
    return frozenset(enabled)


def read_kconfig(path: str | os.PathLike[str]) -> frozenset[str]:
    path = os.fspath(path)
    try:
        with open(path, "rb") as config:
            raw = config.read()
    except OSError as exc:
        raise WorkError(f"cannot read kernel config {path}: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        import gzip

        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise WorkError(f"cannot read kernel config {path}: not a valid gzip file ({exc})") from None
    text = raw.decode("utf-8", errors="replace")
    if "CONFIG_" not in text:
        raise WorkError(f"{path} is not a kernel .config: it sets no CONFIG_ option")
    return parse_kconfig_text(text)


def running_release() -> str:
    return os.uname().release


def running_kconfig_path(release: str | None = None) -> str | None:
    # pathlib is left out on purpose: it costs a single decode ~3 ms of imports
    candidates = ["/proc/config.gz", f"/boot/config-{release or running_release()}"]
    for candidate in candidates:
        if os.access(candidate, os.R_OK):
            return candidate
    return None


def running_cpu() -> tuple[int | None, bool]:
    """(physical address bits, 5-level paging active) from /proc/cpuinfo.

    The kernel clears the la57 CPU flag when it does not run 5-level paging,
    so the flag tells whether MAX_PHYSMEM_BITS is 52 or 46.
    """
    try:
        with open("/proc/cpuinfo", errors="replace") as cpuinfo:
            text = cpuinfo.read()
    except OSError:
        return None, False
    phys = re.search(r"address sizes\s*:\s*(\d+) bits physical", text)
    flags = re.search(r"^flags\s*:(.*)$", text, re.MULTILINE)
    la57 = bool(flags) and "la57" in flags[1].split()  # type: ignore[index]
    return (int(phys[1]) if phys else None), la57


@dataclass(frozen=True)
class Model:
    """A kernel version, the config options that matter, and the CPU facts used."""

    version: Version = NEWEST
    enabled: frozenset[str] = frozenset(OPTIONS)
    kconfig: str = ALLYES
    release: str | None = None
    phys_bits: int = 52
    la57: bool = False
    assumptions: tuple[str, ...] = field(default=(), compare=False)  # what was assumed, said with the model
    # x86_64 swap layout: True/False when the release (or --l1tf/--no-l1tf) decides it, None when
    # only the version is known; then 4.19 and later read the L1TF layout.
    l1tf: bool | None = None
    is_running: bool = False  # the release is the running kernel's (uname -r)
    l1tf_unsure: bool = False
    # "offset15": the erratum move as first written (type 9-13, offset 15-63), seen in RHEL 7 kernels.
    swap_variant: str | None = None  # a distribution release that may carry the backport unseen
    # Where each part of the model came from (scan: a log line, an option, a default). Not part of
    # the model's identity: two reports of one kernel read values alike, and share every cache.
    sources: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def has(self, option: str) -> bool:
        return option in self.enabled

    @property
    def label(self) -> str:
        return version_str(self.version)

    @property
    def swap_l1tf(self) -> bool:
        """The x86 L1TF layout applies: inverted swap offset and PROT_NONE frame, type at 59-63."""
        return self.l1tf if self.l1tf is not None else self.version >= L1TF_MAINLINE

    @property
    def l1tf_ambiguous(self) -> bool:
        """The version lies in a stable branch that gained the L1TF layout, and nothing said which."""
        return self.l1tf is None and (self.l1tf_unsure or self.version in STABLE_L1TF_FIRST)

    @property
    def physmem_bits(self) -> int:
        return PHYSMEM_BITS_LA57 if self.la57 else PHYSMEM_BITS_4LEVEL

    @property
    def swp_pfn_bits(self) -> int:
        """SWP_PFN_BITS (include/linux/swapops.h, 6.12): MAX_PHYSMEM_BITS - PAGE_SHIFT."""
        return self.physmem_bits - PAGE_SHIFT

    def to_json(self) -> dict[str, Any]:
        return {
            "kernel": self.label,
            "release": self.release,
            "kconfig": self.kconfig,
            "options": {name: name in self.enabled for name in OPTIONS},
            "phys_bits": self.phys_bits,
            "la57": self.la57,
            "assumptions": list(self.assumptions),
            "l1tf_swap": self.swap_l1tf,
            **({"swap_variant": self.swap_variant} if self.swap_variant else {}),
            **({"sources": dict(self.sources)} if self.sources else {}),
        }

    @classmethod
    def for_kernel(cls, release: str, *, kconfig: str | os.PathLike[str] | Mapping[str, object] | None = None,
                   phys_bits: int | None = None, la57: bool = False, l1tf: bool | None = None) -> Model:
        """The model of a kernel release ("6.12", "4.18.8-200.fc28"), its config a .config/config.gz path,
        a mapping of options ({"CONFIG_MIGRATION": "y", ...}; missing ones are off), or every option on.

        >>> Model.for_kernel("4.14.70").swap_l1tf, Model.for_kernel("6.12", kconfig={}).has("CONFIG_MIGRATION")
        (True, False)
        """
        if isinstance(kconfig, Mapping):
            model = build_model(release, ALLYES, phys_bits, la57, l1tf)
            enabled = frozenset(name for name, on in kconfig.items() if name in OPTIONS and on in (True, "y", "m"))
            return replace(model, enabled=enabled, kconfig="mapping")
        return build_model(release, os.fspath(kconfig) if kconfig is not None else ALLYES, phys_bits, la57, l1tf)

    @classmethod
    def running(cls) -> Model:
        """The running kernel's model: uname -r, /proc/config.gz or /boot/config-*, /proc/cpuinfo."""
        return build_model(None, None)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Model:
        """Rebuild the model a record was decoded with (``encode -``)."""
        try:
            version = parse_version(str(data["kernel"]))
            options = data.get("options", {})
            return cls(
                version=version,
                enabled=frozenset(name for name in OPTIONS if options.get(name)),
                kconfig=str(data.get("kconfig", "record")),
                release=data.get("release"),
                phys_bits=int(data.get("phys_bits", 52)),
                la57=bool(data.get("la57", False)),
                l1tf=bool(data["l1tf_swap"]) if "l1tf_swap" in data else None,
                swap_variant=data.get("swap_variant"),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UsageError(f"the record's \"model\" is malformed: {exc}") from None


def build_model(
    kernel: str | None,
    kconfig: str | None,
    phys_bits: int | None = None,
    la57: bool | None = None,
    l1tf: bool | None = None,
) -> Model:
    """The model for the CLI options; None means 'not given' (default to the running kernel).

    A full release (``4.18.8-200.fc28``) also decides the x86 swap layout it carried;
    ``l1tf`` (--l1tf/--no-l1tf) forces it either way.
    """
    assumptions: list[str] = []
    release: str | None = None
    use_running = kernel in (None, RUNNING)
    if use_running:
        release = running_release()
        try:
            version = parse_version(release)
        except UsageError:
            version = NEWEST
            assumptions.append(f"running kernel {release!r} has no readable version; assumed {version_str(NEWEST)}")
            use_running = False
    else:
        assert kernel is not None
        version = parse_version(kernel)
    l1tf, l1tf_note = l1tf_choice(release if use_running else kernel, version, l1tf)
    if l1tf_note:
        assumptions.append(l1tf_note)
    if version > NEWEST:
        assumptions.append(
            f"kernel {version_str(version)} is newer than the newest modelled ({version_str(NEWEST)}): "
            f"its layouts are read as {version_str(NEWEST)}'s"
        )
        version = NEWEST

    if kconfig == ALLYES:
        options, source = frozenset(OPTIONS), ALLYES
    elif kconfig == RUNNING or (kconfig is None and use_running):
        path = running_kconfig_path(release)
        if path is None:
            if kconfig == RUNNING:
                raise WorkError(
                    "--kconfig running: neither /proc/config.gz nor /boot/config-"
                    f"{release or running_release()} is readable"
                )
            options, source = frozenset(OPTIONS), ALLYES
            assumptions.append("the running kernel's config is not readable: every optional swap type assumed enabled")
        else:
            options, source = read_kconfig(path), f"{RUNNING} ({path})"
    elif kconfig is None:
        options, source = frozenset(OPTIONS), ALLYES
    else:
        options, source = read_kconfig(kconfig), kconfig

    cpu_phys, cpu_la57 = running_cpu() if use_running else (None, False)
    return Model(
        version=version,
        enabled=options,
        kconfig=source,
        release=release if use_running else _full_release(kernel),
        is_running=use_running,
        phys_bits=phys_bits or cpu_phys or 52,
        la57=cpu_la57 if la57 is None else la57,
        assumptions=tuple(assumptions),
        l1tf=l1tf,
        l1tf_unsure=l1tf is None and l1tf_note is not None,
    )


def _full_release(kernel: str | None) -> str | None:
    """A --kernel that names a release (with a sublevel or a suffix), not just X.Y."""
    parsed = parse_release(kernel) if kernel else None
    return kernel if parsed and (parsed.sublevel is not None or parsed.extra) else None


def l1tf_choice(release: str | None, version: Version, forced: bool | None) -> tuple[bool | None, str | None]:
    """The swap layout a release carried (or the forced one), and a note when it is not the version's."""
    if forced is not None:
        layout = "the L1TF" if forced else "the pre-L1TF"
        return forced, f"x86 swap layout: {layout} layout, as forced by --{'' if forced else 'no-'}l1tf"
    parsed = parse_release(release) if release else None
    if parsed is None or version >= L1TF_MAINLINE:
        return None, None
    verdict = l1tf_verdict(parsed)
    if verdict.l1tf is None:
        return None, (f"x86 swap layout cannot be told: {verdict.why}; read as the pre-L1TF layout, "
                      "and swap-format values are also read the other way")
    if verdict.l1tf != (version >= L1TF_MAINLINE) or version in STABLE_L1TF_FIRST:
        layout = "the L1TF" if verdict.l1tf else "the pre-L1TF"
        return verdict.l1tf, f"x86 swap layout: {layout} layout: {verdict.why}"
    return verdict.l1tf, None
