"""Quantum ESPRESSO (Debian's pw.x) as an ASE calculator: pseudopotentials looked up in a user directory,
cutoffs = the maximum over the cell's elements of their SSSP/PseudoDojo metadata, the charge density and
wavefunctions of the previous ionic step reused (startingpot/startingwfc='file'), and SCF non-convergence
detected from pw.x's output. Input written and output read by ase.io's espresso formats."""
from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import numpy as np
from ase.io import read, write
from ase.units import Ry

from perovscreen.core.errors import InputError
from perovscreen.core.hashing import file_sha256
from perovscreen.dft.calculator import DFTCalculator, mpi_prefix, tail
from perovscreen.dft.calculator import require_executable

PSEUDO_SUFFIXES = (".upf", ".UPF")
PREFIX, OUTDIR = "pw", "out"
DEFAULT_DUAL = 8.0  # ecutrho/ecutwfc without metadata: safe for ultrasoft/PAW (4 is enough for norm-conserving)


def _pseudo_dir(pseudo_dir) -> Path:
    if not pseudo_dir:
        raise InputError("the espresso engine needs a pseudopotential directory (--pseudo-dir)")
    d = Path(pseudo_dir)
    if not d.is_dir():
        raise InputError(f"pseudopotential directory not found: {pseudo_dir}")
    return d


def find_pseudo(pseudo_dir, element: str) -> str | None:
    """The file name of `element`'s pseudopotential: <El>.upf, else a file starting with the symbol followed by
    a separator ('li_pbe_v1.4.uspp.F.UPF', 'Li.pbe-s-kjpaw.UPF'), case-insensitive."""
    d = _pseudo_dir(pseudo_dir)
    files = sorted(f.name for f in d.iterdir() if f.is_file() and f.suffix in PSEUDO_SUFFIXES)
    for f in files:
        if f.rsplit(".", 1)[0] == element:
            return f
    pat = re.compile(rf"^{element}[._-]", re.IGNORECASE)
    hits = [f for f in files if pat.match(f)]
    return hits[0] if hits else None


def find_pseudos(pseudo_dir, elements) -> dict[str, str]:
    """{element: file name}; one InputError naming every element without a pseudopotential."""
    found = {el: find_pseudo(pseudo_dir, el) for el in sorted(set(elements))}
    missing = [el for el, f in found.items() if f is None]
    if missing:
        raise InputError(f"no pseudopotential for {', '.join(missing)} in {pseudo_dir}")
    return found


def pseudo_hashes(pseudo_dir, elements=None) -> dict[str, str]:
    """SHA-256 of the pseudopotential files of `elements` (every .upf file when None), by file name."""
    d = _pseudo_dir(pseudo_dir)
    if elements is None:
        names = sorted(f.name for f in d.iterdir() if f.is_file() and f.suffix in PSEUDO_SUFFIXES)
    else:
        names = sorted(find_pseudos(d, elements).values())
    return {n: file_sha256(d / n) for n in names}


def element_cutoffs(pseudo_dir, element: str) -> tuple[float, float] | None:
    """(ecutwfc, ecutrho) in Ry from the element's metadata, or None when there is none. Reads <El>.toml
    (SSSP/PseudoDojo from PseudoLibrary: `Ecut` in Hartree, ecutrho = Ecut * supersampling^2) or <El>.json /
    an SSSP-style table `*.json` ({El: {cutoff_wfc, cutoff_rho}} or {El: {cutoff, dual}}, in Ry)."""
    d = _pseudo_dir(pseudo_dir)
    toml = d / f"{element}.toml"
    if toml.is_file():
        meta = tomllib.loads(toml.read_text())
        if "Ecut" in meta:
            wfc = 2.0 * float(meta["Ecut"])  # Hartree -> Ry
            return wfc, wfc * float(meta.get("supersampling", 2.0)) ** 2
    tables = [d / f"{element}.json"] + sorted(p for p in d.glob("*.json") if p.stem != element)
    for path in tables:
        if not path.is_file():
            continue
        try:
            meta = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        entry = meta.get(element, meta if path.stem == element else None)
        if isinstance(entry, dict):
            wfc = entry.get("cutoff_wfc", entry.get("cutoff"))
            if wfc is not None:
                rho = entry.get("cutoff_rho", float(wfc) * float(entry.get("dual", DEFAULT_DUAL)))
                return float(wfc), float(rho)
    return None


