"""Build a raw entry from a class and named fields: the inverse of decode."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

from ptetool.arch import x86_64
from ptetool.decoder import CLASSES, X86_UFFD_WP_SPECIAL, arch_module, decode, layout_for
from ptetool.errors import UsageError
from ptetool.kernel import Model
from ptetool.layout import Layout
from ptetool.swaptypes import CLASS_OF_TYPE, swap_types

SWAP_LIKE = frozenset(CLASS_OF_TYPE.values()) | {"uffd_wp_special"}


@dataclass(frozen=True)
class Encoded:
    value: int
    warnings: tuple[str, ...]
    layout: Layout  # the class's layout the value was built in


def _form(cls: str, level: str, fields: dict[str, int], table_only: bool, mod: ModuleType) -> str:
    if cls == "invalid":
        return "bad_table"
    if cls == "pte_file":
        return "file"
    if cls == "present" and table_only:
        return "table"
    if cls == "present":
        return "table" if level != "pte" and mod.is_table(fields) else "present"
    if cls in ("none", "protnone"):
        return cls
    return "swap"


def _swap_type(cls: str, fields: dict[str, int], model: Model) -> tuple[int, str]:
    names = swap_types(model).names
    if "swp_type" in fields:
        swp_type = fields["swp_type"]
        if not 0 <= swp_type < len(names):
            raise UsageError(f"swp_type={swp_type} does not fit in 5 bits")
        return swp_type, names[swp_type]
    for swp_type, name in enumerate(names):
        if CLASS_OF_TYPE[name] == cls or (cls == "uffd_wp_special" and name == "swapfile"):
            return swp_type, name
    raise UsageError(
        f"kernel {model.label} with config {model.kconfig} has no {cls} swap type; "
        "choose another --kernel or --kconfig"
    )


def encode(cls: str, fields: dict[str, int], arch: str = "x86_64", level: str = "pte",
           model: Model | None = None) -> Encoded:
    """The raw value with ``fields`` set over the class's defaults; warns if it decodes otherwise."""
    model = model or Model()
    mod = arch_module(arch)
    table_only = level in getattr(mod, "TABLE_ONLY_LEVELS", ())
    if cls not in CLASSES or (cls == "invalid" and not table_only):
        raise UsageError(f"unknown class {cls!r}: choose from {', '.join(c for c in CLASSES if c != 'invalid')}")
    if level not in mod.LEVELS:
        raise UsageError(f"--level {level!r}: choose from {', '.join(mod.LEVELS)}")
    if cls == "pte_file" and not (arch == "x86_64" and level == "pte" and x86_64.has_file_ptes(model)):
        raise UsageError("nonlinear file PTEs exist only at the x86_64 pte level of kernels before 4.0")
    if table_only and cls not in ("none", "present", "invalid"):
        raise UsageError(f"a {level} entry is empty, a table pointer (present) or invalid: it is never {cls}")
    if cls == "uffd_wp_special" and not (arch == "x86_64" and x86_64.has_uffd_wp(model)):
        # asm-generic/pgtable_uffd.h (the seed, v1-v5): without uffd-wp bits the special PTE is __pte(0)
        if fields:
            raise UsageError("the special PTE without uffd-wp bits is __pte(0): it has no fields to set")
        where = (f"kernel {model.label} with config {model.kconfig} has no uffd-wp bits" if arch == "x86_64"
                 else "the generic arch has no uffd-wp bits" if arch == "generic"
                 else f"the seed gave {arch} no special uffd-wp PTE of its own")
        none = encode("none", {}, arch, level, model)
        return Encoded(0, (f"{where}: there the seed's special PTE is __pte(0), which reads as none",), none.layout)
    form = _form(cls, level, fields, table_only, mod)
    if arch == "generic" and form not in ("none", "swap"):
        raise UsageError(f"the generic arch has no {cls} entries: it reads values as swp_entry_t")
    type_name = ""
    defaults: dict[str, int] = {}
    if form == "swap":
        swp_type, type_name = _swap_type(cls, fields, model)
        defaults["swp_type"] = swp_type
    lay = layout_for(cls, form, arch, level, model, type_name)
    if cls == "uffd_wp_special":
        defaults = {**lay.decode(X86_UFFD_WP_SPECIAL), **defaults}
    elif form in ("present", "table", "protnone", "file"):
        defaults.update(mod.form_defaults(form, level))  # the bits that make the class: present, PSE, ...
    try:
        # Every owner starts at 0 (an inverted field stores 0 as all ones), then the class's defaults.
        base = lay.encode({**{f.name: 0 for f in lay.owners}, **{k: v for k, v in defaults.items() if k in lay}})
        value = lay.encode(fields, base)
    except KeyError as exc:
        names = ", ".join(f.name for f in lay.fields)
        raise UsageError(f"{lay.name} has no field {exc.args[0]!r}; its fields: {names}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    got = decode(value, arch, level, model)
    warnings: tuple[str, ...] = ()
    if got.cls != cls:
        warnings = (f"{value:#018x} decodes as {got.cls}, not {cls}",)
    return Encoded(value, warnings, lay)


def resolve_type_names(fields: Mapping[str, int | str], model: Model) -> dict[str, int]:
    """Fields as numbers: a swp_type given by name (migration_write, pte_marker) becomes its number."""
    resolved: dict[str, int] = {}
    types = swap_types(model)
    for name, value in fields.items():
        if isinstance(value, str):
            number = types.number_of(value.lower().removeprefix("swp_"))
            if number is None:
                raise UsageError(f"{name}={value}: kernel {model.label} has no such type; choose from "
                                 + ", ".join(sorted(set(types.names))))
            value = number
        resolved[name] = value
    return resolved


def encode_json_record(text: str, default_model: Callable[[], Model],
                       models: dict[str, Model] | None = None) -> int | None:
    """The value a decode (or pagemap) NDJSON record describes, rebuilt from its class, arch, level,
    fields and model alone (never its "value"); ``default_model`` serves a record without one.

    ``models`` remembers the full models seen by key, for bulk records that carry only the key
    (a pagemap stream states its model in full in its first record). A line that is a model
    alone (`ptetool model`) is remembered, and gives None."""
    import json

    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"not JSON: {exc.msg}") from None
    if not isinstance(record, dict):
        raise UsageError("not a JSON object")
    if "fields" not in record and "options" in record:  # `ptetool model`: a model to remember
        _record_model(record, default_model, {} if models is None else models)
        return None
    try:
        fields = {str(k): int(v) for k, v in record["fields"].items()}
        cls, arch, level = record["class"], record["arch"], record["level"]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"not a decode record (needs class, arch, level, fields): {exc}") from None
    model = _record_model(record.get("model"), default_model, {} if models is None else models)
    if record.get("layout") == "pagemap":
        from ptetool.pagemap import encode_fields

        return encode_fields(fields, model)
    return encode(cls, fields, arch, level, model).value


def _record_model(data: object, default_model: Callable[[], Model], models: dict[str, Model]) -> Model:
    if data is None:
        return default_model()
    if not isinstance(data, dict):
        raise UsageError("the record's \"model\" is not an object")
    key = data.get("key")
    if "options" not in data:  # the short form: the model named by its key
        if key in models:
            return models[key]
        raise UsageError(f"model {key!r} is named but not stated: its full form is in the first record of the "
                         "stream (pipe the whole stream, or put `ptetool model` output first)")
    model = Model.from_json(data)
    if isinstance(key, str):
        models[key] = model
    return model
