"""Options shared by the commands, each declared once and stacked where it applies."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ptetool.decoder import ARCH_ALIASES, ARCHES, LEVELS
from ptetool.errors import UsageError
from ptetool.kernel import Model, build_model

F = TypeVar("F", bound=Callable[..., Any])

DECODE_FORMATS = ("diagram", "brief", "table", "json", "ndjson", "markdown")


def model_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--arch, --level, --kernel, --kconfig and the CPU facts, shared by every command.

    The command receives ``model`` (built once, here, from --kernel, --kconfig, --phys-bits,
    --la57 and --l1tf), ``arch`` and ``level``.
    """

    @functools.wraps(func)
    def with_model(*args: Any, arch: str, kernel: str | None, kconfig: str | None, phys_bits: int | None,
                   la57: bool | None, l1tf: bool | None, granule: str, **kwargs: Any) -> Any:
        arch = resolve_arch(arch)
        check_modelled(arch, granule, phys_bits)
        return func(*args, arch=arch, model=resolve_model(kernel, kconfig, phys_bits, la57, l1tf, arch), **kwargs)

    options = [
        click.option("--arch", type=click.Choice([*ARCHES, *ARCH_ALIASES, "host"]), default="x86_64",
                     show_default=True, help="Architecture whose layout applies ('host': this machine's)."),
        click.option("--level", type=click.Choice(LEVELS), default="pte", show_default=True,
                     help="Page-table level the entry came from."),
        click.option("--kernel", metavar="X.Y|running",
                     help="Kernel whose layouts and swap-type numbering apply [default: running, for this "
                     "machine's arch; else the newest modelled]."),
        click.option("--kconfig", metavar="PATH|running|allyes",
                     help="A .config or config.gz deciding swap types and optional bits; 'allyes' enables "
                     "every option that matters [default: running with --kernel running, else allyes]."),
        click.option("--phys-bits", type=click.IntRange(32, 52), metavar="N",
                     help="Physical address width for PFN checks [default: the CPU's, else 52]."),
        click.option("--la57/--no-la57", default=None,
                     help="5-level paging active (MAX_PHYSMEM_BITS 52, not 46) [default: the CPU's, else off]."),
        click.option("--granule", type=click.Choice(GRANULES), default="4k", show_default=True,
                     help="The kernel's page size (arm64's translation granule: 16k and 64k are not modelled yet)."),
        click.option("--l1tf/--no-l1tf", default=None,
                     help="x86 swap layout: force the L1TF one (inverted offset, type at 59-63) or the one before "
                     "it [default: what the kernel release carried; 4.19 on: L1TF]."),
    ]
    decorated: Callable[..., Any] = with_model
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


def output_options(formats: tuple[str, ...]) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        picture_file = click.Path(dir_okay=False, writable=True)
        options = [
            click.option("--format", "fmt", type=click.Choice(formats), default=None,
                         help="Output format [default: diagram on a terminal, else brief]."
                         if "brief" in formats else "Output format [default: diagram]."),
            click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
                         show_default=True, help="Colour: auto colours a terminal unless NO_COLOR is set."),
            click.option("--ascii", "ascii_only", is_flag=True, help="Draw with ASCII, no box-drawing characters."),
            click.option("--svg", type=picture_file, metavar="FILE",
                         help="Also write the coloured view to FILE as SVG."),
            click.option("--html", type=picture_file, metavar="FILE",
                         help="Also write the coloured view to FILE as HTML."),
        ]
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def resolve_model(kernel: str | None, kconfig: str | None, phys_bits: int | None, la57: bool | None,
                  l1tf: bool | None = None, arch: str = "x86_64") -> Model:
    """The model of the options. The running kernel is the default only for this machine's arch:
    an arm64 value read on an x86_64 laptop came from another kernel (the newest modelled is assumed)."""
    if kernel is None and arch not in (host_arch(), "generic"):
        from dataclasses import replace

        from ptetool.kernel import NEWEST, version_str

        model = build_model(version_str(NEWEST), kconfig, phys_bits, la57, l1tf)
        return replace(model, assumptions=(*model.assumptions, (
            f"this machine runs {host_arch()}, not {arch}: kernel {version_str(NEWEST)}, the newest modelled, "
            "is assumed (--kernel and --kconfig say which)")))
    return build_model(kernel, kconfig, phys_bits, la57, l1tf)


GRANULES = ("4k", "16k", "64k")


def check_modelled(arch: str, granule: str, phys_bits: int | None = None) -> None:
    """Only 4 KiB pages and 48-bit arm64 addresses are modelled: say so rather than misread an entry."""
    if arch == "arm64" and phys_bits is not None and phys_bits > 48:
        raise UsageError(f"--phys-bits {phys_bits}: arm64 with more than 48-bit physical addresses "
                         "(CONFIG_ARM64_PA_BITS_52: LPA2 keeps PA[51:50] in bits 8-9 from 6.9, LPA with 64 KiB "
                         "pages PA[51:48] in bits 12-15) is not modelled yet")
    if granule == "4k":
        return
    if arch == "arm64":
        raise UsageError(f"--granule {granule}: arm64 with {granule[:-1]} KiB pages is not modelled yet. "
                         "The output address starts at bit 14 or 16 there, and a 64 KiB kernel with 52-bit "
                         "addresses keeps PA[51:48] in bits 12-15; only the 4 KiB granule is read")
    raise UsageError(f"--granule {granule}: {arch} pages are 4 KiB")


def host_arch() -> str:
    """This machine's arch as ptetool names it (uname's machine, as platform.machine() reads it)."""
    name = os.uname().machine
    return ARCH_ALIASES.get(name, name)




def resolve_arch(name: str) -> str:
    """An --arch alias (aarch64) or 'host' as the arch ptetool models it."""
    if name == "host":
        name = host_arch()
        if name not in ARCHES:
            raise UsageError(f"--arch host: this machine is {name}, which ptetool does not model")
    return ARCH_ALIASES.get(name, name)