def cutoffs(pseudo_dir, elements, ecut: float = 0.0) -> tuple[float, float]:
    """(ecutwfc, ecutrho) in Ry: the maximum over `elements` of their metadata, or `ecut` (eV) with the largest
    metadata dual (DEFAULT_DUAL without metadata). Without ecut and metadata: an InputError naming the element."""
    meta = {el: element_cutoffs(pseudo_dir, el) for el in sorted(set(elements))}
    known = [c for c in meta.values() if c]
    if ecut > 0:
        wfc = ecut / Ry
        dual = max((rho / w for w, rho in known), default=DEFAULT_DUAL)
        return wfc, wfc * dual
    missing = [el for el, c in meta.items() if c is None]
    if missing:
        raise InputError(f"no cutoff metadata for {', '.join(missing)} in {pseudo_dir}: give ecut (eV)")
    return max(w for w, _ in known), max(r for _, r in known)


def scf_summary(text: str, maxiter: int) -> dict:
    """Convergence facts from pw.x's output: converged, iterations (per SCF), reason."""
    done = [int(n) for n in re.findall(r"convergence has been achieved in\s+(\d+) iterations", text)]
    failed = re.search(r"convergence NOT achieved after\s+(\d+) iterations", text)
    if failed:
        n = int(failed.group(1))
        return {"converged": False, "iterations": n,
                "reason": f"SCF not converged after {n} iterations (maxiter={maxiter}): raise maxiter, lower the "
                          "mixing or increase the smearing"}
    return {"converged": bool(done), "iterations": done[-1] if done else 0,
            "reason": "" if done else "pw.x ended without a converged SCF"}


def pw_error(text: str) -> str:
    """pw.x's own error block ('Error in routine X (n): message') on one line, or ''."""
    m = re.search(r"Error in routine\s+(\S+).*\n\s*(.+)", text)
    return f"{m.group(1)}: {m.group(2).strip()}" if m else ""


def band_edges(sp_calc) -> dict:
    """Fermi level and band gap (eV) from the eigenvalues ase.io read (None when pw.x printed none)."""
    from ase.dft.bandgap import bandgap

    try:
        ef = sp_calc.get_fermi_level()
        nk, ns = len(sp_calc.get_ibz_k_points()), sp_calc.get_number_of_spins()
        eig = np.array([[sp_calc.get_eigenvalues(k, s) for k in range(nk)] for s in range(ns)])
    except Exception:  # noqa: BLE001 - eigenvalues are optional output
        return {"band_gap": None, "direct_gap": None, "fermi_level": None}
    if ef is None or eig.size == 0:
        return {"band_gap": None, "direct_gap": None, "fermi_level": None}
    gap = bandgap(eigenvalues=eig, efermi=ef, output=None)[0]
    direct = bandgap(eigenvalues=eig, efermi=ef, direct=True, output=None)[0]
    return {"band_gap": float(gap), "direct_gap": float(direct), "fermi_level": float(ef)}


