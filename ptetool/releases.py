"""Kernel release strings, and which x86 swap layout a given release carried.

The version number alone does not tell the x86_64 swap layout between 4.4 and
4.18: the L1TF mitigation (mainline 4.19, "x86/speculation/l1tf: Protect swap
entries against L1TF", 2018-08-14) inverted the swap offset and moved the type
to bits 59-63, and it was backported to the stable branches that were still
maintained in August 2018 and to distribution kernels. A full release string
(``4.18.8-200.fc28.x86_64``, ``3.10.0-862.11.6.el7.x86_64``) does tell, and
this module says which layout it carried and why.
"""

from __future__ import annotations

import re
from typing import NamedTuple

Version = tuple[int, int]

L1TF_MAINLINE: Version = (4, 19)

# The first release of each stable branch with the L1TF swap-entry change (all
# released 2018-08-14/15; stable changelogs ChangeLog-4.18.1, -4.17.15, -4.14.63,
# -4.9.120, -4.4.148; the 4.4 and 4.9 backports brought the 4.8 erratum move of the
# swap type along, so those releases carry exactly the 4.19 layout).
STABLE_L1TF_FIRST: dict[Version, int] = {
    (4, 18): 1,
    (4, 17): 15,
    (4, 14): 63,
    (4, 9): 120,
    (4, 4): 148,
}

# RHEL 7 / CentOS 7: the L1TF errata kernel for RHEL 7.5 (RHSA-2018:2384, 2018-08-14).
RHEL7_L1TF_FIRST = (862, 11, 6)
# Ubuntu kernels by upstream base and ABI number ("4.4.0-133-generic"): the first ABI with the L1TF
# swap layout (xenial: USN-3741-1, linux 4.4.0-133.159, 2018-08-14).
UBUNTU_L1TF_FIRST_ABI: dict[Version, int] = {(4, 4): 133}


class Release(NamedTuple):
    """A kernel release as ``uname -r`` prints it: version, stable sublevel, the rest."""

    text: str
    version: Version
    sublevel: int | None
    extra: str

    @property
    def distro(self) -> str | None:
        """The distribution whose kernel this is, where the suffix says so."""
        if re.search(r"\.el\d+", self.extra):
            return "rhel"
        if re.search(r"\.fc\d+", self.extra):
            return "fedora"
        if re.fullmatch(r"-\d+-[a-z][\w-]*", self.extra) and self.sublevel == 0:
            return "ubuntu-or-debian"
        return None


_RELEASE = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?([-+.~_].*)?")


def parse_release(text: str) -> Release | None:
    """'4.18.8-200.fc28.x86_64' -> Release((4, 18), 8, '-200.fc28.x86_64'); None if not a release."""
    match = _RELEASE.fullmatch(text.strip())
    if not match:
        return None
    sublevel = int(match[3]) if match[3] is not None else None
    return Release(text.strip(), (int(match[1]), int(match[2])), sublevel, match[4] or "")


class Verdict(NamedTuple):
    """Whether a release carries the L1TF swap layout: True, False, or None (cannot tell), and why."""

    l1tf: bool | None
    why: str


def l1tf_verdict(release: Release) -> Verdict:
    """Which x86_64 swap layout ``release`` carried, from mainline, stable and distribution history."""
    version, sub = release.version, release.sublevel
    if version >= L1TF_MAINLINE:
        return Verdict(True, f"mainline {version[0]}.{version[1]} has the L1TF swap layout (4.19 on)")
    rhel = re.search(r"-(\d+(?:\.\d+)*)\.el(\d+)(?:_\d+)?(?:\.|$)", release.extra)
    if rhel and (version == (3, 10) or int(rhel[2]) >= 8):
        el = int(rhel[2])
        build = tuple(int(x) for x in rhel[1].split("."))
        if el >= 8:
            return Verdict(True, f"RHEL {el} kernels carry the L1TF swap layout from their first release")
        if el == 7:
            errata = ".".join(map(str, RHEL7_L1TF_FIRST))
            if build >= RHEL7_L1TF_FIRST:
                return Verdict(True, f"RHEL 7 kernel build {rhel[1]} is at or after {errata}, the L1TF errata "
                               "kernel (RHSA-2018:2384)")
            return Verdict(False, f"RHEL 7 kernel build {rhel[1]} predates {errata}, the L1TF errata kernel")
        return Verdict(False, f"RHEL {el} kernels predate L1TF")
    ubuntu = re.fullmatch(r"-(\d+)-(?:generic|lowlatency|aws|azure|gcp|kvm|oem|virtual)\b.*", release.extra)
    if ubuntu and sub == 0 and version in UBUNTU_L1TF_FIRST_ABI:
        abi, first_abi = int(ubuntu[1]), UBUNTU_L1TF_FIRST_ABI[version]
        base = f"{version[0]}.{version[1]}.0"
        if abi >= first_abi:
            return Verdict(True, f"Ubuntu {base}-{abi} is at or after {base}-{first_abi}, its first kernel with the "
                           "L1TF swap layout (USN-3741-1)")
        return Verdict(False, f"Ubuntu {base}-{abi} predates {base}-{first_abi}, its first kernel with the L1TF "
                       "swap layout (USN-3741-1)")
    first = STABLE_L1TF_FIRST.get(version)
    label = f"{version[0]}.{version[1]}"
    if first is None:
        if release.extra and not re.match(r"-rc\d+", release.extra):
            return Verdict(None, f"{release.text}: a distribution kernel may carry an L1TF backport that its "
                           "release string does not reveal")
        return Verdict(False, f"{label}.y had no stable L1TF backport (branch closed before August 2018)")
    if sub is None:
        return Verdict(None, f"{label}.y gained the L1TF swap layout in {label}.{first}; "
                       f"'{release.text}' names no stable release")
    if release.distro == "ubuntu-or-debian" and sub == 0:
        return Verdict(None, f"{release.text}: a distribution kernel numbered {label}.0 may carry the L1TF "
                       "backport; the release string does not tell")
    if sub >= first:
        return Verdict(True, f"{label}.{sub} is at or after {label}.{first}, the first {label}.y stable release "
                       "with the L1TF swap layout")
    return Verdict(False, f"{label}.{sub} predates {label}.{first}, the first {label}.y stable release with the "
                   "L1TF swap layout")
