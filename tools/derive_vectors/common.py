"""What derive.py (x86_64, native) and derive_cross.py (arm64/riscv64, cross
gcc + qemu-user) share: the vector item type, the catalogue builders for the
generic (include/linux/...) part of the vectors, the build helpers (Kbuild
config, vec.c, harness template), and the step that turns the harness's run
values into constants and vectors.  Each script keeps its arch-specific
catalogue, disassembly reading and provenance.
"""

import itertools
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------
# Vector catalogue: shared inputs
# ---------------------------------------------------------------------------
PFN = 0x1AD106
MAXOFF_C = "swp_offset(pte_to_swp_entry(swp_entry_to_pte(swp_entry(0, ~0UL))))"
SPECIAL_TYPES = ["SWP_HWPOISON", "SWP_MIGRATION_READ",
                 "SWP_MIGRATION_READ_EXCLUSIVE", "SWP_MIGRATION_WRITE",
                 "SWP_DEVICE_WRITE", "SWP_DEVICE_READ",
                 "SWP_DEVICE_EXCLUSIVE_WRITE", "SWP_DEVICE_EXCLUSIVE_READ",
                 "SWP_DEVICE_EXCLUSIVE", "SWP_PTE_MARKER", "SWP_SWAPIN_ERROR"]
SWP_FLAG_OPS = [("soft_dirty", "pte_swp_mksoft_dirty"),
                ("uffd_wp", "pte_swp_mkuffd_wp"),
                ("exclusive", "pte_swp_mkexclusive")]
MARKER_BITS = [("uffd_wp", "PTE_MARKER_UFFD_WP"),
               ("swapin_error", "PTE_MARKER_SWAPIN_ERROR"),
               ("poisoned", "PTE_MARKER_POISONED"),
               ("guard", "PTE_MARKER_GUARD")]
# Generic headers searched (with the arch's own) for the helpers a tree has.
GENERIC_HDRS = ["include/linux/swapops.h", "include/linux/swap.h",
                "include/linux/pgtable.h", "include/linux/mm.h",
                "include/linux/huge_mm.h", "include/asm-generic/pgtable_uffd.h"]
# pfn_pte(P, prot) is the base of every present-PTE vector.
PRESENT_PFN = 0x123456
MIGRATION_ENTRIES = [("read", "make_readable_migration_entry"),
                     ("write", "make_writable_migration_entry"),
                     ("read_exclusive", "make_readable_exclusive_migration_entry")]
# (vector kind, [(which, helper)]); all guarded by CONFIG_DEVICE_PRIVATE
DEVICE_ENTRIES = [
    ("device_private_pte", [("read", "make_readable_device_private_entry"),
                            ("write", "make_writable_device_private_entry")]),
    ("device_exclusive_pte", [("read", "make_readable_device_exclusive_entry"),
                              ("write", "make_writable_device_exclusive_entry"),
                              ("exclusive", "make_device_exclusive_entry")]),
]


def h64(v):
    return "0x%016x" % (v & 0xFFFFFFFFFFFFFFFF)


class Item:
    """One compiled function: a constant or a vector."""

    def __init__(self, kind, key, expr, guard=None, inputs=None,
                 result="u64", post=None, c_expr=None):
        self.kind = kind          # "const" or a vector kind
        self.key = key            # constant name or vector id
        self.expr = expr          # expression shown in JSON
        self.c_expr = c_expr or expr
        self.guard = guard        # preprocessor condition or None
        self.inputs = inputs or {}
        self.result = result      # "u64", "bool", "int"
        self.post = post          # callback(item, consts) -> fill inputs
        self.fn = None
        self.fn2 = None           # second function (swp_decode offset)
        self.c_expr2 = None


def tree_has(tree, ident, files):
    pat = re.compile(r"\b%s\b" % re.escape(ident))
    for f in files:
        p = os.path.join(tree, f)
        if os.path.exists(p):
            with open(p, errors="replace") as fh:
                if pat.search(fh.read()):
                    return True
    return False


def ifdef(name):
    return "defined(%s)" % name


def type_guard(tname):
    if tname and tname.startswith("SWP_"):
        return ifdef(tname)
    return None


