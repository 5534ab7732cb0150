# ruff: noqa: E501  (one source string per version, kept whole)
"""Page-flag numbering on x86_64 by kernel version (enum pageflags, include/linux/page-flags.h).

Each table lists the flags in enum order as the kernel prints them (mmflags.h / mm/debug.c names),
with the config option a flag needs; a flag whose option is off takes no bit, so later bits shift
down. Sources: the tree read for each version (VERIFIED where read in a kernel tree; the others
were rebuilt from the patches that changed the enum and are marked so).
"""

from __future__ import annotations

# version -> (source, ((printed name, config option or None), ...)) in enum order
NUMBERINGS: dict[tuple[int, int], tuple[str, tuple[tuple[str, str | None], ...]]] = {
    (3, 10): ('include/linux/page-flags.h read in AndreiLux/ref-3.10 (Makefile: 3.10.9; Samsung vendor tr - enum: VERIFIED (vendor 3.10.9 tree + ide', (
        ('locked', None), ('error', None), ('referenced', None), ('uptodate', None), ('dirty', None), ('lru', None),
        ('active', None), ('slab', None), ('owner_priv_1', None), ('arch_1', None), ('reserved', None),
        ('private', None), ('private_2', None), ('writeback', None), ('head', 'CONFIG_PAGEFLAGS_EXTENDED'),
        ('tail', 'CONFIG_PAGEFLAGS_EXTENDED'), ('swapcache', None), ('mappedtodisk', None), ('reclaim', None),
        ('swapbacked', None), ('unevictable', None), ('mlocked', 'CONFIG_MMU'),
        ('uncached', 'CONFIG_ARCH_USES_PG_UNCACHED'), ('hwpoison', 'CONFIG_MEMORY_FAILURE'),
        ('compound_lock', 'CONFIG_TRANSPARENT_HUGEPAGE'),
    )),
    (4, 4): ("RECONSTRUCTED (no 4.4 tree found in the index): PG_tail removed by 'mm: make compound_head - UNVERIFIED (order reconstructed from ver", (
        ('locked', None), ('error', None), ('referenced', None), ('uptodate', None), ('dirty', None), ('lru', None),
        ('active', None), ('slab', None), ('owner_priv_1', None), ('arch_1', None), ('reserved', None),
        ('private', None), ('private_2', None), ('writeback', None), ('head', None), ('swapcache', None),
        ('mappedtodisk', None), ('reclaim', None), ('swapbacked', None), ('unevictable', None),
        ('mlocked', 'CONFIG_MMU'), ('uncached', 'CONFIG_ARCH_USES_PG_UNCACHED'),
        ('hwpoison', 'CONFIG_MEMORY_FAILURE'), ('compound_lock', 'CONFIG_TRANSPARENT_HUGEPAGE'),
        ('young', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
        ('idle', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
    )),
    (4, 9): ("RECONSTRUCTED/partly verified: the mm/debug.c table removed by the 4.6 '%pGp' conversion p - UNVERIFIED-in-tree (no 4.9 page-flags.h ", (
        ('locked', None), ('error', None), ('referenced', None), ('uptodate', None), ('dirty', None), ('lru', None),
        ('active', None), ('slab', None), ('owner_priv_1', None), ('arch_1', None), ('reserved', None),
        ('private', None), ('private_2', None), ('writeback', None), ('head', None), ('swapcache', None),
        ('mappedtodisk', None), ('reclaim', None), ('swapbacked', None), ('unevictable', None),
        ('mlocked', 'CONFIG_MMU'), ('uncached', 'CONFIG_ARCH_USES_PG_UNCACHED'),
        ('hwpoison', 'CONFIG_MEMORY_FAILURE'), ('young', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
        ('idle', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
    )),
    (4, 14): ('Same enum as the verified 4.19 file (0x88888888/Linux-4.19, comment-annotated copy; Makefi - UNVERIFIED-in-tree for 4.14 (inferred: n', (
        ('locked', None), ('error', None), ('referenced', None), ('uptodate', None), ('dirty', None), ('lru', None),
        ('active', None), ('waiters', None), ('slab', None), ('owner_priv_1', None), ('arch_1', None),
        ('reserved', None), ('private', None), ('private_2', None), ('writeback', None), ('head', None),
        ('mappedtodisk', None), ('reclaim', None), ('swapbacked', None), ('unevictable', None),
        ('mlocked', 'CONFIG_MMU'), ('uncached', 'CONFIG_ARCH_USES_PG_UNCACHED'),
        ('hwpoison', 'CONFIG_MEMORY_FAILURE'), ('young', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
        ('idle', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
    )),
    (4, 19): ('include/linux/page-flags.h, repo 0x88888888/Linux-4.19 (commit dcdd3154, comment-annotated - VERIFIED (enum read); mmflags names = PG', (
        ('locked', None), ('error', None), ('referenced', None), ('uptodate', None), ('dirty', None), ('lru', None),
        ('active', None), ('waiters', None), ('slab', None), ('owner_priv_1', None), ('arch_1', None),
        ('reserved', None), ('private', None), ('private_2', None), ('writeback', None), ('head', None),
        ('mappedtodisk', None), ('reclaim', None), ('swapbacked', None), ('unevictable', None),
        ('mlocked', 'CONFIG_MMU'), ('uncached', 'CONFIG_ARCH_USES_PG_UNCACHED'),
        ('hwpoison', 'CONFIG_MEMORY_FAILURE'), ('young', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
        ('idle', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
    )),
    (5, 4): ('RECONSTRUCTED from the 4.20-5.9 enum (PG_workingset inserted at bit 6, PG_error moved to 8 - UNVERIFIED-in-tree (no 5.4 tree read); h', (
        ('locked', None), ('referenced', None), ('uptodate', None), ('dirty', None), ('lru', None), ('active', None),
        ('workingset', None), ('waiters', None), ('error', None), ('slab', None), ('owner_priv_1', None),
        ('arch_1', None), ('reserved', None), ('private', None), ('private_2', None), ('writeback', None),
        ('head', None), ('mappedtodisk', None), ('reclaim', None), ('swapbacked', None), ('unevictable', None),
        ('mlocked', 'CONFIG_MMU'), ('uncached', 'CONFIG_ARCH_USES_PG_UNCACHED'),
        ('hwpoison', 'CONFIG_MEMORY_FAILURE'), ('young', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
        ('idle', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
    )),
    (5, 10): ('include/linux/page-flags.h, repo Rtoax/linux-5.10.13 (comment-annotated copy; Makefile not - VERIFIED (enum read)', (
        ('locked', None), ('referenced', None), ('uptodate', None), ('dirty', None), ('lru', None), ('active', None),
        ('workingset', None), ('waiters', None), ('error', None), ('slab', None), ('owner_priv_1', None),
        ('arch_1', None), ('reserved', None), ('private', None), ('private_2', None), ('writeback', None),
        ('head', None), ('mappedtodisk', None), ('reclaim', None), ('swapbacked', None), ('unevictable', None),
        ('mlocked', 'CONFIG_MMU'), ('uncached', 'CONFIG_ARCH_USES_PG_UNCACHED'),
        ('hwpoison', 'CONFIG_MEMORY_FAILURE'), ('young', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
        ('idle', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'), ('arch_2', 'CONFIG_64BIT'),
    )),
    (5, 15): ('stored page-flags.h copy (id 5356204583) with CONFIG_PAGE_IDLE_FLAG, PG_skip_kasan_poison  - VERIFIED content, version inferred from ', (
        ('locked', None), ('referenced', None), ('uptodate', None), ('dirty', None), ('lru', None), ('active', None),
        ('workingset', None), ('waiters', None), ('error', None), ('slab', None), ('owner_priv_1', None),
        ('arch_1', None), ('reserved', None), ('private', None), ('private_2', None), ('writeback', None),
        ('head', None), ('mappedtodisk', None), ('reclaim', None), ('swapbacked', None), ('unevictable', None),
        ('mlocked', 'CONFIG_MMU'), ('uncached', 'CONFIG_ARCH_USES_PG_UNCACHED'),
        ('hwpoison', 'CONFIG_MEMORY_FAILURE'), ('young', 'CONFIG_PAGE_IDLE_FLAG && CONFIG_64BIT'),
        ('idle', 'CONFIG_PAGE_IDLE_FLAG && CONFIG_64BIT'), ('arch_2', 'CONFIG_64BIT'),
    )),
    (6, 1): ('include/linux/page-flags.h + include/trace/events/mmflags.h + mm/debug.c + lib/vsprintf.c  - VERIFIED (local primary source)', (
        ('locked', None), ('referenced', None), ('uptodate', None), ('dirty', None), ('lru', None), ('active', None),
        ('workingset', None), ('waiters', None), ('error', None), ('slab', None), ('owner_priv_1', None),
        ('arch_1', None), ('reserved', None), ('private', None), ('private_2', None), ('writeback', None),
        ('head', None), ('mappedtodisk', None), ('reclaim', None), ('swapbacked', None), ('unevictable', None),
        ('mlocked', 'CONFIG_MMU'), ('uncached', 'CONFIG_ARCH_USES_PG_UNCACHED'),
        ('hwpoison', 'CONFIG_MEMORY_FAILURE'), ('young', 'CONFIG_PAGE_IDLE_FLAG && CONFIG_64BIT'),
        ('idle', 'CONFIG_PAGE_IDLE_FLAG && CONFIG_64BIT'), ('arch_2', 'CONFIG_64BIT'),
    )),
    (6, 6): ("RECONSTRUCTED: (a) 'mm: rearrange page flags' (Matthew Wilcox, Aug 2023; patch text read,  - UNVERIFIED (no 6.6 tree read). Main risk", (
        ('locked', None), ('writeback', None), ('referenced', None), ('uptodate', None), ('dirty', None),
        ('lru', None), ('head', None), ('waiters', None), ('active', None), ('workingset', None), ('error', None),
        ('slab', None), ('owner_priv_1', None), ('arch_1', None), ('reserved', None), ('private', None),
        ('private_2', None), ('mappedtodisk', None), ('reclaim', None), ('swapbacked', None), ('unevictable', None),
        ('mlocked', 'CONFIG_MMU'), ('uncached', 'CONFIG_ARCH_USES_PG_UNCACHED'),
        ('hwpoison', 'CONFIG_MEMORY_FAILURE'), ('young', 'CONFIG_PAGE_IDLE_FLAG && CONFIG_64BIT'),
        ('idle', 'CONFIG_PAGE_IDLE_FLAG && CONFIG_64BIT'),
    )),
    (6, 12): ('include/linux/page-flags.h + mmflags.h + mm/debug.c + lib/vsprintf.c + arch/x86/Kconfig fr - VERIFIED (local primary source)', (
        ('locked', None), ('writeback', None), ('referenced', None), ('uptodate', None), ('dirty', None),
        ('lru', None), ('head', None), ('waiters', None), ('active', None), ('workingset', None),
        ('owner_priv_1', None), ('owner_2', None), ('arch_1', None), ('reserved', None), ('private', None),
        ('private_2', None), ('reclaim', None), ('swapbacked', None), ('unevictable', None),
        ('mlocked', 'CONFIG_MMU'), ('hwpoison', 'CONFIG_MEMORY_FAILURE'),
        ('young', 'CONFIG_PAGE_IDLE_FLAG && CONFIG_64BIT'), ('idle', 'CONFIG_PAGE_IDLE_FLAG && CONFIG_64BIT'),
        ('arch_2', 'CONFIG_ARCH_USES_PG_ARCH_2'),
    )),
    (6, 14): ('include/linux/page-flags.h, repo gregkh/linux (stored commit cb35cc25, contains PG_dropbeh - VERIFIED enum + names (exact release num', (
        ('locked', None), ('writeback', None), ('referenced', None), ('uptodate', None), ('dirty', None),
        ('lru', None), ('head', None), ('waiters', None), ('active', None), ('workingset', None),
        ('owner_priv_1', None), ('owner_2', None), ('arch_1', None), ('reserved', None), ('private', None),
        ('private_2', None), ('reclaim', None), ('swapbacked', None), ('unevictable', None), ('dropbehind', None),
        ('mlocked', 'CONFIG_MMU'), ('hwpoison', 'CONFIG_MEMORY_FAILURE'),
        ('young', 'CONFIG_PAGE_IDLE_FLAG && CONFIG_64BIT'), ('idle', 'CONFIG_PAGE_IDLE_FLAG && CONFIG_64BIT'),
        ('arch_2', 'CONFIG_ARCH_USES_PG_ARCH_2'),
    )),
}
