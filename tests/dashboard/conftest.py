"""Session fixtures: a tiny composition model, a small real funnel run (results folder), Debian Chromium
(installed with apt-get when missing and root, else the browser tests skip) and a dashboard server in a
subprocess on a free port, stopped by PID at the end."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from servers import start_server, stop_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTEFACTS = Path(__file__).resolve().parent / "artefacts"


@pytest.fixture(scope="session")
def results(tmp_path_factory, tiny_ml_model):
    """A results folder from the real funnel (BVSE + ML; stability and MD off for speed); inputs inside it."""
    from pymatgen.io.cif import CifWriter

    from perovscreen.pipeline.config import validate_config
    from perovscreen.pipeline.funnel import run_screen
    from perovscreen.structures.examples import get_example

    out = tmp_path_factory.mktemp("results")
    inp = out / "in"
    inp.mkdir()
    for n in ("Li3OCl", "LLTO_ordered", "LiNbO3", "LiTaO3", "SrTiO3"):
        CifWriter(get_example(n)).write_file(inp / f"{n}.cif")
    cfg = validate_config({"run": {"out": str(out), "jobs": 1, "executor": "serial"},
                           "bvse": {"resolution": 0.4}, "ml": {"model_path": str(tiny_ml_model)},
                           "stability": {"enabled": False}, "md": {"enabled": False},
                           "mesoscale": {"enabled": False}})
    run_screen([inp], None, cfg)
    return out


def _install_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.geteuid() != 0:
        pytest.skip("chromium is not installed and the tests are not root (apt-get install chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    if subprocess.run(cmd, capture_output=True, env=env, timeout=900).returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, env=env, timeout=900)
        subprocess.run(cmd, capture_output=True, env=env, timeout=900)
    if not Path(CHROMIUM).exists():
        pytest.skip("could not install Debian chromium")


@pytest.fixture(scope="session")
def browser():
    _install_chromium()
    pw = pytest.importorskip("playwright.sync_api")
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    """A fresh browser context (empty cache) and page."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    yield pg
    ctx.close()


@pytest.fixture(scope="session")
def server(results, tiny_ml_model):
    proc, url = start_server(results / "perovscreen.db", "--model", str(tiny_ml_model))
    yield url
    stop_server(proc)


@pytest.fixture(scope="session")
def artefacts():
    ARTEFACTS.mkdir(exist_ok=True)
    return ARTEFACTS


def have_chromium() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("apt-get") is not None