# ---------------------------------------------------------------------------
# Vector catalogue: shared builders (each returns a list of Items)
# ---------------------------------------------------------------------------
def const_items(names, pgprots):
    """The named constants (first occurrence of each), pgprot_val() of the
    named protections, and the swap offset the generic code keeps."""
    items = [Item("const", n, n, guard=ifdef(n)) for n in dict.fromkeys(names)]
    for n in pgprots:
        items.append(Item("const", "pgprot_val(%s)" % n,
                          "pgprot_val(%s)" % n, guard=ifdef(n)))
    items.append(Item("const", "generic_max_swap_offset", MAXOFF_C))
    return items


def swp_post(tname, texpr, off=None):
    """post(): the type number (from the constants for a named type) into
    inputs and the id.  With off (late offsets), also the offset: "max" is
    generic_max_swap_offset, shown in the expression for MAXOFF."""
    def post(it, consts):
        if tname is None:
            t = int(texpr)
        elif tname == "MAX_SWAPFILES-1":
            t = consts["MAX_SWAPFILES"] - 1
        else:
            t = consts[tname]
        it.inputs["type"] = t
        if tname:
            it.inputs["type_name"] = tname
        if off is None:
            it.key = it.key.replace("{t}", "t%d" % t)
            return
        o = consts["generic_max_swap_offset"] if off == "max" else off
        it.inputs["offset"] = o
        if off == "max":
            it.inputs["offset_name"] = "generic_max_swap_offset"
            it.expr = it.expr.replace("MAXOFF", "%#x" % o)
        it.key = it.key.replace("{t}", "t%d" % t).replace("{o}", "o%#x" % o)
    return post


class _Offsets:
    """How a swap offset is written.  Early (x86_64): the number is in the
    id and inputs from the start.  Late (cross): the id holds {o} and post()
    fills it in, "max" stands for generic_max_swap_offset, the C literal is
    UL-suffixed."""

    def __init__(self, late):
        self.late = late

    def key(self, off):
        return "{o}" if self.late else "o%#x" % off

    def expr(self, off):
        return "MAXOFF" if off == "max" else "%#x" % off

    def c(self, off):
        if not self.late:
            return "%#x" % off
        return "(%s)" % MAXOFF_C if off == "max" else "%#xUL" % off

    def inputs(self, off):
        return {} if self.late else {"offset": off}

    def post(self, tname, texpr, off):
        return swp_post(tname, texpr, off if self.late else None)


def swp_pte_items(types, offsets, late_offsets=False):
    """pte_val(swp_entry_to_pte(swp_entry(type, offset))) for every
    (type expression, type name) and offset."""
    o = _Offsets(late_offsets)
    items = []
    for texpr, tname in types:
        for off in offsets:
            e = "pte_val(swp_entry_to_pte(swp_entry(%s, %s)))"
            items.append(Item(
                "swp_pte", "swp_pte/{t}/%s" % o.key(off),
                e % (texpr, o.expr(off)), c_expr=e % (texpr, o.c(off)),
                guard=type_guard(tname), inputs=o.inputs(off),
                post=o.post(tname, texpr, off)))
    return items


def swp_flag_items(has, bases, late_offsets=False):
    """Swap PTEs with every combination of the swap flag helpers the tree
    has, for every (type expression, type name, offset) base."""
    o = _Offsets(late_offsets)
    flag_ops = [(n, f) for n, f in SWP_FLAG_OPS if has(f)]
    items = []
    for texpr, tname, off in bases:
        for r in range(1, len(flag_ops) + 1):
            for combo in itertools.combinations(flag_ops, r):
                e = "swp_entry_to_pte(swp_entry(%s, %s))"
                ce = e % (texpr, o.c(off))
                e = e % (texpr, o.expr(off))
                for _, f in combo:
                    e = "%s(%s)" % (f, e)
                    ce = "%s(%s)" % (f, ce)
                names = [n for n, _ in combo]
                items.append(Item(
                    "swp_pte_flags",
                    "swp_pte_flags/{t}/%s/%s" % (o.key(off), "+".join(names)),
                    "pte_val(%s)" % e, c_expr="pte_val(%s)" % ce,
                    guard=type_guard(tname),
                    inputs={**o.inputs(off), "flags": names},
                    post=o.post(tname, texpr, off)))
    return items


