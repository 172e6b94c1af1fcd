import random

import pytest
from pymatgen.core import Structure

from perovscreen.structures.examples import get_example, list_examples
from perovscreen.structures.identity import identity_hash


@pytest.mark.parametrize("name", list_examples())
def test_identity_invariant_to_supercell_shift_and_order(name):
    s = get_example(name)
    ref = identity_hash(s)
    sc = s * (2, 1, 2)
    sc.translate_sites(list(range(len(sc))), [0.137, 0.291, 0.413])
    sites = list(sc)
    random.Random(0).shuffle(sites)
    assert identity_hash(Structure.from_sites(sites)) == ref


def test_identity_distinguishes_different_crystals():
    hashes = {identity_hash(get_example(n)) for n in list_examples()}
    assert len(hashes) == len(list_examples())
    s = get_example("Li3OCl")
    strained = s.copy()
    strained.scale_lattice(s.volume * 1.05)
    assert identity_hash(strained) != identity_hash(s)
