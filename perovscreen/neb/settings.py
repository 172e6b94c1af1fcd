"""The NEB stage's parameters, written once: the stage, the CLI, the funnel config and `run_band`'s keyword
defaults all read them from here. Band defaults follow atomate2's AseNebMaker (k = 5 eV/A^2, climbing
image, improved tangent), chosen there for consistency with the VASP NEB sets."""
from __future__ import annotations

from dataclasses import dataclass

from perovscreen.jobs.stage import param

POTENTIALS = ("chgnet", "sevenn", "gpaw", "espresso")
UMLIPS = ("chgnet", "sevenn")


@dataclass(frozen=True)
class NebParams:
    potential: str = param("chgnet", "energies and forces: a universal potential or a DFT engine",
                           choices=POTENTIALS)
    model: str = param("", "SevenNet bundled model: 7net-0 (default) or 7net-l3i5")
    model_path: str = param("", "uMLIP checkpoint (identified by its SHA-256)", science=False, kind="path")
    device: str = param("cpu", "cpu or cuda (uMLIPs)", science=False)
    mode: str = param("vacancy", "vacancy: one Li removed, a neighbour hops into it; interstitial: one Li "
                      "in the Li-free host (dilute limit, as pymatgen-analysis-diffusion builds it)",
                      choices=("vacancy", "interstitial"))
    n_images: int = param(5, "intermediate images", minimum=1, maximum=31)
    min_length: float = param(10.0, "every perpendicular width of the supercell is at least this", "A",
                              minimum=0.0)
    max_hops: int = param(3, "symmetry-distinct hops computed, shortest first (0: all)", minimum=0)
    max_hop_length: float = param(0.0, "longest hop considered (0: the shortest length at which the hops "
                                  "percolate)", "A", minimum=0.0)
    spring: float = param(5.0, "spring constant k", "eV/A^2", minimum=0.0, exclusive=True)
    climb: bool = param(True, "climbing image (--no-climb: plain NEB)", flag="--no-climb")
    optimizer: str = param("FIRE", "band optimizer", choices=("FIRE", "BFGS"))
    fmax: float = param(0.05, "NEB force threshold", "eV/A", minimum=0.0, exclusive=True)
    steps: int = param(300, "maximum band optimizer steps", minimum=1)
    relax_endpoints: bool = param(True, "relax the endpoints first, positions only (--no-relax-endpoints)",
                                  flag="--no-relax-endpoints")
    seed_from: str = param("", "start a DFT band from this uMLIP's converged band instead of IDPP",
                           choices=("", "chgnet", "sevenn"))
    seed: int = param(0, "seed of the ordered approximant of a disordered input")
    kpoint_density: float = param(3.0, "DFT k-points per A^-1 (2 pi included) along each axis", minimum=0.0)
    ecut: float = param(0.0, "DFT plane-wave cutoff (0: from the pseudopotentials / engine default)", "eV",
                        minimum=0.0)
    pseudo_dir: str = param("", "Quantum ESPRESSO pseudopotential folder (files identified by SHA-256)",
                            science=False, kind="path")
    workdir: str = param("", "DFT calculation folders (default: a temporary folder)", science=False,
                         kind="path")
    plot_dir: str = param("", "write <id>-hop<k>.png energy profiles and .extxyz bands here", science=False,
                          kind="path")


DEFAULTS = NebParams()
