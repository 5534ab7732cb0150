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
    (4, 4): ("include/linux/page-flags.h + mm/debug.c pageflag_names[] read in CMRemix/android_kernel_samsung_universal8895 (page-flags.h stored commit 75c3f04e, mm/debug.c bfeb12d2; top-level Makefile at stored commit 02d925d4: VERSION 4, PATCHLEVEL 4, SUBLEVEL 98; Samsung vendor tree - its vendor-only PG_ksm_scan0 (CONFIG_KSM_CHECK_PAGE, after PG_idle, printed 'PG_ksm_scan0') is left out) - VERIFIED (enum order, printed names and config conditions match; table unchanged)", (
        ('locked', None), ('error', None), ('referenced', None), ('uptodate', None), ('dirty', None), ('lru', None),
        ('active', None), ('slab', None), ('owner_priv_1', None), ('arch_1', None), ('reserved', None),
        ('private', None), ('private_2', None), ('writeback', None), ('head', None), ('swapcache', None),
        ('mappedtodisk', None), ('reclaim', None), ('swapbacked', None), ('unevictable', None),
        ('mlocked', 'CONFIG_MMU'), ('uncached', 'CONFIG_ARCH_USES_PG_UNCACHED'),
        ('hwpoison', 'CONFIG_MEMORY_FAILURE'), ('compound_lock', 'CONFIG_TRANSPARENT_HUGEPAGE'),
        ('young', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
        ('idle', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
    )),
    (4, 9): ('include/linux/page-flags.h read in DevOnePlus/nebula_kernel_sdm845_rev3 (stored commit 53d9cbc5; top-level Makefile at stored commit 04a882e4: VERSION 4, PATCHLEVEL 9, SUBLEVEL 152; QCOM/OnePlus vendor tree) + include/trace/events/mmflags.h read in OnePlusOSS/android_kernel_oneplus_sdm845 (stored commit 7a07829c, 4.8/4.9-era file; its Makefile not read). Left out as not mainline 4.9: PG_waiters directly after PG_locked (vendor backport of the 4.10 PageWaiters patch, bit 1; no mmflags name) and vendor PG_uidlru (plus PG_willneed in mmflags.h) - VERIFIED (vendor tree; mainline flags, order, printed names and config conditions match; table unchanged)', (
        ('locked', None), ('error', None), ('referenced', None), ('uptodate', None), ('dirty', None), ('lru', None),
        ('active', None), ('slab', None), ('owner_priv_1', None), ('arch_1', None), ('reserved', None),
        ('private', None), ('private_2', None), ('writeback', None), ('head', None), ('swapcache', None),
        ('mappedtodisk', None), ('reclaim', None), ('swapbacked', None), ('unevictable', None),
        ('mlocked', 'CONFIG_MMU'), ('uncached', 'CONFIG_ARCH_USES_PG_UNCACHED'),
        ('hwpoison', 'CONFIG_MEMORY_FAILURE'), ('young', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
        ('idle', 'CONFIG_IDLE_PAGE_TRACKING && CONFIG_64BIT'),
    )),
    (4, 14): ("include/linux/page-flags.h read in harveydong/linux-4.14-comment (stored commit 218f86c3; 4.14-era vanilla copy with added comments; no Makefile stored in the index) and in Demon000/kernel_xiaomi_sm6250 (stored commit 54bb4d95; top-level Makefile at stored commit 0141391d: VERSION 4, PATCHLEVEL 14, SUBLEVEL 183; QCOM/Xiaomi Android tree) + include/trace/events/mmflags.h of that Android tree (commit 54bb4d95). The Android tree adds, left out here as not mainline 4.14: PG_workingset at bit 6 (backport of the 4.20 change, which also moves PG_error to bit 8; printed 'workingset') and vendor PG_uidlru (CONFIG_SMART_BOOST) - VERIFIED (mainline order, printed names and config conditions match; table unchanged; the vanilla copy's release is not tied to a Makefile)", (
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
    (5, 4): ('include/linux/page-flags.h read in KINGFIOX/linux-5.4.286 (stored commit 1d9dffaa, clang-formatted vanilla copy; top-level Makefile at stored commit 4504ae22: VERSION 5, PATCHLEVEL 4, SUBLEVEL 286) and in EndCredits/android_kernel_xiaomi_sm8350 (stored commit f42fbc46; Makefile 5.4.226; same order, but young/idle under CONFIG_PAGE_IDLE_FLAG, a vendor backport of the 5.15 change - mainline 5.4 uses CONFIG_IDLE_PAGE_TRACKING); mmflags.h is not stored for either tree - VERIFIED (enum order and config conditions; table unchanged; printed names not read in a 5.4 tree)', (
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
    (6, 6): ("include/linux/page-flags.h read in deepin-community/kernel (stored commit 1bee9c11; top-level Makefile at stored commit 00c03647: VERSION 6, PATCHLEVEL 6, SUBLEVEL 89; its vendor-only PG_pswiotlbsync/PG_pswiotlb (CONFIG_PSWIOTLB) are placed after __NR_PAGEFLAGS and take no low bit) + include/trace/events/mmflags.h read in CodeLinaro-mirror/qsdk_oss_kernel_linux-ipq-6.6 (stored commit 143d6d39; Makefile 6.6.47). 'mm: rearrange page flags' (PG_writeback to bit 1, PG_head to bit 6) is in '[GIT PULL] MM updates for 6.6-rc1' (Andrew Morton, 28 Aug 2023), so 6.6 is the first release with the new order (no separate (6, 7) table is needed for it; no 6.7 tree was read). PG_arch_2/PG_arch_3 need CONFIG_ARCH_USES_PG_ARCH_X, selected only by arm64 MTE, so they do not exist on x86_64 - VERIFIED (order, printed names and config conditions match; table unchanged)", (
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
