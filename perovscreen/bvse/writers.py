"""Volumetric writers: Gaussian CUBE (bohr) and VESTA .grd; grids hold no duplicated boundary plane."""
from __future__ import annotations

import numpy as np

BOHR = 0.529177210903  # A


def _species_z(site) -> int:
    sp = max(site.species.items(), key=lambda kv: kv[1])[0]  # majority species of a disordered site
    return sp.Z


def write_cube(path, structure, data, comment="BVSE site energy (eV) from perovscreen"):
    """Gaussian cube; data[i, j, k] at fractional (i/n0, j/n1, k/n2); values written k fastest."""
    n = data.shape
    lat = structure.lattice.matrix / BOHR
    with open(path, "w") as fh:
        fh.write(f"{comment}\nunits: energy eV, lengths bohr\n")
        fh.write(f"{len(structure):5d} {0.0:12.6f} {0.0:12.6f} {0.0:12.6f}\n")
        for ax in range(3):
            v = lat[ax] / n[ax]
            fh.write(f"{n[ax]:5d} {v[0]:12.6f} {v[1]:12.6f} {v[2]:12.6f}\n")
        for site in structure:
            x, y, z = site.coords / BOHR
            fh.write(f"{_species_z(site):5d} {0.0:12.6f} {x:12.6f} {y:12.6f} {z:12.6f}\n")
        flat = data.reshape(-1, n[2])
        for row in flat:
            for s in range(0, len(row), 6):
                fh.write(" ".join(f"{v:13.5e}" for v in row[s:s + 6]) + "\n")


def write_grd(path, structure, data, comment="BVSE site energy (eV) from perovscreen"):
    """VESTA general volumetric format: title, a b c alpha beta gamma, n0 n1 n2, values x fastest."""
    a, b, c = structure.lattice.abc
    al, be, ga = structure.lattice.angles
    with open(path, "w") as fh:
        fh.write(f"{comment}\n{a:.6f} {b:.6f} {c:.6f} {al:.6f} {be:.6f} {ga:.6f}\n")
        fh.write(" ".join(str(x) for x in data.shape) + "\n")
        np.savetxt(fh, data.ravel(order="F"), fmt="%.6e")


def read_cube(path):
    """Minimal reader (for round-trip tests and users): returns (data, lattice in A)."""
    with open(path) as fh:
        lines = fh.readlines()
    nat = int(lines[2].split()[0])
    n, lat = [], []
    for ax in range(3):
        parts = lines[3 + ax].split()
        n.append(int(parts[0]))
        lat.append(np.array(parts[1:4], float) * n[-1] * BOHR)
    vals = np.array(" ".join(lines[6 + nat:]).split(), float)
    return vals.reshape(n), np.array(lat)


def read_grd(path):
    with open(path) as fh:
        lines = fh.readlines()
    n = tuple(int(x) for x in lines[2].split())
    vals = np.array(" ".join(lines[3:]).split(), float)
    return vals.reshape(n, order="F"), np.array(lines[1].split(), float)
