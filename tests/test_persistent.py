"""persistent: monomials multiply as sorted tuples of (atom, exponent) do, equal ones are one
object whatever the order they were built in; paths compare as tuples of positions; both
stay shallow and are walked without recursion."""

from __future__ import annotations

import random
import sys
from bisect import bisect_left

from cgraph.passes.persistent import ONE, SHORT, Shared, factors, path_less, to_tuple


def merged(m1: tuple, m2: tuple) -> tuple:
    """The product of two sorted tuples of (atom, exponent), as expand multiplied them before."""
    m1, m2 = (() if m and m[0][1] == 0 else m for m in (m1, m2))
    for a, e in m2:
        i = bisect_left(m1, (a,))
        if i < len(m1) and m1[i][0] == a:
            e += m1[i][1]
            m1 = m1[:i] + (((a, e),) if e != 0 else ()) + m1[i + 1 :]
        else:
            m1 = m1[:i] + ((a, e),) + m1[i:]
    return m1


def height(m) -> int:
    most, stack = 0, [(m, 1)]
    while stack:
        t, d = stack.pop()
        if t is not None:
            most = max(most, d)
            stack += [(t.left, d + 1), (t.right, d + 1)]
    return most


def test_monomials_multiply_as_sorted_tuples_and_equal_ones_are_one_object():
    rng, shared, seen = random.Random(0), Shared(), {}  # noqa: S311 (test data, no secret)

    def build(t: tuple):
        m = ONE
        for a, e in rng.sample(t, len(t)):  # in any order
            m = shared.merge(m, shared.single(a, e))
        return m

    def drawn(atoms: list[str], most: int, like: tuple = ()):
        chosen = rng.sample(atoms, rng.randrange(min(most, len(atoms)) + 1))
        t = {a: rng.choice([-2, -1, 1, 2, 3]) for a in chosen}
        if like and like[0][1] != 0 and rng.random() < 0.5:  # cancel part of the other one: a long product gets short
            t.update((a, -e) for a, e in like if rng.random() < 0.8)
        t = tuple(sorted(t.items()))
        if t and rng.random() < 0.1:  # u^0*v^0, as expand's power of 0 makes it: 1 in a product
            return tuple((a, 0) for a, _ in t), shared.power(build(t), 0)
        return t, build(t)

    for _ in range(3000):
        atoms = [f"t{i}" for i in range(rng.choice([3, 10, 40, 90]))]
        most = rng.choice([5, SHORT + 10, 80])
        t1, m1 = drawn(atoms, most)
        t2, m2 = drawn(atoms, most, t1)
        assert tuple(factors(m1)) == t1
        m, want = shared.merge(m1, m2), merged(t1, t2)
        assert tuple(factors(m)) == want
        assert isinstance(m, tuple) == (len(want) <= SHORT)  # short: a tuple, long: a treap
        assert seen.setdefault(want, m) == m and (isinstance(m, tuple) or seen[want] is m)  # equal: the same object
        k = rng.choice([-1, 0, 2, 3])
        assert tuple(factors(shared.power(m, k))) == tuple((a, e * k) for a, e in want)
    assert shared.merge(ONE, ONE) == ONE and shared.power(ONE, 3) == ONE


def test_a_long_product_is_shallow_shared_and_built_without_recursion():
    shared = Shared()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100)
    try:
        products, m = [], ONE
        for i in range(20000):
            m = shared.merge(m, shared.single(f"c{i}", 1))
            products.append(m)
        again = ONE
        for i in reversed(range(20000)):
            again = shared.merge(shared.single(f"c{i}", 1), again)
        assert again is m and m.size == 20000 and len(factors(m)) == 20000
        assert height(m) < 60  # (log2 of 20000 is 14.3; a treap's expected height ~ 3 log2 n)
        # each factor made a few nodes, the rest shared with the product before it
        assert len(shared._monos) < 40 * 20000
        assert shared.merge(m, shared.power(m, -1)) == ONE
    finally:
        sys.setrecursionlimit(limit)


def test_paths_compare_as_tuples_of_positions():
    rng, shared = random.Random(1), Shared()  # noqa: S311 (test data, no secret)
    paths = [()]
    for _ in range(3000):
        paths.append((*rng.choice(paths), rng.randrange(4)))
    for p in paths:
        assert to_tuple(shared.path(p)) == p and shared.path(p) is shared.path(p)
    for _ in range(20000):
        a, b = rng.choice(paths), rng.choice(paths)
        assert path_less(shared.path(a), shared.path(b)) == (a < b), (a, b)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100)
    try:
        deep = tuple(rng.randrange(3) for _ in range(30000))
        p, q, r = (shared.path(t) for t in (deep, (*deep[:-1], 5), (*deep[:100], 9)))
        assert path_less(p, q) and path_less(p, r) and not path_less(r, p)
        assert path_less(shared.path(deep[:20000]), p) and not path_less(p, p)
    finally:
        sys.setrecursionlimit(limit)
