"""End to end as a researcher would: JupyterLab in headless Chromium runs the first notebook.

Starts JupyterLab on a free localhost port with a known token, serving a temp copy of
``notebooks/``; opens ``01_import.ipynb`` in Debian's Chromium driven by Playwright (never
``playwright install``: nothing is downloaded); runs every cell from the Run menu; waits
until every cell has run; saves the notebook and checks it holds no error output; and
saves screenshots to ``out/screenshots/``. Skipped, with the reason, where Chromium or
Playwright is missing.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "01_import.ipynb"
SCREENSHOTS = REPO / "out" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START = 90  # seconds
RUN_ALL = 240  # seconds for every cell of the notebook to finish

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium); "
                                                         ".ci/run installs it so CI runs this test")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_server(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {SERVER_START} s:\n{log.read_text()[-3000:]}")


def _accept_kernel_dialog(page) -> None:
    """A fresh JupyterLab may ask which kernel to start; take the one the notebook names."""
    try:
        page.wait_for_selector(".jp-Dialog button:has-text('Select')", timeout=15_000)
    except Exception:  # no dialog: the kernel started by itself
        return
    page.click(".jp-Dialog button:has-text('Select')")


def _cells_done(page) -> dict:
    """Code cells in the notebook, and how many show an execution count (not ``[*]`` or ``[ ]``)."""
    return page.evaluate("""() => {
        const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')];
        const text = prompts.map(p => p.textContent.trim());
        return {cells: text.length, done: text.filter(t => /^\\[\\d+\\]:$/.test(t)).length,
                busy: text.filter(t => t.includes('*')).length};
    }""")


def test_first_notebook_runs_in_jupyterlab(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    root = tmp_path / "notebooks"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns("out", ".ipynb_checkpoints"))
    port, token = _free_port(), secrets.token_hex(16)
    log = tmp_path / "jupyterlab.log"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws")}
    with open(log, "w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
             "--LabApp.extension_manager=readonly", "--LabApp.news_url=",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
             *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_server(f"{base}/api/status?token={token}", server, log)
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}", timeout=60_000)
                page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
                _accept_kernel_dialog(page)
                page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
                page.click(".lm-MenuBar-itemLabel:text-is('Run')")
                page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
                deadline = time.monotonic() + RUN_ALL
                state = _cells_done(page)
                while (state["done"] < state["cells"] or state["busy"]) and time.monotonic() < deadline:
                    page.wait_for_timeout(500)
                    state = _cells_done(page)
                page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=30_000)
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / "01_import_end.png"))
                viewer = page.locator(".jp-OutputArea-output .qc-browser .qc-text").first
                viewer.scroll_into_view_if_needed(timeout=30_000)
                page.screenshot(path=str(SCREENSHOTS / "01_import_viewer.png"))
                assert state["cells"] > 0 and state["done"] == state["cells"], f"cells not all run: {state}"
                shown_errors = page.locator(".jp-OutputArea-output:has-text('Traceback')").count()
                assert shown_errors == 0, "an error output is shown; see out/screenshots/01_import_end.png"
                page.keyboard.press("Control+s")
                page.wait_for_timeout(1500)
            finally:
                browser.close()
        saved = json.loads((root / NOTEBOOK).read_text(encoding="utf-8"))
        outputs = [o for c in saved["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
        assert outputs, "the saved notebook has no outputs: Save did not happen or the cells did not run"
        errors = [o for o in outputs if o["output_type"] == "error"]
        assert not errors, errors[0]["ename"] + ": " + errors[0]["evalue"] if errors else ""
        assert (root / "out" / "01_import" / "eval.qc").exists()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
