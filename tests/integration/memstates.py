"""Create real memory states in a child process and read its /proc/PID/pagemap.

Pure standard library (ctypes, mmap, os, subprocess, json, struct).  Linux only.

Parent side::

    with temporary_swap() as swap:            # only needed for the *swapped states
        with spawn(["anon", "guard", "swapped"]) as child:
            st = child.states["anon"]          # {"addr": int, "pages": int, "expect": {...}, ...}
            recs = read_pagemap(child.pid, st["addr"], st["pages"])
            child.skipped                      # name -> reason (feature missing here)
            child.errors                       # name -> traceback (a bug, tests should fail)

Child side: ``python memstates.py --child NAME...`` builds the states in order,
prints ONE JSON line on stdout and then blocks reading stdin until EOF.

Every state probes what it needs at run time and reports a reason in
``skipped`` instead of pretending.  ``probe()`` gives the same answers,
cheaply, in the parent.

The ``expect`` dict of each state documents what the kernel is expected to
report for every page of the state (bits are PM_* bit numbers, see below):
``set`` / ``clear`` bit lists, ``exact`` (a full raw value or None) and
``pfn`` ("nonzero", "shared", "consecutive", "swap", "none").  Bit 55
(soft-dirty) is never listed: on CONFIG_MEM_SOFT_DIRTY kernels every fresh
VMA has VM_SOFTDIRTY, which sets bit 55 on every record of the VMA.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import gzip
import json
import mmap
import os
import platform
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import traceback

# ---------------------------------------------------------------------------
# pagemap record bits (fs/proc/task_mmu.c, Documentation/admin-guide/mm/pagemap.rst)
# ---------------------------------------------------------------------------
PM_PFRAME_BITS = 55
PM_PFRAME_MASK = (1 << PM_PFRAME_BITS) - 1  # bits 0-54: PFN, or swap type|offset<<5
PM_SWAP_TYPE_BITS = 5                        # bits 0-4: swap type when PM_SWAP
PM_SWAP_TYPE_MASK = (1 << PM_SWAP_TYPE_BITS) - 1
PM_SOFT_DIRTY_BIT = 55
PM_MMAP_EXCLUSIVE_BIT = 56
PM_UFFD_WP_BIT = 57
PM_GUARD_REGION_BIT = 58                     # 6.15+
PM_FILE_BIT = 61
PM_SWAP_BIT = 62
PM_PRESENT_BIT = 63

PM_SOFT_DIRTY = 1 << PM_SOFT_DIRTY_BIT
PM_MMAP_EXCLUSIVE = 1 << PM_MMAP_EXCLUSIVE_BIT
PM_UFFD_WP = 1 << PM_UFFD_WP_BIT
PM_GUARD_REGION = 1 << PM_GUARD_REGION_BIT
PM_FILE = 1 << PM_FILE_BIT
PM_SWAP = 1 << PM_SWAP_BIT
PM_PRESENT = 1 << PM_PRESENT_BIT
PM_FLAGS_MASK = ((1 << 64) - 1) & ~PM_PFRAME_MASK

# PTE marker bits (include/linux/swapops.h) and the marker swap type on 6.2+
PTE_MARKER_UFFD_WP = 1 << 0
PTE_MARKER_POISONED = 1 << 1
PTE_MARKER_GUARD = 1 << 2
SWP_PTE_MARKER_TYPE = 31  # on 5.19 and 6.2+; 30 on 6.0-6.1 (see marker_type())

# /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h)
KPF_COMPOUND_HEAD = 15
KPF_THP = 22
KPF_ZERO_PAGE = 24

PAGE_SIZE = mmap.PAGESIZE

# ---------------------------------------------------------------------------
# mmap / madvise constants (asm-generic values; the mmap module has most of them)
# ---------------------------------------------------------------------------
PROT_NONE = 0
PROT_READ = mmap.PROT_READ
PROT_WRITE = mmap.PROT_WRITE
MAP_SHARED = mmap.MAP_SHARED
MAP_PRIVATE = mmap.MAP_PRIVATE
MAP_ANONYMOUS = mmap.MAP_ANONYMOUS
MADV_DONTNEED = 4
MADV_DONTFORK = 10
MADV_HUGEPAGE = 14
MADV_PAGEOUT = 21          # 5.4+
MADV_GUARD_INSTALL = 102   # 6.13+

# ---------------------------------------------------------------------------
# userfaultfd (include/uapi/linux/userfaultfd.h)
# ---------------------------------------------------------------------------
# syscall numbers per architecture (platform.machine()).
_NR_USERFAULTFD = {
    "x86_64": 323, "i386": 374, "i686": 374, "aarch64": 282, "arm64": 282,
    "riscv64": 282, "loongarch64": 282, "armv7l": 388, "ppc64le": 364,
    "ppc64": 364, "s390x": 355,
}
UFFD_USER_MODE_ONLY = 1    # userfaultfd(2) flag, 5.11+
UFFD_API = 0xAA
UFFDIO = 0xAA              # ioctl "type" byte
_UFFDIO_REGISTER = 0x00
_UFFDIO_WRITEPROTECT = 0x06
_UFFDIO_API = 0x3F

UFFD_FEATURE_PAGEFAULT_FLAG_WP = 1 << 0
UFFD_FEATURE_WP_HUGETLBFS_SHMEM = 1 << 12   # 5.19+: uffd-wp on shmem/hugetlbfs (PTE markers)
UFFD_FEATURE_WP_UNPOPULATED = 1 << 13       # 6.4+: WP on pte_none anon installs markers
UFFDIO_REGISTER_MODE_WP = 1 << 1
UFFDIO_WRITEPROTECT_MODE_WP = 1 << 0


class uffdio_api(ctypes.Structure):       # 24 bytes
    _fields_ = [("api", ctypes.c_uint64), ("features", ctypes.c_uint64),
                ("ioctls", ctypes.c_uint64)]


class uffdio_range(ctypes.Structure):     # 16 bytes
    _fields_ = [("start", ctypes.c_uint64), ("len", ctypes.c_uint64)]


class uffdio_register(ctypes.Structure):  # 32 bytes
    _fields_ = [("range", uffdio_range), ("mode", ctypes.c_uint64),
                ("ioctls", ctypes.c_uint64)]


class uffdio_writeprotect(ctypes.Structure):  # 24 bytes
    _fields_ = [("range", uffdio_range), ("mode", ctypes.c_uint64)]


def _ioc_layout():
    """(NONE, WRITE, READ, SIZEBITS) of include/uapi/asm-generic/ioctl.h or the
    arch override (powerpc, mips, sparc, alpha use 13 size bits and 1/4/2)."""
    m = platform.machine()
    if m.startswith(("ppc", "powerpc", "mips", "sparc", "alpha")):
        return 1, 4, 2, 13
    return 0, 1, 2, 14


def _IOC(direction: int, typ: int, nr: int, size: int) -> int:
    _none, _write, _read, sizebits = _ioc_layout()
    return (direction << (16 + sizebits)) | (size << 16) | (typ << 8) | nr


def _IOWR(typ: int, nr: int, size: int) -> int:
    _none, write, read, _ = _ioc_layout()
    return _IOC(read | write, typ, nr, size)


def _IO(typ: int, nr: int) -> int:
    none, _w, _r, _ = _ioc_layout()
    return _IOC(none, typ, nr, 0)


# On x86_64: _IOWR(0xAA, 0x3F, 24) = 0xC018AA3F
UFFDIO_API = _IOWR(UFFDIO, _UFFDIO_API, ctypes.sizeof(uffdio_api))
# _IOWR(0xAA, 0x00, 32) = 0xC020AA00
UFFDIO_REGISTER = _IOWR(UFFDIO, _UFFDIO_REGISTER, ctypes.sizeof(uffdio_register))
# _IOWR(0xAA, 0x06, 24) = 0xC018AA06
UFFDIO_WRITEPROTECT = _IOWR(UFFDIO, _UFFDIO_WRITEPROTECT, ctypes.sizeof(uffdio_writeprotect))
# /dev/userfaultfd (6.1+): _IO(0xAA, 0x00) = 0xAA00
USERFAULTFD_IOC_NEW = _IO(UFFDIO, 0x00)

# ---------------------------------------------------------------------------
# libc via ctypes
# ---------------------------------------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.mlock.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
_libc.syscall.restype = ctypes.c_long
_MAP_FAILED = ctypes.c_void_p(-1).value


def _oserror(what: str) -> OSError:
    e = ctypes.get_errno()
    return OSError(e, f"{what}: {os.strerror(e)}")


_regions: list[tuple[int, int]] = []   # every mapping made by this module (child side)


def _mmap(length: int, prot: int, flags: int, fd: int = -1, offset: int = 0) -> int:
    addr = _libc.mmap(None, length, prot, flags, fd, offset)
    if addr is None or addr == _MAP_FAILED:
        raise _oserror("mmap")
    _regions.append((addr, length))
    return addr


def _madvise(addr: int, length: int, advice: int) -> None:
    if _libc.madvise(addr, length, advice) != 0:
        raise _oserror(f"madvise({advice})")


def _mprotect(addr: int, length: int, prot: int) -> None:
    if _libc.mprotect(addr, length, prot) != 0:
        raise _oserror("mprotect")


def _write_pages(addr: int, pages: int, byte: int = 0x5A) -> None:
    for i in range(pages):
        ctypes.memset(addr + i * PAGE_SIZE, byte, 8)


def _read_pages(addr: int, pages: int) -> int:
    total = 0
    for i in range(pages):
        total += ctypes.c_ubyte.from_address(addr + i * PAGE_SIZE).value
    return total


# ---------------------------------------------------------------------------
# pagemap / kpageflags readers (used by both sides)
# ---------------------------------------------------------------------------
def read_pagemap(pid, addr: int, pages: int) -> list[int]:
    """Raw 64-bit pagemap records of pages [addr, addr+pages*PAGE_SIZE) of pid
    (an int or "self")."""
    fd = os.open(f"/proc/{pid}/pagemap", os.O_RDONLY)
    try:
        data = os.pread(fd, pages * 8, (addr // PAGE_SIZE) * 8)
    finally:
        os.close(fd)
    if len(data) != pages * 8:
        raise OSError(errno.EIO, f"short pagemap read: {len(data)} of {pages * 8} bytes")
    return list(struct.unpack(f"<{pages}Q", data))


def read_kpageflags(pfn: int) -> int:
    """The /proc/kpageflags word of pfn (root only)."""
    with open("/proc/kpageflags", "rb") as f:
        f.seek(pfn * 8)
        data = f.read(8)
    if len(data) != 8:
        raise OSError(errno.EIO, "short kpageflags read")
    return struct.unpack("<Q", data)[0]


def pfn_of(rec: int) -> int:
    return rec & PM_PFRAME_MASK


def swap_type_of(rec: int) -> int:
    return rec & PM_SWAP_TYPE_MASK


def swap_offset_of(rec: int) -> int:
    return (rec & PM_PFRAME_MASK) >> PM_SWAP_TYPE_BITS


def marker_record(marker_bits: int) -> int:
    """pagemap record of a PTE marker on 6.2+ (type 31, offset = marker bits)."""
    flags = PM_SWAP
    if marker_bits & PTE_MARKER_UFFD_WP:
        flags |= PM_UFFD_WP
    if marker_bits & PTE_MARKER_GUARD and kernel_version() >= (6, 15):
        flags |= PM_GUARD_REGION
    return flags | marker_type() | (marker_bits << PM_SWAP_TYPE_BITS)


def marker_type() -> int:
    """Swap type of PTE markers (LAYOUTS.md section 4): 30 on 6.0-6.1, else 31."""
    return 30 if (6, 0) <= kernel_version() < (6, 2) else SWP_PTE_MARKER_TYPE


# ---------------------------------------------------------------------------
# probes
# ---------------------------------------------------------------------------
def kernel_version() -> tuple[int, int, int]:
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", os.uname().release)
    if not m:
        return (0, 0, 0)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


def kernel_config(symbol: str):
    """'y'/'m'/value, False if "is not set"/absent, None if no config is readable."""
    text = None
    for path in ("/proc/config.gz", f"/boot/config-{os.uname().release}"):
        try:
            if path.endswith(".gz"):
                with gzip.open(path, "rt") as f:
                    text = f.read()
            else:
                with open(path) as f:
                    text = f.read()
            break
        except OSError:
            continue
    if text is None:
        return None
    m = re.search(rf"^{re.escape(symbol)}=(.*)$", text, re.M)
    return m.group(1) if m else False


def has_cap_sys_admin() -> bool:
    """CAP_SYS_ADMIN (bit 21) in the effective set: needed to see PFNs/swap entries."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> 21 & 1)
    except OSError:
        pass
    return False


