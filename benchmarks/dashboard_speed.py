"""Dashboard speed: P(non-dominated) for 10^4 candidates x 1000 draws (2 and 3 objectives), loading a
10^4-candidate store, building the first page server-side, and the first page in a real browser, cold
(server just started, empty browser cache: first navigation until the table and the Pareto plot are drawn),
with where the time went (each request: start, end, bytes).

    .venv/bin/python benchmarks/dashboard_speed.py [--browser-only] [--repeat 3]
(the browser part needs Debian chromium at /usr/bin/chromium and the playwright package; it is skipped without)
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "dashboard"))

from perovscreen.dashboard.pareto import prob_non_dominated  # noqa: E402

# the first page is drawn when a table cell and the Pareto plot's colour bar are in the page
READY = ("#cand-table td[data-dash-column='id']", "#pareto-graph .colorbar")


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def server_side(db):
    from perovscreen.dashboard.app import create_app, main_page

    t0 = time.perf_counter()
    app = create_app(db)
    print(f"load 10^4-candidate store + warm P(non-dominated) and rows: {time.perf_counter() - t0:.2f} s ({load()})")
    t0 = time.perf_counter()
    main_page(app.state)
    print(f"first page layout (server side): {time.perf_counter() - t0:.3f} s")


def first_page(browser, url: str) -> tuple[float, list]:
    """Seconds from navigation to the drawn first page in a fresh context (empty cache), and the requests."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    t0 = time.perf_counter()
    page.goto(url + "/")
    page.wait_for_selector(READY[0], timeout=60000)
    page.wait_for_selector(READY[1], state="attached", timeout=60000)
    dt = time.perf_counter() - t0
    entries = page.evaluate("""() => performance.getEntriesByType('resource').map(e => ({
        name: e.name.replace(location.origin, ''), start: e.startTime, end: e.responseEnd,
        bytes: e.encodedBodySize}))""")
    nav = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0];"
                        " return {start: 0, end: n.responseEnd, bytes: n.encodedBodySize, name: '(page)'} }")
    ctx.close()
    return dt, [nav, *entries]


def browser_side(db, repeat: int):
    from conftest import ARGS, CHROMIUM, start_server, stop_server

    if not Path(CHROMIUM).exists():
        print(f"browser first page: skipped ({CHROMIUM} not installed)")
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for k in range(repeat):
                t0 = time.perf_counter()
                proc, url = start_server(db)
                up = time.perf_counter() - t0
                try:
                    dt, reqs = first_page(browser, url)
                finally:
                    stop_server(proc)
                print(f"browser first page, 10^4 candidates, cold (server up in {up:.1f} s): {dt:.2f} s ({load()})")
                if k == 0:
                    for r in sorted(reqs, key=lambda r: r["start"]):
                        print(f"    {r['start']:7.0f} -> {r['end']:7.0f} ms {r['bytes'] / 1024:8.1f} KiB  "
                              f"{r['name'][:90]}")
        finally:
            browser.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--browser-only", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not args.browser_only:
        rng = np.random.default_rng(0)
        n = 10_000
        for m in (2, 3):
            v = rng.normal(size=(n, m))
            t0 = time.perf_counter()
            p = prob_non_dominated(v, v - 0.3, v + 0.3, np.full((n, m), 0.9), [True] + [False] * (m - 1),
                                   draws=1000)
            print(f"P(non-dominated) 10^4 x 1000 draws, {m} objectives: {time.perf_counter() - t0:.2f} s "
                  f"({int((p > 0).sum())} candidates with P > 0) ({load()})")
    from synthetic import synthetic_store

    with tempfile.TemporaryDirectory() as d:
        db = synthetic_store(Path(d) / "perovscreen.db")
        if not args.browser_only:
            server_side(db)
        browser_side(db, args.repeat)


if __name__ == "__main__":
    main()