def swp_decode_items(ptes):
    """swp_type/swp_offset of each raw PTE value (first occurrence)."""
    items = []
    for v in dict.fromkeys(ptes):
        it = Item("swp_decode", "swp_decode/%s" % h64(v),
                  "swp_type/swp_offset(pte_to_swp_entry(__pte(%s)))" % h64(v),
                  inputs={"pte": h64(v)},
                  c_expr="swp_type(pte_to_swp_entry(__pte(%sULL)))" % h64(v))
        it.c_expr2 = "swp_offset(pte_to_swp_entry(__pte(%sULL)))" % h64(v)
        items.append(it)
    return items


def marker_items(has):
    """PTE markers: every combination of the marker bits the tree has."""
    items = []
    if not has("make_pte_marker"):
        return items
    bits = [(n, m) for n, m in MARKER_BITS if has(m)]
    for r in range(1, len(bits) + 1):
        for combo in itertools.combinations(bits, r):
            names = [n for n, _ in combo]
            macros = [m for _, m in combo]
            e = "pte_val(make_pte_marker(%s))" % " | ".join(macros)
            # SWP_PTE_MARKER exists only when markers are compiled in
            # (always from 6.2, with CONFIG_PTE_MARKER before).
            guard = " && ".join(ifdef(m) for m in [*macros, "SWP_PTE_MARKER"])

            def mpost(it, consts, macros=macros):
                it.inputs["mask"] = sum(consts[m] for m in macros)
            items.append(Item("marker_pte", "marker_pte/%s" % "+".join(names),
                              e, guard=guard, inputs={"bits": names},
                              post=mpost))
    return items


def pfn_entry_items(has):
    """Migration (with young/dirty where the tree has them), device-private,
    device-exclusive and hwpoison entries of PFN, as PTEs."""
    items = []
    for which, fn in MIGRATION_ENTRIES:
        if not has(fn):
            continue
        for young, dirty in [(False, False), (True, False), (False, True),
                             (True, True)]:
            if (young and not has("make_migration_entry_young")) or \
               (dirty and not has("make_migration_entry_dirty")):
                continue
            e = "%s(%#x)" % (fn, PFN)
            if young:
                e = "make_migration_entry_young(%s)" % e
            if dirty:
                e = "make_migration_entry_dirty(%s)" % e
            e = "pte_val(swp_entry_to_pte(%s))" % e
            items.append(Item(
                "migration_pte",
                "migration_pte/%s/pfn%#x/y%dd%d" % (which, PFN, young, dirty),
                e, guard="defined(CONFIG_MIGRATION)",
                inputs={"pfn": PFN, "which": which, "young": young,
                        "dirty": dirty}))
    for kind, entries in DEVICE_ENTRIES:
        for which, fn in entries:
            if has(fn):
                items.append(Item(
                    kind, "%s/%s/pfn%#x" % (kind, which, PFN),
                    "pte_val(swp_entry_to_pte(%s(%#x)))" % (fn, PFN),
                    guard="defined(CONFIG_DEVICE_PRIVATE)",
                    inputs={"pfn": PFN, "which": which}))
    items.append(Item("hwpoison_pte", "hwpoison_pte/pfn%#x" % PFN,
                      "pte_val(swp_entry_to_pte(swp_entry(SWP_HWPOISON, %#x)))"
                      % PFN, guard=ifdef("SWP_HWPOISON"), inputs={"pfn": PFN}))
    return items


def mkwrite_name(has):
    return "pte_mkwrite_novma" if has("pte_mkwrite_novma") else "pte_mkwrite"


