"""Union-find percolation thresholds against a brute-force flood fill on small random periodic grids."""
import numpy as np
import pytest

from perovscreen.bvse import percolation

STEPS = [(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1) if (a, b, c) != (0, 0, 0)]


def flood_fill_rank(energy, level):
    """Max rank of the loop vectors of any cluster of {E <= level}: BFS with lattice shifts, every edge."""
    shape = energy.shape
    active = energy <= level
    shift = {}
    best = 0
    for start in zip(*np.nonzero(active)):
        if start in shift:
            continue
        shift[start] = np.zeros(3, int)
        queue, loops = [start], []
        while queue:
            x = queue.pop()
            for d in STEPS:
                y = tuple((x[a] + d[a]) % shape[a] for a in range(3))
                if not active[y]:
                    continue
                w = np.array([(x[a] + d[a]) // shape[a] for a in range(3)])
                s = shift[x] + w
                if y not in shift:
                    shift[y] = s
                    queue.append(y)
                else:
                    loops.append(s - shift[y])
        if loops:
            best = max(best, np.linalg.matrix_rank(np.array(loops)))
    return best


def brute_thresholds(energy):
    out = [np.inf] * 3
    for level in np.sort(energy.ravel()):
        r = flood_fill_rank(energy, level)
        for k in range(r):
            out[k] = min(out[k], level)
        if r == 3:
            break
    return out


def union_find_thresholds(energy):
    order = np.argsort(energy, axis=None)
    saddle, _ = percolation.thresholds(energy, order, np.inf)
    return [energy.flat[s] if s >= 0 else np.inf for s in saddle]


@pytest.mark.parametrize("seed", range(12))
def test_union_find_equals_flood_fill(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 6, size=3))
    energy = rng.random(shape)
    if seed % 2:  # anisotropic correlated field: channels along one axis
        energy = energy + np.linspace(0, 1, shape[0])[:, None, None] * rng.random()
    assert union_find_thresholds(energy) == brute_thresholds(energy)


def test_channel_grid_has_1d_only_below_wall():
    """A straight low-energy tube along c through a high wall: 1D at the tube, 2D/3D at the wall."""
    e = np.full((6, 5, 7), 5.0)
    e[2, 2, :] = 1.0
    e[2, 2, 3] = 1.5
    uf = union_find_thresholds(e)
    assert uf == [1.5, 5.0, 5.0]
    saddle, wrap = percolation.thresholds(e, np.argsort(e, axis=None), np.inf)
    assert abs(wrap[0, 2]) == 1 and wrap[0, 0] == 0 and wrap[0, 1] == 0
    assert np.unravel_index(saddle[0], e.shape) == (2, 2, 3)


def test_energy_cap_gives_no_percolation():
    e = np.full((4, 4, 4), 5.0)
    e[0, 0, 0] = 0.0
    saddle, _ = percolation.thresholds(e, np.argsort(e, axis=None), 2.0)
    assert (saddle == -1).all()


def test_loop_path_is_connected_and_bounded():
    rng = np.random.default_rng(7)
    e = rng.random((6, 7, 5))
    order = np.argsort(e, axis=None)
    saddle, wrap = percolation.thresholds(e, order, np.inf)
    for d in range(3):
        thr = e.flat[saddle[d]]
        vox, sh = percolation.loop_path(e, saddle[d], thr, wrap[:max(d, 1)].astype(np.int64), d)
        assert vox[0] == saddle[d] == vox[-1]
        assert e.ravel()[vox].max() == thr
        ijk = np.stack(np.unravel_index(vox, e.shape), axis=1) + sh * np.array(e.shape)
        steps = np.abs(np.diff(ijk, axis=0))
        assert steps.max() == 1 and (steps.sum(axis=1) > 0).all()  # 26-neighbour hops, unwrapped
        loop = sh[-1] - sh[0]
        basis = wrap[:d]
        assert np.linalg.matrix_rank(np.vstack([basis, loop])) == d + 1  # adds a new direction


def test_local_minima_periodic():
    e = np.ones((5, 5, 5))
    e[0, 0, 0] = 0.2
    e[4, 4, 4] = 0.1  # neighbours (0,0,0) through the periodic corner
    e[2, 2, 2] = 0.5
    assert sorted(percolation.local_minima(e, np.inf).tolist()) == [np.ravel_multi_index((2, 2, 2), e.shape),
                                                                    np.ravel_multi_index((4, 4, 4), e.shape)]
