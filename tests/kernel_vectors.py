"""Load the vectors that tools/derive_vectors computed with the kernel's own headers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ptetool.kernel import OPTIONS, Model

VECTOR_DIR = Path(__file__).parent / "data" / "kernel_vectors"


@dataclass(frozen=True)
class VectorFile:
    name: str
    provenance: dict[str, Any]
    constants: dict[str, int]
    vectors: list[dict[str, Any]]

    def model(self, runtime: dict[str, Any] | None = None) -> Model:
        major, minor = self.provenance["kernelversion"].split(".")[:2]
        config = self.provenance["config"]
        return Model(
            version=(int(major), int(minor)),
            enabled=frozenset(o for o in OPTIONS if config.get(o) == "y"),
            kconfig=self.name,
            phys_bits=int(self.constants.get("MAX_PHYSMEM_BITS", 46)),
            la57=bool((runtime or {}).get("la57", False)),
        )


def load_all(arch: str = "x86_64") -> list[VectorFile]:
    files = []
    for path in sorted(VECTOR_DIR.glob(f"{arch}-*.json")):
        data = json.loads(path.read_text())
        files.append(VectorFile(path.stem, data["provenance"], data["constants"], data["vectors"]))
    return files


def as_int(text: str | int) -> int:
    return text if isinstance(text, int) else int(text, 16)