def dirty_write_sequences(mkwrite):
    """The dirty / write-protect / make-writable op orders both arches'
    present-PTE lists test (present_items() form)."""
    return [
        ("PAGE_SHARED", ["pte_mkyoung", "pte_mkdirty"]),
        ("PAGE_SHARED", ["pte_mkdirty", "pte_wrprotect"]),
        ("PAGE_SHARED", ["pte_wrprotect", "pte_mkdirty"]),
        ("PAGE_SHARED", ["pte_wrprotect", "pte_mkdirty", mkwrite]),
        ("PAGE_SHARED", ["pte_mkdirty", "pte_mkclean"]),
        ("PAGE_READONLY", ["pte_mkdirty"]),
    ]


def present_items(has, present, guard_of):
    """pfn_pte(PRESENT_PFN, prot) with the ops applied in order ("f" or
    "f(ARG)" for f(pte, ARG)), skipping those whose helpers the tree lacks;
    then PROT_NONE PTEs of a few PFNs.  guard_of(prot, ops) -> #if text."""
    items = []
    for prot, ops in present:
        if any(not has(re.sub(r"\(.*", "", o)) for o in ops):
            continue
        e = "pfn_pte(%#x, %s)" % (PRESENT_PFN, prot)
        for o in ops:
            m = re.match(r"(\w+)\((\w+)\)", o)
            e = "%s(%s, %s)" % (m.group(1), e, m.group(2)) if m else \
                "%s(%s)" % (o, e)
        e = "pte_val(%s)" % e
        key = "present_pte/%s/%s" % (prot, "+".join(ops) or "-")
        items.append(Item("present_pte", key, e, guard=guard_of(prot, ops),
                          inputs={"pfn": PRESENT_PFN, "prot": prot, "ops": ops}))
    for pfn in [PRESENT_PFN, PFN, 0, 0xFFFFFFFFF]:
        items.append(Item("protnone_pte", "protnone_pte/pfn%#x" % pfn,
                          "pte_val(pfn_pte(%#x, PAGE_NONE))" % pfn,
                          inputs={"pfn": pfn}))
    return items


def pte_pfn_items(ptes):
    return [Item("pte_pfn", "pte_pfn/%s" % h64(v), "pte_pfn(__pte(%s))" % h64(v),
                 inputs={"pte": h64(v)}, c_expr="pte_pfn(__pte(%sULL))" % h64(v))
            for v in ptes]


def pmd_guard(e):
    """#if condition for a PMD expression (swap/migration PMDs need THP
    migration)."""
    if "migration" in e:
        return "defined(CONFIG_MIGRATION) && defined(CONFIG_ARCH_ENABLE_THP_MIGRATION)"
    if "swp_entry_to_pmd" in e:
        return "defined(CONFIG_ARCH_ENABLE_THP_MIGRATION)"
    return None


def pmd_items(e, guard, inputs, pfn_inputs):
    """pmd_val() and pmd_pfn() of a PMD expression."""
    return [Item("pmd", "pmd/%s" % e.replace(" ", ""), "pmd_val(%s)" % e,
                 guard=guard, inputs=inputs),
            Item("pmd", "pmd_pfn/%s" % e.replace(" ", ""), "pmd_pfn(%s)" % e,
                 guard=guard, inputs=dict(pfn_inputs, result="pmd_pfn"))]


def raw_predicate(pred, kind_key, v, guard=None):
    """!!pred(__pte(v)) / !!pred(__pmd(v)) of a raw value."""
    e = "!!%s(__%s(%s))" % (pred, kind_key, h64(v))
    return Item("predicate", "predicate/%s/%s" % (pred, h64(v)), e,
                inputs={"pred": pred, kind_key: h64(v)}, result="bool",
                guard=guard, c_expr=e.replace(h64(v), h64(v) + "ULL"))


