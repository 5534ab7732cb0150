"""encode(decode(v)) == v and decode never raises, for every arch, level, era and config."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptetool.decoder import ARCHES, LEVELS, decode
from ptetool.encoder import encode
from ptetool.kernel import Model
from ptetool.record import to_record
from tests.models import ERA_VERSIONS, OPTION_SETS, model

U64 = st.integers(min_value=0, max_value=(1 << 64) - 1)
# Raw values are mostly noise; mix in the shapes the kernel writes so every class is reached.
SHAPED = st.one_of(
    U64,
    st.builds(lambda t, off: (t << 59) | ((~off & ((1 << 50) - 1)) << 9), st.integers(0, 31),
              st.integers(0, (1 << 50) - 1)),
    st.builds(lambda t, off: (t << 58) | off, st.integers(0, 31), st.integers(0, (1 << 58) - 1)),
    st.builds(lambda v: v | 1, U64),
    st.builds(lambda v: (v | 0x100) & ~1, U64),
    st.sampled_from([0, 0x4, 0x20, 0x40, 0x60, 0x80, 0x100, 0xFFFF_FFFF_FFFF_FC00, 0xFFFF_FFFF_FFFF_F600]),
)
# l1tf: the version's own layout (None), or a release that carried the L1TF backport (or not).
MODELS = st.builds(model, st.sampled_from(ERA_VERSIONS), st.sampled_from(OPTION_SETS), st.booleans(),
                   st.sampled_from([None, True, False]))


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=SHAPED, arch=st.sampled_from(sorted(ARCHES)), level=st.sampled_from(LEVELS), m=MODELS)
def test_encode_decode_roundtrip(value: int, arch: str, level: str, m: Model) -> None:
    d = decode(value, arch, level, m)
    assert encode(d.cls, d.field_values, arch, level, m).value == value


@settings(max_examples=500, deadline=None)
@given(value=SHAPED, arch=st.sampled_from(sorted(ARCHES)), level=st.sampled_from(LEVELS), m=MODELS)
def test_roundtrip_through_the_json_record(value: int, arch: str, level: str, m: Model) -> None:
    """What `decode --format ndjson | encode -` does: only class, arch, level, fields and model travel."""
    record = json.loads(json.dumps(to_record(decode(value, arch, level, m))))
    rebuilt = Model.from_json(record["model"])
    assert encode(record["class"], record["fields"], record["arch"], record["level"], rebuilt).value == value
    assert record["value"] == f"0x{value:016x}"