def active_swaps() -> list[dict]:
    """Entries of /proc/swaps, in order (which is swap-type order)."""
    out = []
    try:
        with open("/proc/swaps") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        parts = line.split()
        if len(parts) >= 5:
            name = parts[0].replace("\\040", " ").replace("\\011", "\t") \
                           .replace("\\012", "\n").replace("\\134", "\\")
            out.append({"filename": name, "type": parts[1], "size_kib": int(parts[2]),
                        "used_kib": int(parts[3]), "priority": int(parts[4])})
    return out


def _thp_reason():
    base = "/sys/kernel/mm/transparent_hugepage"
    try:
        with open(f"{base}/enabled") as f:
            enabled = f.read()
    except OSError:
        return "no /sys/kernel/mm/transparent_hugepage (CONFIG_TRANSPARENT_HUGEPAGE off)"
    if "[never]" in enabled:
        return f"THP disabled: {base}/enabled is {enabled.strip()!r}"
    try:
        with open(f"{base}/hpage_pmd_size") as f:
            pmd = int(f.read())
    except OSError:
        pmd = 2 << 20
    try:
        with open(f"{base}/hugepages-{pmd // 1024}kB/enabled") as f:
            per = f.read()
        if "[never]" in per or ("[inherit]" in per and "[never]" in enabled):
            return f"PMD-size THP disabled: hugepages-{pmd // 1024}kB/enabled is {per.strip()!r}"
    except OSError:
        pass
    return None