# ---------------------------------------------------------------------------
# Build steps
# ---------------------------------------------------------------------------
def run(cmd, cwd=None, log=None, check=True, capture=False):
    print("+ " + " ".join(cmd), file=sys.stderr)
    r = subprocess.run(cmd, cwd=cwd, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if log:
        with open(log, "a") as fh:
            fh.write("$ %s\n%s\n" % (" ".join(cmd), r.stdout))
    if check and r.returncode != 0:
        sys.stderr.write(r.stdout[-6000:])
        raise SystemExit("command failed: %s" % " ".join(cmd))
    return r.stdout


def read_config(path):
    vals = {}
    with open(path) as fh:
        for line in fh:
            m = re.match(r"^CONFIG_(\w+)=(.*)$", line.strip())
            if m:
                vals[m.group(1)] = m.group(2).strip('"')
    return vals


def set_options(tree, build, options, log):
    """scripts/config on BUILD/.config: "y" enables, anything else disables."""
    args = ["scripts/config", "--file", os.path.join(build, ".config")]
    for opt, val in options.items():
        args += ["-e" if val == "y" else "-d", opt]
    run(args, cwd=tree, log=log)


def add_common_args(ap):
    """The options both scripts take besides --config (and --arch)."""
    ap.add_argument("--tree", required=True, help="unpacked kernel source tree")
    ap.add_argument("--work", default="/tmp/vectors-work")
    ap.add_argument("--out", default=os.path.join(
        HERE, "..", "..", "tests", "data", "kernel_vectors"))
    ap.add_argument("--tree-label", default=None)


def work_dirs(work, tag):
    """(build, moddir, log) under work for tag; moddir is emptied."""
    build = os.path.join(work, "build-" + tag)
    moddir = os.path.join(work, "mod-" + tag)
    log = os.path.join(work, "log-" + tag + ".txt")
    if os.path.exists(moddir):
        shutil.rmtree(moddir)
    os.makedirs(moddir)
    return build, moddir, log


def write_vec_c(items, moddir, template, no_compile=()):
    """vec.c (template with one noinline function per item expression, named
    dv_NNNN and recorded in it.fn / it.fn2) and its Kbuild; functions named in
    no_compile are compiled out.  Returns the number of functions."""
    fns = []
    n = 0
    for it in items:
        exprs = [("fn", it.c_expr)] + ([("fn2", it.c_expr2)] if it.c_expr2 else [])
        for attr, ce in exprs:
            name = "dv_%04d" % n
            n += 1
            setattr(it, attr, name)
            body = ["u64 %s(void);" % name,
                    "noinline u64 %s(void)" % name,
                    "{",
                    "\treturn (u64)(%s);" % ce,
                    "}"]
            if it.guard:
                body = ["#if %s" % it.guard, *body, "#endif"]
            if name in no_compile:
                body = ["#if 0 /* does not compile in this tree */", *body,
                        "#endif"]
            fns.append("/* %s */\n%s\n" % (it.key.replace("*/", "* /"),
                                           "\n".join(body)))
    with open(os.path.join(HERE, template)) as fh:
        tpl = fh.read()
    with open(os.path.join(moddir, "vec.c"), "w") as fh:
        fh.write(tpl.replace("/* @@VECTOR_FUNCTIONS@@ */", "\n".join(fns)))
    with open(os.path.join(moddir, "Kbuild"), "w") as fh:
        fh.write("obj-m := vec.o\n")
    return n


def write_harness_c(template, path, items, skip, markers):
    """The harness source: template with EXTERNS and TABLE (every item
    function not in skip) and the given other markers (name -> text)."""
    with open(os.path.join(HERE, template)) as fh:
        src = fh.read()
    ext, tab = [], []
    for it in items:
        for fn in (it.fn, it.fn2):
            if fn and fn not in skip:
                ext.append("extern u64 %s(void) __attribute__((weak));" % fn)
                tab.append('\t{ "%s", %s },' % (fn, fn))
    markers = {**markers, "EXTERNS": "\n".join(ext), "TABLE": "\n".join(tab)}
    for name in ["RUNTIME_SYMBOLS", "EXTERNS", "TABLE", "PROFILES",
                 "APPLY_PROFILE"]:
        if name in markers:
            src = src.replace("/* @@%s@@ */" % name, markers[name])
    with open(path, "w") as fh:
        fh.write(src)


def parse_run(lines):
    """function -> {profile: value} from the harness's
    "<profile> <function> 0x<hex>" lines (other lines are ignored)."""
    results = {}
    for ln in lines:
        parts = ln.split()
        if len(parts) == 3 and not ln.startswith("S "):
            results.setdefault(parts[1], {})[parts[0]] = int(parts[2], 16)
    return results


def new_stats():
    return {"functions_folded_to_constants": 0, "folded_immediates_checked": 0,
            "functions_reading_runtime_state": 0}


def check_folded(fn, vals, immediate, stats):
    """A function with no runtime dependency: equal in every profile, and
    equal to the disassembly's immediate where immediate() finds one."""
    stats["functions_folded_to_constants"] += 1
    if len(set(vals.values())) != 1:
        raise SystemExit("%s: no runtime deps but values differ" % fn)
    imm = immediate()
    if imm is not None:
        if imm != vals["default"]:
            raise SystemExit("%s: immediate %#x != run %#x"
                             % (fn, imm, vals["default"]))
        stats["folded_immediates_checked"] += 1


def collect(present, value_of, profiles, runtime_inputs):
    """Constants and vectors from the run values.

    present: the items that ran; value_of(fn) -> (default value,
    {profile: value}, runtime deps); profiles: [(name, values)];
    runtime_inputs(name, values) -> the vector's inputs["runtime"].
    Returns (consts, runtime-dependent consts, vectors, runtime deps by id).
    """
    consts, rt_consts, vectors, runtime_deps = {}, {}, [], {}
    # constants first (vectors' post() needs them)
    for it in present:
        if it.kind != "const":
            continue
        v, vals, deps = value_of(it.fn)
        consts[it.key] = v
        if deps:
            rt_consts[it.key] = {"depends_on": sorted(deps),
                                 **{p: vals[p] for p, _ in profiles}}
    for it in present:
        if it.kind == "const":
            continue
        if it.post:
            it.post(it, consts)
        v, vals, deps = value_of(it.fn)
        if it.kind == "swp_decode":
            _v2, vals2, deps2 = value_of(it.fn2)
            deps |= deps2
            vals = {p: {"type": vals[p], "offset": vals2[p]} for p in vals}
            fmt = lambda x: x  # noqa: E731
        elif it.result == "bool":
            fmt = lambda x: int(x)  # noqa: E731
        elif it.result == "int":
            fmt = lambda x: x  # noqa: E731
        else:
            fmt = h64
        inputs = dict(it.inputs)
        base = {"id": it.key, "kind": it.kind, "expr": it.expr}
        if deps:
            runtime_deps[it.key] = sorted(deps)
            for pname, pvals in profiles:
                if pname != "default" and vals[pname] == vals["default"]:
                    continue
                vid = it.key if pname == "default" else it.key + "@" + pname
                vectors.append(dict(base, id=vid, value=fmt(vals[pname]),
                                    inputs=dict(inputs, runtime=runtime_inputs(
                                        pname, pvals))))
        else:
            vectors.append(dict(base, value=fmt(vals["default"]), inputs=inputs))
    return consts, rt_consts, vectors, runtime_deps


def dump_json(doc):
    """Stable layout: provenance/constants indented, one vector per line."""
    parts = ['{"provenance": ' + json.dumps(doc["provenance"], indent=1),
             ' "constants": ' + json.dumps(doc["constants"], indent=1),
             ' "vectors": [\n' + ",\n".join(
                 "  " + json.dumps(v) for v in doc["vectors"]) + "\n ]"]
    return ",\n".join(parts) + "}\n"


def debian_label(tree, kver):
    base = os.path.basename(os.path.normpath(tree))
    m = re.match(r"linux-source-(\d+\.\d+)$", base)
    if not m:
        return "%s %s" % (base, kver), None
    pkg = "linux-source-" + m.group(1)
    try:
        pv = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                            text=True, capture_output=True).stdout.strip()
    except OSError:
        pv = ""
    return "%s (Debian) %s" % (pkg, kver), ("%s %s" % (pkg, pv) if pv else None)


def write_doc(out, name, prov, pkg, consts, vectors):
    """OUT/name: the JSON document (provenance gets debian_package last)."""
    if pkg:
        prov["debian_package"] = pkg
    doc = {"provenance": prov, "constants": consts, "vectors": vectors}
    os.makedirs(out, exist_ok=True)
    dest = os.path.join(out, name)
    with open(dest, "w") as fh:
        fh.write(dump_json(doc))
    return dest
