"""Crystal graphs for the property networks; neighbour lists from pymatgen (pyg-lib is not needed).

One PyG ``Data`` per structure, in matgl's convention so that the same graph feeds MEGNet/M3GNet and the
PyG network: ``node_type`` (index into ``ELEMENTS``), ``z``, ``pos`` (A), ``edge_index`` (src, dst),
``pbc_offset`` (integer image of dst), ``pbc_offshift`` (image offset in A) and ``lattice``.
ALIGNN uses its own pure-torch graph + line graph (built with alignn's builder).
"""
from __future__ import annotations

import numpy as np
import torch
from pymatgen.core import Element, Structure
from pymatgen.optimization.neighbors import find_points_in_spheres
from torch_geometric.data import Batch, Data

from perovscreen.core.errors import InputError

ELEMENTS = tuple(Element.from_Z(z).symbol for z in range(1, 95))  # H..Pu
INDEX = {el: i for i, el in enumerate(ELEMENTS)}


def neighbour_list(structure: Structure, cutoff: float):
    """(src, dst, images, distances) of all pairs within ``cutoff`` A (periodic, self-pairs excluded)."""
    lat = np.ascontiguousarray(structure.lattice.matrix, dtype=float)
    cart = np.ascontiguousarray(structure.cart_coords, dtype=float)
    src, dst, images, d = find_points_in_spheres(cart, cart, r=cutoff, pbc=np.array([1, 1, 1], dtype=np.int64),
                                                 lattice=lat, tol=1e-8)
    keep = (src != dst) | (d > 1e-8)
    return src[keep], dst[keep], images[keep], d[keep]


def structure_graph(structure: Structure, cutoff: float = 5.0) -> Data:
    """PyG graph of a periodic structure (ordered, elements H..Pu)."""
    if not structure.is_ordered:
        raise InputError(f"{structure.formula}: partial occupancies; graph models need an ordered structure")
    symbols = [sp.symbol for sp in structure.species]
    bad = [s for s in symbols if s not in INDEX]
    if bad:
        raise InputError(f"{structure.formula}: unsupported elements {sorted(set(bad))}")
    src, dst, images, _ = neighbour_list(structure, cutoff)
    if len(src) == 0:
        raise InputError(f"{structure.formula}: no neighbours within {cutoff} A")
    lat = torch.tensor(structure.lattice.matrix, dtype=torch.float32)
    offset = torch.tensor(images, dtype=torch.float32)
    nt = torch.tensor([INDEX[s] for s in symbols], dtype=torch.long)
    return Data(node_type=nt, z=nt + 1, pos=torch.tensor(structure.cart_coords, dtype=torch.float32),
                edge_index=torch.tensor(np.stack([src, dst]), dtype=torch.long), pbc_offset=offset,
                pbc_offshift=offset @ lat, lattice=lat.unsqueeze(0), num_nodes=len(structure))


def collate(graphs: list[Data]) -> Batch:
    return Batch.from_data_list(graphs)


def alignn_graph(structure: Structure, cutoff: float = 5.0, three_body_cutoff: float = 4.0):
    """ALIGNN pair graph + line graph (alignn's pure-torch builder, CGCNN atom features)."""
    from alignn.torch_graph_builder import build_pure_torch_graph
    from jarvis.core.atoms import Atoms as JAtoms

    atoms = JAtoms(lattice_mat=structure.lattice.matrix, coords=structure.frac_coords,
                   elements=[sp.symbol for sp in structure.species], cartesian=False)
    g, lg = build_pure_torch_graph(atoms, two_body_cutoff=cutoff, three_body_cutoff=three_body_cutoff,
                                   atom_features="cgcnn")
    return g, lg, torch.tensor(structure.lattice.matrix, dtype=torch.float32)


def collate_alignn(items):
    from alignn.torch_graph_builder import batch_torch_graph_pairs

    g, lg = batch_torch_graph_pairs([(a, b) for a, b, _ in items])
    return g, lg, torch.stack([c for _, _, c in items])
