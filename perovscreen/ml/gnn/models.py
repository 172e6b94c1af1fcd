"""Property networks: three outputs per structure [heat of formation (eV/atom), band gap (eV), metal logit].

Architectures (all DGL-free):
- ``schnet``: continuous-filter convolutions (PyG's SchNet interaction blocks, cosine cutoff) on our periodic
  graphs (Schuett et al., J. Chem. Phys. 148, 241722 (2018)); ~8x cheaper per epoch than ``cgcnn``, the shipped default.
- ``cgcnn``: our PyG network, CGCNN-style gated graph convolutions (torch_geometric ``CGConv``) on
  Gaussian-expanded distances, mean pooling (Xie & Grossman, PRL 120, 145301 (2018)).
- ``megnet``: matgl 4.x MEGNet (Chen et al., Chem. Mater. 31, 3564 (2019)).
- ``m3gnet``: matgl 4.x M3GNet, three-body interactions (Chen & Ong, Nat. Comput. Sci. 2, 718 (2022)).
- ``alignn``: alignn's ALIGNNAtomWisePure, line graph of bond angles (Choudhary & DeCost, npj Comput.
  Mater. 7, 185 (2021)).
Targets are standardised with the training-set mean/std stored in the model (buffers, saved with the weights).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from perovscreen.core.errors import InputError
from perovscreen.ml.gnn.graphs import ELEMENTS, alignn_graph, collate, collate_alignn, structure_graph

ARCHS = ("schnet", "cgcnn", "megnet", "m3gnet", "alignn")
N_OUT = 3  # heat, gap, metal logit

# small/"tiny" and default sizes; the full-training command uses "default"
SIZES = {
    "schnet": {"tiny": {"dim": 32, "layers": 2}, "default": {"dim": 64, "layers": 3}},
    "cgcnn": {"tiny": {"dim": 32, "layers": 2}, "default": {"dim": 96, "layers": 4}},
    "megnet": {"tiny": {"dim_node_embedding": 16, "nblocks": 1},
               "default": {"dim_node_embedding": 32, "nblocks": 3}},
    "m3gnet": {"tiny": {"units": 32, "dim_node_embedding": 32, "dim_edge_embedding": 32, "nblocks": 1},
               "default": {"units": 64, "dim_node_embedding": 64, "dim_edge_embedding": 64, "nblocks": 3}},
    "alignn": {"tiny": {"alignn_layers": 1, "gcn_layers": 1, "hidden_features": 32, "embedding_features": 32},
               "default": {"alignn_layers": 2, "gcn_layers": 2, "hidden_features": 64, "embedding_features": 64}},
}


class SchNet(nn.Module):
    """Element embedding, residual SchNet interactions on Gaussian-expanded periodic distances, mean pooling."""

    def __init__(self, dim: int = 64, layers: int = 3, n_gauss: int = 50, cutoff: float = 5.0):
        super().__init__()
        from torch_geometric.nn.models.schnet import GaussianSmearing, InteractionBlock, ShiftedSoftplus

        self.embed = nn.Embedding(len(ELEMENTS), dim)
        self.rbf = GaussianSmearing(0.0, cutoff, n_gauss)
        self.blocks = nn.ModuleList([InteractionBlock(dim, n_gauss, dim, cutoff) for _ in range(layers)])
        self.head = nn.Sequential(nn.Linear(dim, dim), ShiftedSoftplus(), nn.Linear(dim, N_OUT))

    def forward(self, g):
        from torch_geometric.nn import global_mean_pool

        src, dst = g.edge_index
        d = (g.pos[dst] + g.pbc_offshift - g.pos[src]).norm(dim=1)
        e = self.rbf(d)
        x = self.embed(g.node_type)
        for block in self.blocks:
            x = x + block(x, g.edge_index, d, e)
        return self.head(global_mean_pool(x, g.batch))


class CGCNN(nn.Module):
    def __init__(self, dim: int = 64, layers: int = 3, n_gauss: int = 40, cutoff: float = 5.0):
        super().__init__()
        from torch_geometric.nn import CGConv

        self.embed = nn.Embedding(len(ELEMENTS), dim)
        self.register_buffer("centers", torch.linspace(0, cutoff, n_gauss))
        self.width = cutoff / n_gauss
        self.convs = nn.ModuleList([CGConv(dim, dim=n_gauss, aggr="mean", batch_norm=True) for _ in range(layers)])
        self.head = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, N_OUT))

    def forward(self, g):
        from torch_geometric.nn import global_mean_pool

        src, dst = g.edge_index
        d = (g.pos[dst] + g.pbc_offshift - g.pos[src]).norm(dim=1)
        e = torch.exp(-((d[:, None] - self.centers) / self.width) ** 2)
        x = self.embed(g.node_type)
        for conv in self.convs:
            x = conv(x, g.edge_index.flip(0), e)  # messages flow src -> dst
        return self.head(global_mean_pool(x, g.batch))


class PropertyNet(nn.Module):
    """Backbone + target standardisation. ``forward(batch)`` returns (B, 3) in physical units."""

    def __init__(self, arch: str, size: str = "default", cutoff: float = 5.0, metal_shift: float = 0.0, **hparams):
        super().__init__()
        self.metal_shift = metal_shift  # added to the metal logit at prediction (see set_metal_prior)
        if arch not in ARCHS:
            raise InputError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
        self.arch, self.cutoff = arch, cutoff
        self.config = {"arch": arch, "size": size, "cutoff": cutoff, **SIZES[arch][size], **hparams}
        hp = {**SIZES[arch][size], **hparams}
        if arch == "schnet":
            self.net = SchNet(cutoff=cutoff, **hp)
        elif arch == "cgcnn":
            self.net = CGCNN(cutoff=cutoff, **hp)
        elif arch == "megnet":
            from matgl.models import MEGNet

            self.net = MEGNet(element_types=ELEMENTS, cutoff=cutoff, ntargets=N_OUT, is_classification=False,
                              hidden_layer_sizes_output=(32, 16), include_state=True, **hp)
            self.net.output_proj = _replace_last_linear(self.net.output_proj, N_OUT)
        elif arch == "m3gnet":
            from matgl.models import M3GNet

            self.net = M3GNet(element_types=ELEMENTS, cutoff=cutoff, threebody_cutoff=4.0, ntargets=N_OUT,
                              is_intensive=True, readout_type="weighted_atom", **hp)
        else:
            from alignn.models.alignn_atomwise_pure import ALIGNNAtomWisePure, ALIGNNAtomWisePureConfig

            cfg = ALIGNNAtomWisePureConfig(name="alignn_atomwise_pure", atom_input_features=92,
                                           output_features=N_OUT, calculate_gradient=False, gradwise_weight=0.0,
                                           energy_mult_natoms=False, use_zbl=False, **hp)
            self.net = ALIGNNAtomWisePure(cfg)
        self.register_buffer("mean", torch.zeros(2))
        self.register_buffer("std", torch.ones(2))

    def featurize(self, structure):
        s = structure.copy()
        s.remove_oxidation_states()
        if self.arch == "alignn":
            return alignn_graph(s, self.cutoff)
        return structure_graph(s, self.cutoff)

    def collate(self, items):
        return collate_alignn(items) if self.arch == "alignn" else collate(items)

    def raw(self, batch) -> torch.Tensor:
        """Standardised outputs (B, 3)."""
        if self.arch == "alignn":
            out = self.net(batch)["out"]
        elif self.arch == "megnet":
            out = self.net(batch, state_attr=torch.zeros(batch.num_graphs, 2))
        else:
            out = self.net(batch)
        return out.reshape(-1, N_OUT)

    def forward(self, batch) -> torch.Tensor:
        out = self.raw(batch)
        return torch.cat([out[:, :2] * self.std + self.mean, out[:, 2:] + self.metal_shift], dim=1)

    def set_metal_prior(self, pos_weight: float) -> None:
        """Undo the class weighting of the metal logit. BCE with ``pos_weight`` w on metals is minimised by
        logit(p) + log(w), so predictions subtract log(w): P(metal) is then the unweighted (accuracy-optimal)
        probability and the 0.5 threshold is the Bayes decision. Stored in the config, saved with the model."""
        self.metal_shift = -math.log(pos_weight)
        self.config["metal_shift"] = self.metal_shift


def _replace_last_linear(mlp: nn.Module, n_out: int) -> nn.Module:
    """matgl's MEGNet output MLP ends in a 1-unit linear layer; give it ``n_out`` units."""
    last = None
    for name, mod in mlp.named_modules():
        if isinstance(mod, nn.Linear):
            last = name
    if last is None or mlp.get_submodule(last).out_features == n_out:
        return mlp
    parent_name, _, child = last.rpartition(".")
    parent = mlp.get_submodule(parent_name) if parent_name else mlp
    old = getattr(parent, child) if not child.isdigit() else parent[int(child)]
    new = nn.Linear(old.in_features, n_out)
    if child.isdigit():
        parent[int(child)] = new
    else:
        setattr(parent, child, new)
    return mlp