def thp_pmd_size() -> int:
    try:
        with open("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size") as f:
            return int(f.read())
    except OSError:
        return 2 << 20


class Uffd:
    """A userfaultfd with its UFFDIO_API handshake done."""

    def __init__(self, features: int = 0):
        self.fd = _uffd_open()
        try:
            api = uffdio_api(api=UFFD_API, features=features)
            if _libc.ioctl(self.fd, UFFDIO_API, ctypes.byref(api)) != 0:
                raise _oserror(f"UFFDIO_API(features={features:#x})")
            self.features = api.features
            self.ioctls = api.ioctls
        except BaseException:
            os.close(self.fd)
            raise

    def register_wp(self, addr: int, length: int) -> int:
        reg = uffdio_register(range=uffdio_range(addr, length), mode=UFFDIO_REGISTER_MODE_WP)
        if _libc.ioctl(self.fd, UFFDIO_REGISTER, ctypes.byref(reg)) != 0:
            raise _oserror("UFFDIO_REGISTER(MODE_WP)")
        if not reg.ioctls >> _UFFDIO_WRITEPROTECT & 1:
            raise OSError(errno.ENOTSUP, "UFFDIO_REGISTER did not offer UFFDIO_WRITEPROTECT")
        return reg.ioctls

    def writeprotect(self, addr: int, length: int, wp: bool = True) -> None:
        arg = uffdio_writeprotect(range=uffdio_range(addr, length),
                                  mode=UFFDIO_WRITEPROTECT_MODE_WP if wp else 0)
        if _libc.ioctl(self.fd, UFFDIO_WRITEPROTECT, ctypes.byref(arg)) != 0:
            raise _oserror("UFFDIO_WRITEPROTECT")

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _uffd_open() -> int:
    nr = _NR_USERFAULTFD.get(platform.machine())
    if nr is None:
        raise OSError(errno.ENOSYS, f"userfaultfd syscall number unknown for {platform.machine()}")
    base = os.O_CLOEXEC | os.O_NONBLOCK
    errs = []
    # UFFD_USER_MODE_ONLY lets an unprivileged user in when vm.unprivileged_userfaultfd=0;
    # kernels before 5.11 reject the flag with EINVAL, so retry without it.
    for flags in (base | UFFD_USER_MODE_ONLY, base):
        fd = _libc.syscall(ctypes.c_long(nr), ctypes.c_int(flags))
        if fd >= 0:
            return fd
        e = ctypes.get_errno()
        errs.append(f"userfaultfd({flags:#x}): {errno.errorcode.get(e, e)}")
    # 6.1+: /dev/userfaultfd, governed by file permissions
    try:
        dfd = os.open("/dev/userfaultfd", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        errs.append(f"/dev/userfaultfd: {errno.errorcode.get(e.errno, e.errno)}")
    else:
        try:
            fd = _libc.ioctl(dfd, USERFAULTFD_IOC_NEW, ctypes.c_void_p(base | UFFD_USER_MODE_ONLY))
            if fd >= 0:
                return fd
            e = ctypes.get_errno()
            errs.append(f"USERFAULTFD_IOC_NEW: {errno.errorcode.get(e, e)}")
        finally:
            os.close(dfd)
    raise OSError(errno.EPERM, "userfaultfd unavailable: " + "; ".join(errs))


def uffd_supported_features():
    """(features bitmask, None) or (None, reason)."""
    try:
        u = Uffd(0)
    except OSError as e:
        return None, str(e)
    try:
        return u.features, None
    finally:
        u.close()


def _can_pageout_swap_reason():
    if not os.path.exists("/proc/swaps"):
        return "no /proc/swaps (CONFIG_SWAP off)"
    if kernel_version() < (5, 4):
        return f"MADV_PAGEOUT needs Linux 5.4+, this is {os.uname().release}"
    return None


def swap_setup_reason():
    """None if temporary_swap() can probably work, else why not (cheap checks only)."""
    r = _can_pageout_swap_reason()
    if r:
        return r
    if os.geteuid() != 0:
        return "not root: swapon(2) needs CAP_SYS_ADMIN"
    if not has_cap_sys_admin():
        return "no CAP_SYS_ADMIN: swapon(2) would fail with EPERM"
    for tool in ("mkswap", "swapon", "swapoff"):
        if _which(tool) is None:
            return f"no {tool} binary in PATH, /sbin or /usr/sbin"
    return None


def probe() -> dict:
    """feature -> None (available) or a reason string why not."""
    res = {}
    res["linux"] = None if sys.platform.startswith("linux") else f"not Linux ({sys.platform})"
    try:
        read_pagemap("self", id(res) & ~(PAGE_SIZE - 1), 1)
        res["pagemap"] = None
    except OSError as e:
        res["pagemap"] = f"cannot read /proc/self/pagemap: {e}"
    res["root"] = None if os.geteuid() == 0 else "not root"
    res["pfn"] = None if has_cap_sys_admin() else \
        "no CAP_SYS_ADMIN: pagemap PFNs and swap type/offset read as 0"
    try:
        with open("/proc/kpageflags", "rb") as f:
            f.read(8)
        res["kpageflags"] = None
    except OSError as e:
        res["kpageflags"] = f"cannot read /proc/kpageflags: {e}"
    feats, why = uffd_supported_features()
    res["userfaultfd"] = why
    if feats is None:
        for k in ("uffd_wp", "uffd_wp_shmem", "uffd_wp_unpopulated"):
            res[k] = why
    else:
        res["uffd_wp"] = None if kernel_config("CONFIG_HAVE_ARCH_USERFAULTFD_WP") is not False \
            else "CONFIG_HAVE_ARCH_USERFAULTFD_WP not set"
        res["uffd_wp_shmem"] = None if feats & UFFD_FEATURE_WP_HUGETLBFS_SHMEM else \
            f"UFFD_FEATURE_WP_HUGETLBFS_SHMEM not offered (features {feats:#x}; needs 5.19+ " \
            "and CONFIG_PTE_MARKER_UFFD_WP)"
        res["uffd_wp_unpopulated"] = None if feats & UFFD_FEATURE_WP_UNPOPULATED else \
            f"UFFD_FEATURE_WP_UNPOPULATED not offered (features {feats:#x}; needs 6.4+)"
    res["swap"] = swap_setup_reason()
    kv = kernel_version()
    res["guard"] = None if kv >= (6, 13) else \
        f"MADV_GUARD_INSTALL needs Linux 6.13+, this is {os.uname().release}"
    res["guard_pagemap_bit"] = None if kv >= (6, 15) else \
        f"PM_GUARD_REGION (bit 58) needs Linux 6.15+, this is {os.uname().release}"
    res["thp"] = _thp_reason()
    sd = kernel_config("CONFIG_MEM_SOFT_DIRTY")
    if sd is None:
        res["soft_dirty"] = "kernel config unreadable; soft-dirty support unknown"
    else:
        res["soft_dirty"] = None if sd else "CONFIG_MEM_SOFT_DIRTY not set"
    return res


def soft_dirty_possible() -> bool:
    """True unless the kernel config says CONFIG_MEM_SOFT_DIRTY is off. When True,
    bit 55 may be set on any record (VM_SOFTDIRTY of fresh VMAs)."""
    return kernel_config("CONFIG_MEM_SOFT_DIRTY") is not False


# ---------------------------------------------------------------------------
# temporary swap
# ---------------------------------------------------------------------------
class SwapUnavailable(RuntimeError):
    """temporary_swap() could not enable a swap file; str() is the reason."""


class SwapInfo:
    def __init__(self, path: str, type_index: int, pages: int, priority: int):
        self.path = path
        self.type_index = type_index   # swap type = index in swap_info[]
        self.pages = pages             # usable size in pages (from /proc/swaps)
        self.priority = priority

    def __repr__(self):
        return (f"SwapInfo(path={self.path!r}, type_index={self.type_index}, "
                f"pages={self.pages}, priority={self.priority})")


def _which(tool: str):
    path = os.environ.get("PATH", "") + ":/sbin:/usr/sbin:/usr/local/sbin"
    return shutil.which(tool, path=path)


def _swap_dirs() -> list[str]:
    # /var/tmp first: /tmp is often tmpfs, where swapon fails with EINVAL
    dirs = [os.environ.get("MEMSTATES_SWAP_DIR"), "/var/tmp", tempfile.gettempdir()]
    out = []
    for d in dirs:
        if d and os.path.isdir(d) and os.path.realpath(d) not in [os.path.realpath(x) for x in out]:
            out.append(d)
    return out


def _swapoff(path: str) -> None:
    swapoff = _which("swapoff")
    deadline = time.monotonic() + 60
    while True:
        if not any(os.path.realpath(s["filename"]) == os.path.realpath(path)
                   for s in active_swaps()):
            return
        r = subprocess.run([swapoff, path], capture_output=True, text=True)
        if r.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"swapoff {path} failed: {r.stderr.strip()}")
        time.sleep(0.2)


