"""The main job: the whole funnel on the built-in examples plus a small enumerated perovskite space."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from perovscreen.pipeline.config import load_config
from perovscreen.pipeline.funnel import run_screen
from perovscreen.report.report import write_report
from perovscreen.structures.examples import write_examples

DATA = Path(__file__).resolve().parent.parent / "pipeline" / "data"
DEMO_MODELS = ["Li3OCl_Li_rich"]  # structures.examples.MODELS the demo screens too ([md] ids in demo.toml)


def run_demo(out: str | Path = "results", jobs: int = 2, config: str | Path | None = None) -> int:
    out = Path(out)
    t0 = time.perf_counter()
    cfg = load_config(config or DATA / "demo.toml")
    cfg["run"]["out"] = str(out)
    cfg["run"]["jobs"] = jobs
    # the built-in examples plus the Li-rich antiperovskite defect model (the demo's MD runs on Li3OCl)
    paths = write_examples(out / "examples") + write_examples(out / "examples", DEMO_MODELS)
    res = run_screen([str(p) for p in paths], DATA / "demo_space.yaml", cfg)
    report = write_report(res)
    text = report.read_text()
    i = text.find("## Graph-network properties")
    if i >= 0:  # the shipped graph networks' predictions, on stdout as well
        print(text[i:text.find("\n## ", i + 3)].strip())
    print(f"demo: {len(res.ranked)} candidates ranked, report {report} ({time.perf_counter() - t0:.0f} s)",
          file=sys.stderr)
    return 0
