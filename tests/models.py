"""Kernel models that tests sweep: every era boundary ptetool knows, every option subset that matters."""

from __future__ import annotations

from itertools import combinations

from ptetool.kernel import OPTIONS, Model

# One version on each side of every change ptetool models.
ERA_VERSIONS = (
    (3, 0), (3, 1), (3, 10), (3, 11), (3, 19),
    (4, 0), (4, 4), (4, 5), (4, 6), (4, 8), (4, 9), (4, 13), (4, 14), (4, 18), (4, 19), (4, 20), (5, 2), (5, 3),
    (5, 6), (5, 7), (5, 9), (5, 10), (5, 13), (5, 14), (5, 18), (5, 19), (6, 0), (6, 1), (6, 2), (6, 3), (6, 4),
    (6, 5), (6, 6), (6, 8), (6, 9), (6, 10), (6, 11), (6, 12), (6, 13), (6, 14), (6, 15), (6, 16), (6, 17), (6, 18),
)  # every boundary of x86_64, arm64 (5.3, 5.10, 5.19, 6.9, 6.10, 6.12, 6.17) and riscv64 (5.19, 6.3, 6.4, 6.11)

_KEY = ("CONFIG_MIGRATION", "CONFIG_DEVICE_PRIVATE", "CONFIG_MEMORY_FAILURE", "CONFIG_MEM_SOFT_DIRTY",
        "CONFIG_HAVE_ARCH_USERFAULTFD_WP", "CONFIG_PTE_MARKER", "CONFIG_NUMA_BALANCING")
OPTION_SETS = tuple(
    frozenset(combo) for n in range(len(_KEY) + 1) for combo in combinations(_KEY, n)
)
ALL_ON = frozenset(OPTIONS)


def model(version: tuple[int, int], enabled: frozenset[str] = ALL_ON, la57: bool = False,
          l1tf: bool | None = None) -> Model:
    return Model(version=version, enabled=enabled, kconfig="test", phys_bits=46, la57=la57, l1tf=l1tf)


def every_model() -> list[Model]:
    return [model(v, e, la57) for v in ERA_VERSIONS for e in OPTION_SETS for la57 in (False, True)]