_live_swapfiles: set[str] = set()


def _atexit_swapoff():
    for p in list(_live_swapfiles):
        try:
            _swapoff(p)
            os.unlink(p)
            os.rmdir(os.path.dirname(p))
        except Exception:
            pass


atexit.register(_atexit_swapoff)


@contextlib.contextmanager
def temporary_swap(size_mib: int = 64, priority: int = 32767):
    """Enable a temporary swap file (highest priority so that page-outs go to it),
    yield a SwapInfo, and always swapoff and delete it.  Raises SwapUnavailable."""
    why = swap_setup_reason()
    if why:
        raise SwapUnavailable(why)
    mkswap, swapon = _which("mkswap"), _which("swapon")
    failures = []
    for d in _swap_dirs():
        tmpdir = path = None
        enabled = False
        try:
            try:
                tmpdir = tempfile.mkdtemp(prefix="memstates-swap-", dir=d)
                path = os.path.join(tmpdir, "swapfile")
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    chunk = b"\0" * (1 << 20)   # real zeros: no holes, unlike fallocate on some fs
                    for _ in range(size_mib):
                        os.write(fd, chunk)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.chmod(path, 0o600)
            except OSError as e:
                failures.append(f"{d}: cannot create file: {e}")
                continue
            r = subprocess.run([mkswap, path], capture_output=True, text=True)
            if r.returncode != 0:
                failures.append(f"{d}: mkswap failed: {(r.stderr or r.stdout).strip()}")
                continue
            _live_swapfiles.add(path)
            r = subprocess.run([swapon, "-p", str(priority), path], capture_output=True, text=True)
            if r.returncode != 0:
                _live_swapfiles.discard(path)
                failures.append(f"{d} ({_fstype(d)}): swapon failed: {(r.stderr or r.stdout).strip()}")
                continue
            enabled = True
            swaps = active_swaps()
            idx = [i for i, s in enumerate(swaps)
                   if os.path.realpath(s["filename"]) == os.path.realpath(path)]
            if not idx:
                raise SwapUnavailable(f"swapon {path} succeeded but it is not in /proc/swaps")
            # /proc/swaps walks swap_info[] in type order and swapon takes the
            # lowest free slot, so right after swapon our position is our type.
            info = SwapInfo(path, idx[0], swaps[idx[0]]["size_kib"] * 1024 // PAGE_SIZE,
                            swaps[idx[0]]["priority"])
            yield info
            return
        finally:
            if path is not None:
                try:
                    if enabled:
                        _swapoff(path)
                finally:
                    _live_swapfiles.discard(path)
                    with contextlib.suppress(OSError):
                        os.unlink(path)
                    with contextlib.suppress(OSError):
                        os.rmdir(tmpdir)
            elif tmpdir is not None:
                with contextlib.suppress(OSError):
                    os.rmdir(tmpdir)
    raise SwapUnavailable("could not enable a swap file: " + "; ".join(failures))


