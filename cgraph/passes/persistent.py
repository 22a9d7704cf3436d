"""Shared, never-copied structures for :func:`cgraph.expand`: monomials and chain-rule paths.

A deep graph makes long ones (the derivative of ``sin(sin(...sin(x)))``, ``n`` deep, is a
product of ``n`` cosines built factor by factor, each reached down a path ``n`` steps long).
As tuples, every factor multiplied in copied the product and every dict look-up hashed it
anew, in time and memory quadratic in ``n``. Here each is a node that shares its parts:

- a *monomial* (atoms to nonzero integer powers) of more than ``SHORT`` factors is a treap
  keyed by atom name whose priorities are the name's ``hash()``, so its shape is fixed by
  its factors alone (within a process: str hashes are salted, which may change the shape,
  never the factors); its nodes are hash-consed, so equal monomials are the same object
  (hashed and compared by identity), and multiplying in one factor makes ``O(log n)`` new
  nodes. A shorter one stays a sorted tuple of ``(atom, exponent)``, cheaper at that size;
  which of the two a monomial is depends on its length alone, so equal ones are equal;
- a *path* (operand positions, from an output down) is a node of a trie, hash-consed too,
  with skew-binary jump pointers, so that two paths compare in ``O(log n)`` steps.

Both are built and walked in loops, never by recursion. A :class:`Shared` holds the tables
of one expansion.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any, Union

#: a monomial: a sorted tuple of (atom, exponent) of at most SHORT factors, or a treap
Monomial = Union[tuple, "Mono"]
#: the empty monomial, 1
ONE: tuple = ()
#: the most factors a monomial has as a tuple; past that it is a treap
SHORT = 32


class Mono:
    """A treap node: the factor ``atom^exp`` with the factors before and after it."""

    __slots__ = ("atom", "exp", "left", "right", "prio", "size")

    def __init__(self, atom: str, exp: int, left: Mono | None, right: Mono | None) -> None:
        self.atom, self.exp, self.left, self.right, self.prio = atom, exp, left, right, hash(atom)
        self.size = 1 + (left.size if left else 0) + (right.size if right else 0)

    def __repr__(self) -> str:
        return f"Mono({factors(self)})"


class Path:
    """A node of the trie of paths: ``parent``'s positions, then ``index``. Paths compare
    (``<``, for ``sorted``) as tuples of positions do; they are equal when the same object,
    and hashed by identity, not through their ancestors as a tuple is."""

    __slots__ = ("parent", "index", "depth", "jump")

    def __init__(self, parent: Path | None, index: int) -> None:
        self.parent, self.index = parent, index
        self.depth = parent.depth + 1 if parent is not None else 0
        if parent is None:
            self.jump = self
        else:  # skew-binary jump pointers (Myers 1983): an ancestor O(log depth) jumps away
            j = parent.jump
            self.jump = j.jump if parent.depth - j.depth == j.depth - j.jump.depth else parent

    def __lt__(self, other: Path) -> bool:
        return path_less(self, other)

    def __repr__(self) -> str:
        return f"Path({to_tuple(self)})"


def factors(m: Monomial | None) -> Sequence[tuple[str, int]]:
    """``m``'s ``(atom, exponent)`` factors, in the order of the atoms' names."""
    if type(m) is tuple:
        return m
    out, stack = [], []
    while stack or m is not None:
        while m is not None:
            stack.append(m)
            m = m.left
        m = stack.pop()
        out.append((m.atom, m.exp))
        m = m.right
    return out


def path_less(u: Path, v: Path) -> bool:
    """``u < v`` as tuples of positions compare (a prefix first), in ``O(log depth)`` steps."""
    if u is v:
        return False
    depth = min(u.depth, v.depth)
    a, b = _ancestor(u, depth), _ancestor(v, depth)
    if a is b:  # one is a prefix of the other
        return u.depth < v.depth
    while a.parent is not b.parent:  # (jump pointers of one depth reach one depth)
        a, b = (a.jump, b.jump) if a.jump is not b.jump else (a.parent, b.parent)
    return a.index < b.index


def _ancestor(p: Path, depth: int) -> Path:
    while p.depth > depth:
        p = p.jump if p.jump.depth >= depth else p.parent
    return p


class Shared:
    """The hash-consing tables of one expansion: equal long monomials (paths) are one object."""

    def __init__(self) -> None:
        self._monos: dict[tuple, Mono] = {}
        self._products: dict[tuple, Mono | None] = {}
        self._paths: dict[tuple, Path] = {}
        self.root = Path(None, 0)  # the empty path, ()

    # ------------------------------------------------------------ monomials
    def single(self, atom: str, exp: int) -> Monomial:
        """``atom^exp``."""
        return ((atom, exp),)

    def power(self, m: Monomial, k: int) -> Monomial:
        """``m^k``: every exponent times ``k`` (``k = 0`` gives ``u^0``, which :meth:`merge` takes as 1)."""
        if type(m) is tuple:
            return tuple((u, e * k) for u, e in m)
        done: dict[Mono | None, Mono | None] = {None: None}
        stack = [m]
        while stack:  # children before parents; the shape stays, the atoms being the same
            t = stack[-1]
            if t.left in done and t.right in done:
                stack.pop()
                done[t] = self._make(t.atom, t.exp * k, done[t.left], done[t.right])
            else:
                stack.extend(c for c in (t.left, t.right) if c not in done)
        return done[m]

    def merge(self, m1: Monomial, m2: Monomial) -> Monomial:
        """The product of two monomials: the exponents of a shared atom add, zeros drop out.
        A monomial's exponents are all nonzero, or all zero (``u^0``, from :meth:`power`):
        such a monomial is 1 here. The shorter one's factors go into the longer one."""
        if type(m1) is tuple and type(m2) is tuple:  # the common case: m2's factors go into m1's
            if m1 and m1[0][1] == 0:
                m1 = ONE
            if m2 and m2[0][1] == 0:
                m2 = ONE
            if len(m1) < len(m2):
                m1, m2 = m2, m1
            for a, e in m2:
                i = bisect_left(m1, (a,))  # the first factor of an atom >= a ((a,) < (a, e))
                if i < len(m1) and m1[i][0] == a:
                    e += m1[i][1]
                    m1 = m1[:i] + (((a, e),) if e != 0 else ()) + m1[i + 1 :]
                else:
                    m1 = m1[:i] + ((a, e),) + m1[i:]
            return m1 if len(m1) <= SHORT else self._tree(None, m1)
        m1, m2 = (ONE if _zero(m) else m for m in (m1, m2))
        if not m1 or not m2:  # (a treap is never empty)
            return m1 or m2
        key = (m1, m2)  # (an adjoint's terms are multiplied twice: read, then traced)
        out = self._products.get(key)
        if out is None:
            if _length(m1) < _length(m2):
                m1, m2 = m2, m1
            tree = self._tree(m1, factors(m2))
            out = self._products[key] = tree if tree is not None and tree.size > SHORT else tuple(factors(tree))
        return out

    def _tree(self, t: Mono | None, more: Sequence[tuple[str, int]]) -> Mono | None:
        """Treap ``t`` times the factors ``more``."""
        for a, e in more:
            t = self._insert(t, a, e)
        return t

    def _insert(self, t: Mono | None, atom: str, e: int) -> Mono | None:
        """``t`` times ``atom^e``: the nodes above ``atom``'s place made anew, the rest shared."""
        prio, above = hash(atom), []  # (random-like, so the treap stays shallow; cached by the str)
        while t is not None and t.atom != atom and _over(t, prio, atom):
            above.append(t)
            t = t.left if atom < t.atom else t.right
        if t is not None and t.atom == atom:
            total = t.exp + e
            sub = self._make(atom, total, t.left, t.right) if total != 0 else self._join(t.left, t.right)
        else:  # atom goes here, over the nodes of t split around it
            left, right = self._split(t, atom) if t is not None else (None, None)
            sub = self._make(atom, e, left, right)
        make = self._make
        for n in reversed(above):
            sub = make(n.atom, n.exp, sub, n.right) if atom < n.atom else make(n.atom, n.exp, n.left, sub)
        return sub

    def _split(self, t: Mono | None, atom: str) -> tuple[Mono | None, Mono | None]:
        """The nodes of ``t`` (which has no ``atom``) before ``atom`` and after it."""
        before, after = [], []
        while t is not None:
            (before if t.atom < atom else after).append(t)
            t = t.right if t.atom < atom else t.left
        left = right = None
        for n in reversed(before):
            left = self._make(n.atom, n.exp, n.left, left)
        for n in reversed(after):
            right = self._make(n.atom, n.exp, right, n.right)
        return left, right

    def _join(self, left: Mono | None, right: Mono | None) -> Mono | None:
        """One treap of ``left``'s nodes and then ``right``'s."""
        tops = []
        while left is not None and right is not None:
            if _over(left, right.prio, right.atom):
                tops.append((left, True))
                left = left.right
            else:
                tops.append((right, False))
                right = right.left
        sub = left if left is not None else right
        for n, on_left in reversed(tops):
            sub = self._make(n.atom, n.exp, n.left, sub) if on_left else self._make(n.atom, n.exp, sub, n.right)
        return sub

    def _make(self, atom: str, exp: int, left: Mono | None, right: Mono | None) -> Mono:
        key = (atom, exp, left, right)  # (nodes hash by identity: hash-consed, equal is same)
        node = self._monos.get(key)
        if node is None:
            node = self._monos[key] = Mono(atom, exp, left, right)
        return node

    # ---------------------------------------------------------------- paths
    def extend(self, p: Path, index: int) -> Path:
        """The path ``(*p, index)``."""
        key = (p, index)
        out = self._paths.get(key)
        if out is None:
            out = self._paths[key] = Path(p, index)
        return out

    def path(self, indices: Any) -> Path:
        """The path of a sequence of positions."""
        p = self.root
        for i in indices:
            p = self.extend(p, i)
        return p


def _zero(m: Monomial) -> bool:
    """Whether ``m`` is ``u^0 v^0 ...`` (exponents are all zero or all nonzero)."""
    if type(m) is tuple:
        return bool(m) and m[0][1] == 0
    return m.exp == 0


def _length(m: Monomial) -> int:
    return len(m) if type(m) is tuple else m.size


def _over(t: Mono, prio: int, atom: str) -> bool:
    """Whether node ``t`` sits above a node of ``atom`` (priority ``prio``) in a treap."""
    return t.prio > prio or (t.prio == prio and t.atom > atom)


def to_tuple(p: Path) -> tuple[int, ...]:
    """The positions of path ``p``, from the output down."""
    out = []
    while p.parent is not None:
        out.append(p.index)
        p = p.parent
    return tuple(reversed(out))
