"""Per-scope constraint counts of a circuit, as data and as rich renderables.

A circuit's scopes (`with cs.scope("quote[3]"): ...`) form a tree; each node
counts the constraints emitted directly in it (`own`) and under it (`total`).
`dlpe circuit-info` prints it with `profile_tree` or `profile_table`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from rich.table import Table
from rich.tree import Tree


@dataclass
class ScopeProfile:
    """One scope: its name, constraints emitted directly in it, and its child scopes in first-use order."""

    name: str
    own: int = 0
    children: dict[str, ScopeProfile] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Constraints in this scope and all scopes below it."""
        return self.own + sum(child.total for child in self.children.values())

    @classmethod
    def from_path_counts(cls, counts: dict[str, int], root_name: str = "circuit") -> ScopeProfile:
        """Build the tree from {"a/b/c": constraints emitted directly in scope a/b/c} ("" is the root)."""
        root = cls(root_name)
        for path, n in counts.items():
            node = root
            if path:
                for part in path.split("/"):
                    node = node.children.setdefault(part, cls(part))
            node.own += n
        return root

    def walk(self, prefix: str = "") -> Iterator[tuple[str, ScopeProfile]]:
        """(path, node) for every scope below this one, depth first, in first-use order."""
        for child in self.children.values():
            path = f"{prefix}/{child.name}" if prefix else child.name
            yield path, child
            yield from child.walk(path)

    def find(self, path: str) -> ScopeProfile:
        """The node at a "/"-separated path below this one; KeyError when absent."""
        node = self
        for part in path.split("/") if path else []:
            node = node.children[part]
        return node


def profile_tree(profile: ScopeProfile, max_depth: int | None = None) -> Tree:
    """A rich Tree of the scopes, each line "name  total (own)", down to max_depth levels."""

    def label(node: ScopeProfile) -> str:
        own = f" [dim](own {node.own:,})[/dim]" if node.children and node.own else ""
        return f"{node.name}  [bold]{node.total:,}[/bold]{own}"

    def add(tree: Tree, node: ScopeProfile, depth: int) -> None:
        if max_depth is not None and depth >= max_depth:
            return
        for child in node.children.values():
            add(tree.add(label(child)), child, depth + 1)

    tree = Tree(label(profile))
    add(tree, profile, 0)
    return tree


def profile_table(profile: ScopeProfile, max_depth: int | None = None) -> Table:
    """A rich Table with one row per scope: path, total, own, share of the circuit."""
    table = Table(title=f"constraints of {profile.name}: {profile.total:,}")
    table.add_column("scope")
    table.add_column("constraints", justify="right")
    table.add_column("own", justify="right")
    table.add_column("share", justify="right")
    grand = profile.total or 1
    for path, node in profile.walk():
        if max_depth is not None and path.count("/") >= max_depth:
            continue
        table.add_row(path, f"{node.total:,}", f"{node.own:,}", f"{100 * node.total / grand:.1f}%")
    return table