def _fstype(d: str) -> str:
    best, fstype = "", "?"
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                parts = line.split()
                mnt = parts[1].replace("\\040", " ")
                rd = os.path.realpath(d)
                if (rd == mnt or rd.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                    best, fstype = mnt, parts[2]
    except OSError:
        pass
    return fstype


# ---------------------------------------------------------------------------
# child: state builders
# ---------------------------------------------------------------------------
class StateSkip(Exception):
    """The state needs something this machine does not offer."""


NPAGES = 4
_keep: list = []   # fds, mappings, helper processes kept alive until the child exits


def _expect(set_=(), clear=(), exact=None, pfn="nonzero", **extra):
    d = {"set": sorted(set_), "clear": sorted(clear), "exact": exact, "pfn": pfn}
    d.update(extra)
    return d


_ALL_FLAG_BITS = (PM_MMAP_EXCLUSIVE_BIT, PM_UFFD_WP_BIT, PM_GUARD_REGION_BIT,
                  PM_FILE_BIT, PM_SWAP_BIT, PM_PRESENT_BIT)


def _flags_expect(set_bits, pfn="nonzero", **extra):
    """All flag bits other than set_bits (and soft-dirty) must be clear."""
    return _expect(set_bits, [b for b in _ALL_FLAG_BITS if b not in set_bits], pfn=pfn, **extra)


def _anon(pages=NPAGES, prot=PROT_READ | PROT_WRITE):
    return _mmap(pages * PAGE_SIZE, prot, MAP_PRIVATE | MAP_ANONYMOUS)


def _state(addr, pages, expect, **extra):
    d = {"addr": addr, "pages": pages, "expect": expect}
    d.update(extra)
    return d


def st_anon():
    a = _anon()
    _write_pages(a, NPAGES)
    return _state(a, NPAGES, _flags_expect([PM_PRESENT_BIT, PM_MMAP_EXCLUSIVE_BIT]))


def st_anon_untouched():
    a = _anon()
    return _state(a, NPAGES, _expect([], _ALL_FLAG_BITS, exact=0, pfn="none"))


def st_mlocked():
    a = _anon()
    if _libc.mlock(a, NPAGES * PAGE_SIZE) != 0:
        raise StateSkip(f"mlock failed: {_oserror('mlock')} (RLIMIT_MEMLOCK?)")
    _write_pages(a, NPAGES)
    return _state(a, NPAGES, _flags_expect([PM_PRESENT_BIT, PM_MMAP_EXCLUSIVE_BIT]))


def _tmpfile(pages: int) -> int:
    d = "/var/tmp" if os.path.isdir("/var/tmp") else tempfile.gettempdir()
    fd, path = tempfile.mkstemp(prefix="memstates-file-", dir=d)
    os.unlink(path)   # the mapping keeps the inode; nothing is left behind
    os.write(fd, bytes(range(256)) * (pages * PAGE_SIZE // 256))
    return fd


def st_file():
    fd = _tmpfile(NPAGES)
    a = _mmap(NPAGES * PAGE_SIZE, PROT_READ, MAP_SHARED, fd)
    _keep.append(fd)
    _read_pages(a, NPAGES)
    return _state(a, NPAGES, _flags_expect([PM_PRESENT_BIT, PM_FILE_BIT, PM_MMAP_EXCLUSIVE_BIT]))


def st_file_private_cow():
    fd = _tmpfile(NPAGES)
    a = _mmap(NPAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd)
    _keep.append(fd)
    _write_pages(a, NPAGES)   # COW: the mapped pages are now private anon copies
    return _state(a, NPAGES, _flags_expect([PM_PRESENT_BIT, PM_MMAP_EXCLUSIVE_BIT]))


def _shmem(pages=NPAGES):
    return _mmap(pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS)


def st_shmem():
    a = _shmem()
    _write_pages(a, NPAGES)
    return _state(a, NPAGES, _flags_expect([PM_PRESENT_BIT, PM_FILE_BIT, PM_MMAP_EXCLUSIVE_BIT]))


def st_zero_page():
    a = _anon()
    _read_pages(a, NPAGES)
    # The zero page is not a "normal" page (vm_normal_page() is NULL), so neither
    # PM_FILE nor PM_MMAP_EXCLUSIVE is set; all pages share one PFN.
    return _state(a, NPAGES, _flags_expect([PM_PRESENT_BIT], pfn="shared"))


def st_protnone():
    a = _anon()
    _write_pages(a, NPAGES)
    _mprotect(a, NPAGES * PAGE_SIZE, PROT_NONE)
    return _state(a, NPAGES, _flags_expect([PM_PRESENT_BIT, PM_MMAP_EXCLUSIVE_BIT]))


def st_anon_cow_shared():
    """Built last by the child: fork() would otherwise COW-share (and un-exclusive)
    the pages of every other state; those are also marked MADV_DONTFORK."""
    a = _anon()
    _write_pages(a, NPAGES)
    for ra, rl in _regions:
        if ra != a:
            _madvise(ra, rl, MADV_DONTFORK)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:   # grandchild: hold the pages until the child goes away
        try:
            os.close(w)
            nul = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(nul, fd)
            os.read(r, 1)
        finally:
            os._exit(0)
    os.close(r)
    _keep.append(w)
    # mapcount 2 (parent + grandchild): not exclusive
    return _state(a, NPAGES, _flags_expect([PM_PRESENT_BIT]), peer_pid=pid)


def _need_swap():
    r = _can_pageout_swap_reason()
    if r:
        raise StateSkip(r)
    if not active_swaps():
        raise StateSkip("no active swap (use memstates.temporary_swap() before spawn())")


def _pageout(a: int, pages: int, timeout: float = 5.0) -> int:
    """MADV_PAGEOUT until every page shows PM_SWAP; returns the attempts."""
    deadline = time.monotonic() + timeout
    attempts = 0
    while True:
        attempts += 1
        try:
            _madvise(a, pages * PAGE_SIZE, MADV_PAGEOUT)
        except OSError as e:
            raise StateSkip(f"MADV_PAGEOUT: {e}") from None
        recs = read_pagemap("self", a, pages)
        if all(r & PM_SWAP for r in recs):
            return attempts
        if time.monotonic() > deadline:
            raise StateSkip(f"MADV_PAGEOUT did not swap the pages out within {timeout}s "
                            f"({attempts} attempts; records {[hex(r) for r in recs]})")
        time.sleep(0.02)


def st_swapped():
    _need_swap()
    a = _anon()
    _write_pages(a, NPAGES)
    n = _pageout(a, NPAGES)
    return _state(a, NPAGES, _flags_expect([PM_SWAP_BIT], pfn="swap"), pageout_attempts=n)


def _uffd(features: int, need: int = 0) -> Uffd:
    try:
        probe_u = Uffd(0)
    except OSError as e:
        raise StateSkip(str(e)) from None
    supported = probe_u.features
    probe_u.close()
    if need & ~supported:
        raise StateSkip(f"userfaultfd lacks feature(s) {need & ~supported:#x} "
                        f"(kernel offers {supported:#x})")
    try:
        u = Uffd(features & supported)
    except OSError as e:
        raise StateSkip(str(e)) from None
    _keep.append(u)   # closing it would drop VM_UFFD_WP and reset the wp bits
    return u


def _uffd_wp_anon(written=True, unpopulated=False):
    need = UFFD_FEATURE_WP_UNPOPULATED if unpopulated else 0
    u = _uffd(UFFD_FEATURE_PAGEFAULT_FLAG_WP | need, need)
    a = _anon()
    try:
        u.register_wp(a, NPAGES * PAGE_SIZE)
    except OSError as e:
        raise StateSkip(f"anon uffd-wp: {e}") from None
    if written:
        _write_pages(a, NPAGES)
    u.writeprotect(a, NPAGES * PAGE_SIZE)
    return a   # do NOT write to it any more: the write would block forever


def st_uffd_wp_present():
    a = _uffd_wp_anon()
    return _state(a, NPAGES, _flags_expect([PM_PRESENT_BIT, PM_MMAP_EXCLUSIVE_BIT,
                                            PM_UFFD_WP_BIT]))


def st_uffd_wp_swapped():
    _need_swap()
    a = _uffd_wp_anon()
    n = _pageout(a, NPAGES)
    return _state(a, NPAGES, _flags_expect([PM_SWAP_BIT, PM_UFFD_WP_BIT], pfn="swap"),
                  pageout_attempts=n)


def st_uffd_wp_unpopulated():
    a = _uffd_wp_anon(written=False, unpopulated=True)
    return _state(a, NPAGES, _flags_expect([PM_SWAP_BIT, PM_UFFD_WP_BIT], pfn="marker",
                                           marker=PTE_MARKER_UFFD_WP)
                  | {"exact": marker_record(PTE_MARKER_UFFD_WP)})


def _uffd_wp_shmem():
    u = _uffd(UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_HUGETLBFS_SHMEM,
              UFFD_FEATURE_WP_HUGETLBFS_SHMEM)
    a = _shmem()
    try:
        u.register_wp(a, NPAGES * PAGE_SIZE)
    except OSError as e:
        raise StateSkip(f"shmem uffd-wp: {e}") from None
    _write_pages(a, NPAGES)
    u.writeprotect(a, NPAGES * PAGE_SIZE)
    return a


def st_uffd_wp_shmem():
    a = _uffd_wp_shmem()
    return _state(a, NPAGES, _flags_expect([PM_PRESENT_BIT, PM_FILE_BIT, PM_MMAP_EXCLUSIVE_BIT,
                                            PM_UFFD_WP_BIT]))


def st_uffd_wp_marker():
    a = _uffd_wp_shmem()
    _madvise(a, NPAGES * PAGE_SIZE, MADV_DONTNEED)   # zap keeps a UFFD_WP pte marker
    return _state(a, NPAGES, _flags_expect([PM_SWAP_BIT, PM_UFFD_WP_BIT], pfn="marker",
                                           marker=PTE_MARKER_UFFD_WP)
                  | {"exact": marker_record(PTE_MARKER_UFFD_WP)})


def st_guard():
    a = _anon()
    try:
        _madvise(a, NPAGES * PAGE_SIZE, MADV_GUARD_INSTALL)
    except OSError as e:
        raise StateSkip(f"MADV_GUARD_INSTALL: {e} (needs Linux 6.13+, this is "
                        f"{os.uname().release})") from None
    bits = [PM_SWAP_BIT] + ([PM_GUARD_REGION_BIT] if kernel_version() >= (6, 15) else [])
    return _state(a, NPAGES, _flags_expect(bits, pfn="marker", marker=PTE_MARKER_GUARD)
                  | {"exact": marker_record(PTE_MARKER_GUARD)})


def _smaps_field(addr: int, field: str):
    with open("/proc/self/smaps") as f:
        inside = False
        for line in f:
            m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) ", line)
            if m:
                inside = int(m.group(1), 16) <= addr < int(m.group(2), 16)
            elif inside and line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def st_thp():
    why = _thp_reason()
    if why:
        raise StateSkip(why)
    size = thp_pmd_size()
    pages = size // PAGE_SIZE
    raw = _anon(2 * pages)
    a = (raw + size - 1) & ~(size - 1)
    try:
        _madvise(a, size, MADV_HUGEPAGE)
    except OSError as e:
        raise StateSkip(f"MADV_HUGEPAGE: {e}") from None
    ctypes.memset(a, 0x5A, 8)     # one write fault allocates the whole PMD-size folio
    kib = _smaps_field(a, "AnonHugePages")
    if not kib or kib < size // 1024:
        raise StateSkip(f"no THP was allocated (AnonHugePages {kib} kB; memory fragmented, "
                        "or THP defrag settings)")
    _write_pages(a, pages)
    return _state(a, pages, _flags_expect([PM_PRESENT_BIT, PM_MMAP_EXCLUSIVE_BIT],
                                          pfn="consecutive"), anon_huge_kib=kib)


def st_softdirty():
    """Pages 0-1 re-written after clear_refs 4, pages 2-3 not.  clear_refs acts on
    the whole mm, so this state must be spawned alone."""
    a = _anon()
    _write_pages(a, NPAGES)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("4")
    except OSError as e:
        raise StateSkip(f"clear_refs 4: {e}") from None
    _write_pages(a, 2)
    recs = read_pagemap("self", a, NPAGES)
    if not recs[0] & PM_SOFT_DIRTY:
        cfg = kernel_config("CONFIG_MEM_SOFT_DIRTY")
        raise StateSkip("no soft-dirty tracking: bit 55 not set after clear_refs 4 + write"
                        + (" (CONFIG_MEM_SOFT_DIRTY not set)" if cfg is False else ""))
    return _state(a, NPAGES, _expect([PM_PRESENT_BIT, PM_MMAP_EXCLUSIVE_BIT],
                                     [PM_FILE_BIT, PM_SWAP_BIT],
                                     soft_dirty=[True, True, False, False]))


BUILDERS = {
    "anon": st_anon,
    "anon_untouched": st_anon_untouched,
    "mlocked": st_mlocked,
    "file": st_file,
    "file_private_cow": st_file_private_cow,
    "shmem": st_shmem,
    "zero_page": st_zero_page,
    "protnone": st_protnone,
    "anon_cow_shared": st_anon_cow_shared,
    "swapped": st_swapped,
    "uffd_wp_present": st_uffd_wp_present,
    "uffd_wp_swapped": st_uffd_wp_swapped,
    "uffd_wp_shmem": st_uffd_wp_shmem,
    "uffd_wp_marker": st_uffd_wp_marker,
    "uffd_wp_unpopulated": st_uffd_wp_unpopulated,
    "guard": st_guard,
    "thp": st_thp,
    "softdirty": st_softdirty,
}
STATES = list(BUILDERS)
SWAP_STATES = ("swapped", "uffd_wp_swapped")
SOLO_STATES = ("softdirty",)   # must be spawned on its own
FORK_STATES = ("anon_cow_shared",)   # fork(): built after all the others


def _child_main(names: list[str]) -> int:
    out = {"pid": os.getpid(), "page_size": PAGE_SIZE, "kernel": os.uname().release,
           "states": {}, "skipped": {}, "errors": {}}
    order = [n for n in names if n not in FORK_STATES] + [n for n in names if n in FORK_STATES]
    for name in order:
        try:
            if name not in BUILDERS:
                raise ValueError(f"unknown state {name!r}; known: {', '.join(STATES)}")
            if name in SOLO_STATES and len(names) > 1:
                raise ValueError(f"state {name!r} must be spawned alone")
            out["states"][name] = BUILDERS[name]()
        except StateSkip as e:
            out["skipped"][name] = str(e)
        except Exception:
            out["errors"][name] = traceback.format_exc()
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    sys.stdin.buffer.read()   # hold the states until the parent closes our stdin
    return 0


# ---------------------------------------------------------------------------
# parent: spawn
# ---------------------------------------------------------------------------
class Child:
    def __init__(self, proc: subprocess.Popen, info: dict):
        self.proc = proc
        self.info = info
        self.pid: int = info["pid"]
        self.page_size: int = info["page_size"]
        self.states: dict = info["states"]
        self.skipped: dict = info["skipped"]
        self.errors: dict = info["errors"]

    def pagemap(self, name: str) -> list[int]:
        st = self.states[name]
        return read_pagemap(self.pid, st["addr"], st["pages"])

    def close(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for s in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                s.close()


@contextlib.contextmanager
def spawn(names, timeout: float = 30.0):
    """Start a child that builds the named states; yield a Child; stop it afterwards."""
    names = list(names)
    errf = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", *names],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errf)
    child = None
    try:
        buf = b""
        deadline = time.monotonic() + timeout
        fd = proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"memstates child gave no JSON within {timeout}s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    errf.seek(0)
                    raise RuntimeError(f"memstates child exited ({proc.wait()}) without JSON: "
                                       + errf.read().decode(errors="replace")[-4000:])
                buf += chunk
        child = Child(proc, json.loads(buf.split(b"\n", 1)[0]))
        yield child
    finally:
        if child is not None:
            child.close()
        elif proc.poll() is None:
            proc.kill()
            proc.wait()
        errf.close()


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        sys.exit(_child_main(sys.argv[2:]))
    if len(sys.argv) >= 2 and sys.argv[1] == "--probe":
        json.dump(probe(), sys.stdout, indent=1)
        print()
        sys.exit(0)
    print(f"usage: {sys.argv[0]} --child STATE... | --probe   (states: {', '.join(STATES)})",
          file=sys.stderr)
    sys.exit(2)
