"""Dashboard speed: P(non-dominated) for 10^4 candidates x 1000 draws (2 and 3 objectives), loading a
10^4-candidate store, and building the first page server-side.

    .venv/bin/python benchmarks/dashboard_speed.py
(the browser-side first-page time is measured by tests/dashboard/test_dashboard_browser.py, printed with -s)
"""
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "dashboard"))

from perovscreen.dashboard.pareto import prob_non_dominated  # noqa: E402


def main():
    rng = np.random.default_rng(0)
    n = 10_000
    for m in (2, 3):
        v = rng.normal(size=(n, m))
        t0 = time.perf_counter()
        p = prob_non_dominated(v, v - 0.3, v + 0.3, np.full((n, m), 0.9), [True] + [False] * (m - 1), draws=1000)
        print(f"P(non-dominated) 10^4 x 1000 draws, {m} objectives: {time.perf_counter() - t0:.2f} s "
              f"({int((p > 0).sum())} candidates with P > 0)")
    from synthetic import synthetic_store

    from perovscreen.dashboard.app import create_app, main_page

    with tempfile.TemporaryDirectory() as d:
        db = synthetic_store(Path(d) / "perovscreen.db")
        t0 = time.perf_counter()
        app = create_app(db)
        print(f"load 10^4-candidate store + warm P(non-dominated): {time.perf_counter() - t0:.2f} s")
        t0 = time.perf_counter()
        main_page(app.state)
        print(f"first page layout (server side): {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