class EspressoCalculator(DFTCalculator):
    """pw.x SCF per geometry in `directory` (pw.in, pw.out, pw.err, out/pw.save kept). `reuse_density`: start
    each SCF after the first from the saved density and wavefunctions (and retry from scratch if pw.x fails
    reading them). `command`: pw.x's argv (default ['pw.x']); `input_data`: extra pw.x namelist entries."""

    engine = "espresso"

    def __init__(self, directory, *, pseudo_dir=None, atoms=None, command=None, input_data=None,
                 reuse_density: bool = True, **kw):
        super().__init__(directory, **kw)
        self.pseudo_dir = str(_pseudo_dir(pseudo_dir).resolve())
        self.command = list(command or ["pw.x"])
        require_executable(self.command[0], "quantum-espresso")
        self.extra = input_data or {}
        self.reuse_density = reuse_density
        self.pseudos: dict[str, str] = {}
        if atoms is not None:
            self.prepare(atoms)

    def prepare(self, atoms) -> None:
        super().prepare(atoms)
        elements = set(atoms.get_chemical_symbols())
        if set(self.pseudos) != elements:
            self.pseudos = find_pseudos(self.pseudo_dir, elements)
            self.ecutwfc, self.ecutrho = cutoffs(self.pseudo_dir, elements, self.ecut)

    def input_data(self, restart: str = "") -> dict:
        system = {"ecutwfc": round(self.ecutwfc, 4), "ecutrho": round(self.ecutrho, 4)}
        if self.smearing > 0:
            system.update(occupations="smearing", smearing="fermi-dirac", degauss=self.smearing / Ry)
        else:
            system["occupations"] = "fixed"
        if self.xc.upper() != "PBE":  # the pseudopotentials are PBE: override the functional explicitly
            system["input_dft"] = self.xc
        electrons = {"conv_thr": self.conv_thr / Ry, "electron_maxstep": self.maxiter, "mixing_beta": 0.5}
        if restart:  # "density" or "density+wavefunctions"
            electrons["startingpot"] = "file"
            if "wave" in restart:
                electrons["startingwfc"] = "file"
        data = {"control": {"calculation": "scf", "prefix": PREFIX, "outdir": OUTDIR, "pseudo_dir": self.pseudo_dir,
                            "tprnfor": True, "tstress": True, "verbosity": "high", "disk_io": "low"},
                "system": system, "electrons": electrons}
        for section, values in self.extra.items():
            data.setdefault(section, {}).update(values)
        return data

    def _saved(self) -> bool:
        return (Path(self.directory) / OUTDIR / f"{PREFIX}.save" / "charge-density.dat").is_file()

    def _run_pw(self, atoms, restart: str):
        d = Path(self.directory)
        with open(d / "pw.in", "w") as fd:
            write(fd, atoms, format="espresso-in", input_data=self.input_data(restart),
                  pseudopotentials=self.pseudos, kpts=self.kpts)
        argv = [*mpi_prefix(self.nprocs), *self.command, "-in", "pw.in"]
        with open(d / "pw.out", "w") as out, open(d / "pw.err", "w") as err:
            rc = subprocess.run(argv, cwd=d, stdout=out, stderr=err).returncode
        return rc, (d / "pw.out").read_text(errors="replace")

    def run_engine(self, atoms):
        # wavefunctions need the same k-point set (a displacement that lowers the symmetry changes it), the
        # density does not; a killed run may leave unreadable files: fall back one level at a time
        levels = ["density+wavefunctions", "density", ""] if self.reuse_density and self._saved() else [""]
        for restart in levels:
            rc, text = self._run_pw(atoms, restart)
            if rc == 0 or "convergence NOT achieved" in text:
                break
        info = {**scf_summary(text, self.maxiter), "reused": restart}
        if not info["converged"]:
            return {}, info
        if rc != 0:
            raise RuntimeError(f"pw.x failed (exit {rc}): {pw_error(text) or tail(Path(self.directory) / 'pw.err')}")
        out = read(Path(self.directory) / "pw.out", format="espresso-out")
        sp = out.calc
        results = {"energy": sp.results["energy"], "free_energy": sp.results.get("free_energy", sp.results["energy"]),
                   "forces": sp.results["forces"], "stress": sp.results["stress"]}
        return results, {**info, **band_edges(sp)}
