"""Speed of the potential layer and property networks: structures per second.

python benchmarks/potentials_speed.py [--n 16] [--backends chgnet,sevenn] [--device cpu]

Rows: single points one by one vs batched (CHGNet batches graphs), per backend, at two cell sizes
(SrTiO3 5 atoms and its 2x2x2 supercell, 40 atoms, both rattled); one relaxation; property-network inference
per architecture (default size). The peer in each pair is measured in the same run; ratio = batched/one-by-one.
"""
from __future__ import annotations

import argparse
import time
import warnings

warnings.filterwarnings("ignore")


def _rate(fn, n: int) -> float:
    fn()  # warm-up
    t = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=16, help="structures per measurement")
    ap.add_argument("--backends", default="chgnet,sevenn")
    ap.add_argument("--archs", default="cgcnn,megnet,m3gnet,alignn")
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args(argv)

    from perovscreen.ml.gnn.models import PropertyNet
    from perovscreen.potentials.tasks import relax, single_point, single_points
    from perovscreen.structures.examples import get_example

    base = get_example("SrTiO3")
    sizes = {"5 atoms": base, "40 atoms": base * (2, 2, 2)}
    rows = []
    for label, s0 in sizes.items():
        structs = []
        for i in range(a.n):
            s = s0.copy()
            s.perturb(0.03, min_distance=0.0)
            structs.append(s)
        for be in a.backends.split(","):
            one = _rate(lambda: [single_point(s, be, device=a.device) for s in structs], a.n)
            rows.append((f"{be} single point, one by one", label, one, 1.0))
            if be == "chgnet":
                bat = _rate(lambda: single_points(structs, be, batch_size=a.n, device=a.device), a.n)
                rows.append((f"{be} single point, batched", label, bat, bat / one))
        t = time.perf_counter()
        r = relax(structs[0], "chgnet", fmax=0.05, steps=200, device=a.device)
        rows.append((f"chgnet relaxation ({r.steps} steps)", label, 1 / (time.perf_counter() - t), float("nan")))
        for arch in a.archs.split(","):
            net = PropertyNet(arch, "default").eval()
            import torch

            def infer():
                with torch.no_grad():
                    net(net.collate([net.featurize(s) for s in structs]))

            rows.append((f"{arch} property inference (graphs incl.)", label, _rate(infer, a.n), float("nan")))
    print(f"{'task':48s} {'cell':>9s} {'struct/s':>10s} {'ratio':>7s}")
    for name, label, rate, ratio in rows:
        print(f"{name:48s} {label:>9s} {rate:10.2f} {ratio:7.2f}")


if __name__ == "__main__":
    main()
