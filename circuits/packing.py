"""Public inputs packed into few field elements, unpacked by constraints, exactly as a Layout says.

Each public input costs the verifier one ecMul and one ecAdd (about 6,150 gas), so small
values share a field element: element = sum_i (x_i - lo_i)·2^(offset_i), each x_i - lo_i
in [0, 2^(bits_i)) and the offsets laid end to end below 2^253 < r. The decomposition
is unique only because every component is range-checked to its width, so a component is
accepted only with the bits of that range check (a `Fixed` from `bounded`/`fixed_input`,
or a `Boolean`); the unpacking is then one linear constraint per element, and the
components stay private wires.

Where each field sits is not decided here: circuits.layout defines it once, and the
`PublicPacker` refuses (LayoutError, a CircuitError naming the field) a circuit whose
published values are not that layout's fields, in its order, at its widths and lo.

A hashed group's elements are packed the same way (one LC of range-checked components each,
so the element is unique) but stay private: `finish` hashes them into the group's Poseidon
Merkle tree (circuits.merkle) and constrains the root to the whole public input the layout
names for it.
"""

from __future__ import annotations

from typing import Mapping, Union

from bn254.constants import R
from circuits.builder import ConstraintSystem
from circuits.gadgets.bits import from_bits
from circuits.gadgets.fixed import Fixed
from circuits.layout import Layout, LayoutError, Slot, WholeSlot
from circuits.lc import LC, Boolean
from circuits.merkle import merkle_root_gadget

Published = Union[Fixed, Boolean, LC]
"""A packed field's value (a range-checked Fixed, or a Boolean), or a whole field's public-input wire."""


class PublicPacker:
    """Collects a circuit's public values group by group, checked against `layout`; `finish`
    publishes the packed elements."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._pending = layout.instances()
        self._slots: dict[tuple[str, int, str], Slot | WholeSlot] = {
            (s.group, s.index, s.field): s for s in (*layout.whole, *layout.slots, *(s for t in layout.trees
                                                                                     for s in t.slots))}
        self._whole: list[tuple[WholeSlot, LC]] = []
        self._components: list[tuple[Slot, LC]] = []
        self._leaf_components: dict[str, list[tuple[Slot, LC]]] = {t.group: [] for t in layout.trees}

    def add(self, group: str, values: Mapping[str, Published]) -> None:
        """Publish the layout's next group instance: `values` by field name, in the layout's order.

        A packed field takes a Fixed that carries the bits of its range check (width and lo
        must be the field's) or a Boolean (a one-bit field with lo 0); a whole field takes the
        public-input wire the circuit declared for it."""
        if not self._pending:
            raise LayoutError(f"the layout has no group left; the circuit publishes {group}")
        expected, index = self._pending[0]
        where = f"{expected.name}[{index}]" if expected.repeated else expected.name
        if group != expected.name:
            raise LayoutError(f"the layout's next group is {where}; the circuit publishes {group}")
        given = list(values)
        for position, f in enumerate(expected.fields):
            if position >= len(given):
                raise LayoutError(f"{where}.{f.name}: in the layout, not published by the circuit")
            if given[position] != f.name:
                raise LayoutError(f"{where}.{given[position]}: published where the layout has {f.name}")
        if len(given) > len(expected.fields):
            raise LayoutError(f"{where}.{given[len(expected.fields)]}: published, not in the layout")
        for name, x in values.items():
            slot = self._slots[group, index, name]
            if isinstance(slot, WholeSlot):
                self._whole.append((slot, self._whole_wire(f"{where}.{name}", x)))
            elif group in self._leaf_components:
                self._leaf_components[group].append((slot, self._component(f"{where}.{name}", slot, x)))
            else:
                self._components.append((slot, self._component(f"{where}.{name}", slot, x)))
        self._pending.pop(0)

    @staticmethod
    def _whole_wire(label: str, x: Published) -> LC:
        if isinstance(x, Fixed) or len(x.terms) != 1 or x.const or next(iter(x.terms.values())) != 1:
            raise LayoutError(f"{label}: a whole field is published as the public-input wire itself")
        return x

    @staticmethod
    def _component(label: str, slot: Slot, x: Published) -> LC:
        if isinstance(x, Boolean):
            bits, lo, lc = 1, 0, x
        elif isinstance(x, Fixed):
            if x.bits is None:
                raise LayoutError(f"{label}: only a range-checked value (with its bits) can be packed soundly")
            bits, lo, lc = len(x.bits), x.lo, from_bits(x.bits)
        else:
            raise LayoutError(f"{label}: a packed field takes a range-checked Fixed or a Boolean")
        if (bits, lo) != (slot.bits, slot.lo):
            raise LayoutError(f"{label}: published as {bits} bits from lo {lo}; the layout has {slot.bits} bits "
                              f"from lo {slot.lo}")
        return lc

    def finish(self, cs: ConstraintSystem) -> list[LC]:
        """Declare one public input per packed element and constrain it to the sum of its shifted
        components; constrain each hashed group's root wire to the Merkle root of its elements; then
        check that the public inputs are the layout's, whole fields first. Call it after every other
        public input of the circuit is declared."""
        if self._pending:
            group, index = self._pending[0]
            where = f"{group.name}[{index}]" if group.repeated else group.name
            raise LayoutError(f"{where}: in the layout, not published by the circuit")
        totals = [LC.constant(0) for _ in range(self.layout.n_elements)]
        for slot, lc in self._components:
            totals[slot.element] = totals[slot.element] + lc.scale(1 << slot.offset)
        elements: list[LC] = []
        with cs.scope("packed"):
            for e, total in enumerate(totals):
                public = cs.public_input(f"element{e}", total.value % R)
                cs.enforce_equal(total, public, f"unpack{e}")
                elements.append(public)
        whole = {w.name: lc for w, lc in self._whole}
        for tree in self.layout.trees:
            leaves = [LC.constant(0) for _ in range(tree.count)]
            for slot, lc in self._leaf_components[tree.group]:
                leaves[slot.element] = leaves[slot.element] + lc.scale(1 << slot.offset)
            with cs.scope(f"{tree.group}_tree"):
                cs.enforce_equal(merkle_root_gadget(cs, leaves, tree.depth), whole[tree.root], f"{tree.root}")
        position = cs.export_index()  # 0 is the constant one; the public wires follow it
        published = [(w.name, lc) for w, lc in self._whole]
        published += [(f"packed element {e}", lc) for e, lc in enumerate(elements)]
        for i, (name, lc) in enumerate(published):
            (wire,) = lc.terms
            if position[wire] != 1 + i:
                raise LayoutError(f"{name}: public input {i} in the layout, but wire {position[wire]} in the "
                                  f"circuit's export order (where public inputs are wires 1, 2, ...)")
        return elements
