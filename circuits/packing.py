"""Public inputs packed into few field elements, unpacked by constraints.

Each public input costs the verifier one ecMul and one ecAdd (about 6,150 gas), so small
values share a field element: element = sum_i (x_i - lo_i)·2^(offset_i), each x_i - lo_i
in [0, 2^(bits_i)) and the offsets laid end to end below 2^253 < r. The decomposition
is unique only because every component is range-checked to its width, so a component is
accepted only with the bits of that range check (a `Fixed` from `bounded`/`fixed_input`,
or a `Boolean`); the unpacking is then one linear constraint per element, and the
components stay private wires.

The same `Layout` packs in plain Python (the solver) and tells the contract where each
field sits (offset and width), so a verifier of the packed inputs can unpack them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bn254.constants import R
from circuits.builder import CircuitError, ConstraintSystem
from circuits.gadgets.bits import from_bits
from circuits.gadgets.fixed import Fixed
from circuits.lc import LC, Boolean

MAX_PACKED_BITS = 253  # 2^253 < r: a packed element never wraps


@dataclass(frozen=True)
class Slot:
    """Where one field sits: element index, bit offset, width, and the integer offset lo subtracted."""

    name: str
    element: int
    offset: int
    bits: int
    lo: int


@dataclass
class Layout:
    """An ordered list of slots, filled element by element (first fit in order)."""

    slots: list[Slot] = field(default_factory=list)
    _fresh: bool = field(default=False, repr=False)

    @property
    def n_elements(self) -> int:
        return self.slots[-1].element + 1 if self.slots else 0

    def start_element(self) -> None:
        """Let the next slot open a new element (keeps a group, e.g. one quote, in one element)."""
        self._fresh = True

    def _place(self, name: str, bits: int, lo: int) -> Slot:
        if bits > MAX_PACKED_BITS:
            raise CircuitError(f"{name}: {bits} bits do not fit in a field element")
        if self.slots:
            last = self.slots[-1]
            element, offset = last.element, last.offset + last.bits
            if offset + bits > MAX_PACKED_BITS or self._fresh:
                element, offset = element + 1, 0
        else:
            element, offset = 0, 0
        self._fresh = False
        slot = Slot(name, element, offset, bits, lo)
        self.slots.append(slot)
        return slot

    def pack(self, values: dict[str, int]) -> list[int]:
        """The packed elements for integer field values (each lo <= v < lo + 2^bits)."""
        out = [0] * self.n_elements
        for s in self.slots:
            v = values[s.name] - s.lo
            if not 0 <= v < 1 << s.bits:
                raise CircuitError(f"{s.name} = {values[s.name]} is outside [{s.lo}, {s.lo} + 2^{s.bits})")
            out[s.element] += v << s.offset
        return out

    def unpack(self, elements: list[int]) -> dict[str, int]:
        """The field values packed into elements (the inverse of pack)."""
        return {s.name: ((elements[s.element] >> s.offset) & ((1 << s.bits) - 1)) + s.lo for s in self.slots}


class PublicPacker:
    """Collects range-checked components while a circuit is built; `finish` publishes the packed elements."""

    def __init__(self) -> None:
        self.layout = Layout()
        self._components: list[tuple[Slot, LC]] = []

    def add(self, name: str, x: Fixed | Boolean) -> None:
        """Publish x through the packing; x must carry the bits of its range check."""
        if isinstance(x, Boolean):
            slot, lc = self.layout._place(name, 1, 0), x
        else:
            if x.bits is None:
                raise CircuitError(f"{name}: only a range-checked value (with its bits) can be packed soundly")
            slot, lc = self.layout._place(name, len(x.bits), x.lo), from_bits(x.bits)
        self._components.append((slot, lc))

    def finish(self, cs: ConstraintSystem) -> list[LC]:
        """Declare one public input per element and constrain it to the sum of its shifted components."""
        elements: list[LC] = []
        with cs.scope("packed"):
            for e in range(self.layout.n_elements):
                parts = [(slot, lc) for slot, lc in self._components if slot.element == e]
                total = LC.constant(0)
                for slot, lc in parts:
                    total = total + lc.scale(1 << slot.offset)
                public = cs.public_input(f"element{e}", total.value % R)
                cs.enforce_equal(total, public, f"unpack{e}")
                elements.append(public)
        return elements
