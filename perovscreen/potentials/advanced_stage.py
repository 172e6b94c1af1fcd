"""Advanced-screening stages: elastic constants, interface reactions and the electrochemical window, and
`advanced`, which bundles both for the funnel's optional last stage (its NEB refinement is the funnel's:
it runs perovscreen.neb's stage on the best candidates)."""
from __future__ import annotations

from dataclasses import dataclass

from perovscreen.core.results import Result
from perovscreen.jobs.stage import Resources, Stage, param
from perovscreen.potentials.interface import CATHODES
from perovscreen.potentials.stage import PotentialParams, _potential, ordered


@dataclass(frozen=True)
class ElasticParams(PotentialParams):
    strains: tuple = param((0.005, 0.01), "Green-Lagrange strain magnitudes, each applied with both signs",
                           minimum=0.0, exclusive=True, maximum=0.1)
    fmax: float = param(0.005, "force threshold of the cell relaxation and of the relaxed-ion steps", "eV/A",
                        minimum=0.0, exclusive=True)
    steps: int = param(300, "maximum optimizer steps per relaxation", minimum=1)
    relax_first: bool = param(True, "relax the cell before straining (--no-relax: the cell as given)",
                              flag="--no-relax")
    relax_ions: bool = param(True, "relax the atoms in every strained cell: relaxed-ion constants "
                             "(--clamped-ions: clamped-ion)", flag="--clamped-ions")


@dataclass(frozen=True)
class InterfaceParams(PotentialParams):
    cathode: str = param("LiCoO2", "cathode the candidate meets ('' for none)", choices=("", *CATHODES))
    fmax: float = param(0.05, "force threshold of the relaxations", "eV/A", minimum=0.0, exclusive=True)
    steps: int = param(300, "maximum optimizer steps", minimum=1)
    relax_candidate: bool = param(True, "relax the candidate (--no-relax: single point as given)",
                                  flag="--no-relax")
    cache: str = param("", "reference cache folder (default <cache root>/references)", science=False, kind="path")


@dataclass(frozen=True)
class AdvancedParams(InterfaceParams):
    strains: tuple = param((0.005, 0.01), "elastic: Green-Lagrange strain magnitudes (+-)", minimum=0.0,
                           exclusive=True, maximum=0.1)
    elastic_fmax: float = param(0.005, "elastic: force threshold of its relaxations", "eV/A", minimum=0.0,
                                exclusive=True)


@dataclass
class AdvancedResult(Result):
    """Formation energy, interface reactions and window (`interface`) and elastic constants (`elastic`)."""
    TYPE = "AdvancedResult"

    interface: Result
    elastic: Result
    ordering: dict | None = None


def _noted(res, report, params):
    if report:
        res.notes.append(f"disordered input: evaluated on a seeded ordered approximant (seed {params.seed})")
    return res


def _interface(s, params):
    from perovscreen.potentials.interface import interface_screen

    # against Li metal and a Li cathode, whatever the batch's --ion
    return interface_screen(s, params.calculator, cathode=params.cathode, relax_candidate=params.relax_candidate,
                            fmax=params.fmax, steps=params.steps, cache=params.cache or None, **params.calc_kw())


def run_elastic(record, params: ElasticParams):
    from perovscreen.potentials.elastic import elastic_constants

    s, report = ordered(record, params)
    res = elastic_constants(s, params.calculator, strains=params.strains, relax_first=params.relax_first,
                            relax_ions=params.relax_ions, fmax=params.fmax, steps=params.steps, **params.calc_kw())
    return _noted(res, report, params)


def run_interface(record, params: InterfaceParams):
    s, report = ordered(record, params)
    return _noted(_interface(s, params), report, params)


def run_advanced(record, params: AdvancedParams):
    from perovscreen.potentials.elastic import elastic_constants

    s, report = ordered(record, params)  # once for both parts
    el = elastic_constants(s, params.calculator, strains=params.strains, fmax=params.elastic_fmax,
                           steps=params.steps, **params.calc_kw())
    return AdvancedResult(_noted(_interface(s, params), report, params), el, report)


def _interface_identities(params) -> dict:
    import perovscreen.potentials.interface as iface
    import perovscreen.potentials.references as refs
    import perovscreen.structures.examples as examples
    from perovscreen.core.hashing import file_sha256, value_hash

    # the competing phases are defined in code (structures with citations): hash their definitions
    files = (refs.__file__, examples.__file__, iface.__file__)
    return {**_potential(params), "references": value_hash([file_sha256(f) for f in files])}


ELASTIC = Stage("elastic", 1, ElasticParams, run_elastic,
                help="relaxed-ion elastic constants, VRH moduli, Born stability and Pugh ratio",
                resources=Resources(cores=2, memory_gb=4.0, walltime_min=60.0), identities=_potential)
INTERFACE = Stage("interface", 2, InterfaceParams, run_interface,
                  help="reaction energy vs Li metal and a cathode, and the electrochemical window",
                  resources=Resources(cores=2, memory_gb=4.0, walltime_min=120.0), identities=_interface_identities)
ADVANCED = Stage("advanced", 2, AdvancedParams, run_advanced,
                 help="formation energy, interface reactions, window and elastic constants (one potential)",
                 resources=Resources(cores=2, memory_gb=4.0, walltime_min=180.0), identities=_interface_identities)
