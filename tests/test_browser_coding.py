"""Hand coding in JupyterLab, end to end in headless Chromium, as a researcher would do it.

A notebook (written here, calling the package as notebook 03 does) builds a project from
the demo corpus and shows the document browser and the review widget. Playwright then
selects a passage with the mouse, codes it from the palette by keyboard, and the test
reads the project and finds a coding at exactly the selected offsets; it clicks that
coding's stripe, moves its end, writes a memo, reviews two suggestions by keyboard,
saves, shuts the kernel down and reopens the notebook: the widgets show their last view
from the saved widget state, with no "Error displaying widget". A second notebook shows
a 20,000-word transcript with 500 codings and the browser's own time to first render is
recorded in ``out/screenshots/browser_render.json``. On the way the coded passage is
retrieved as one of its code's passages and selected again from that list. Screenshots go to ``out/screenshots/``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

import nbformat
import pytest

from qualcode import Project
from qualcode.memos import list_memos
from test_browser import (CHROMIUM, CHROMIUM_ARGS, REPO, SCREENSHOTS, _accept_kernel_dialog, _cells_done,
                          _free_port, _wait_for_server)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")]

DOC = "W1_SW01_social_worker.txt"
SETUP = '''\
from qualcode import NewCoding, Project
from qualcode.codebook import parse_codebook
from qualcode.codebook_sync import load_into_project
from qualcode.corpus import import_paths
from qualcode.demo import CODEBOOKS, CORPUS
from qualcode.widgets import DocumentBrowser, ReviewWidget

project = Project.create("coding.qc")
import_paths(project, [CORPUS / "interviews" / "W1_SW01_social_worker.txt",
                       CORPUS / "interviews" / "W1_FAM01_parent.txt"], attributes=CORPUS / "attributes.csv")
source = (CODEBOOKS / "evaluation_framework.yaml").read_text(encoding="utf-8")
load_into_project(project, parse_codebook(source, "evaluation_framework.yaml"), source)
doc = project.document_id("W1_SW01_social_worker.txt")
answers = project.turns(doc).query("not is_interviewer")
late = answers.iloc[6]
project.add_codings([
    NewCoding(doc, int(late.start), int(late.end), "enabler", "rules", status="suggested", confidence=0.62,
              method="rules:lemma", explanation="lemma match 'support'"),
    NewCoding(doc, int(late.start), int(late.end), "barrier", "rules", status="suggested", confidence=0.55,
              method="rules:lemma", explanation="lemma match 'pressure'"),
])
'''
PERF_SETUP = '''\
import random
from qualcode import NewCoding, Project
from qualcode.codebook import parse_codebook
from qualcode.codebook_sync import load_into_project
from qualcode.corpus import import_paths
from qualcode.demo import CODEBOOKS, CORPUS
from qualcode.widgets import DocumentBrowser

# A long interview: the demo social worker's answers, in new orders, to 20,000 words.
base = (CORPUS / "interviews" / "W1_SW01_social_worker.txt").read_text(encoding="utf-8")
answers = [line.split(": ", 1)[1] for line in base.splitlines() if line.startswith("Respondent: ")]
rng = random.Random(7)
parts, words, n = ["Interview: SW99, Wave 2\\n"], 0, 0
while words < 20_000:
    n += 1
    answer = " ".join(rng.sample(answers, 2))
    parts.append(f"Interviewer: Question {n}: can you say more about that?\\n\\nRespondent: {answer}\\n")
    words += len(answer.split()) + 7
with open("long_interview.txt", "w", encoding="utf-8") as fh:
    fh.write("\\n".join(parts))
project = Project.create("long.qc")
import_paths(project, ["long_interview.txt"])
source = (CODEBOOKS / "evaluation_framework.yaml").read_text(encoding="utf-8")
load_into_project(project, parse_codebook(source, "evaluation_framework.yaml"), source)
doc = project.document_id("long_interview.txt")
turns = project.turns(doc).query("not is_interviewer")
codes = list(project.codes()["key"])[:24]
picks = turns.sample(500, replace=True, random_state=3)
project.add_codings(NewCoding(doc, int(t.start), int(t.end), codes[i % len(codes)], f"coder{i % 3}")
                    for i, t in enumerate(picks.itertuples()))
words, len(project.codings())
'''


def _notebook(path: Path, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(nb, path)


def _run_all(page, timeout_s: int = 240) -> None:
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
    _accept_kernel_dialog(page)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
    for _ in range(timeout_s * 2):
        state = _cells_done(page)
        if state["done"] == state["cells"] and not state["busy"]:
            break
        page.wait_for_timeout(500)
    assert page.locator(".jp-OutputArea-output:has-text('Traceback')").count() == 0, "a cell failed"


def _dismiss_news(page) -> None:
    """JupyterLab asks once whether to fetch news; say no, so screenshots show the widgets."""
    button = page.locator(".jp-toast-button:has-text('No'), .jp-Notification-Toast button:has-text('No')")
    if button.count():
        button.first.click()


def _selection_geometry(page) -> dict:
    """Screen points of a passage of words in the third answer of the browser's text."""
    return page.evaluate("""() => {
        const root = document.querySelector('.qc-browser .qc-text');
        const block = [...root.querySelectorAll('.qc-block.qc-turn:not(.qc-interviewer)')][2];
        const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
        let node, best = null;
        while ((node = walker.nextNode())) if (!best || node.data.length > best.data.length) best = node;
        const spaces = [...best.data.matchAll(/ /g)].map(m => m.index);
        const s = spaces[3] + 1, e = spaces[10];
        const rect = (i) => { const r = document.createRange(); r.setStart(best, i); r.setEnd(best, i + 1);
                              return r.getClientRects()[0]; };
        const a = rect(s), b = rect(e - 1);
        return {x1: a.left + 1, y1: a.top + a.height / 2, x2: b.right - 1, y2: b.top + b.height / 2};
    }""")


def _watch_selection(page) -> None:
    """Record the last selection made in the browser's text, as code-point offsets and its text
    (the palette takes the focus, and with it the selection, as soon as the mouse is up)."""
    page.evaluate("""() => {
        document.addEventListener('selectionchange', () => {
            const sel = getSelection(), root = document.querySelector('.qc-browser .qc-text');
            if (!sel.rangeCount || sel.isCollapsed || !root.contains(sel.anchorNode)) return;
            const r = document.createRange(); r.setStart(root, 0);
            r.setEnd(sel.anchorNode, sel.anchorOffset); const a = [...r.toString()].length;
            r.setEnd(sel.focusNode, sel.focusOffset); const b = [...r.toString()].length;
            window.__qcSelection = {start: Math.min(a, b), end: Math.max(a, b), text: sel.toString()};
        });
    }""")


def _selected_offsets(page) -> dict:
    return page.evaluate("() => window.__qcSelection")


def _shut_down_kernels(base: str, token: str) -> None:
    with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=10) as response:
        sessions = json.loads(response.read())
    for session in sessions:
        request = urllib.request.Request(f"{base}/api/sessions/{session['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request, timeout=20).close()


def test_code_by_hand_in_jupyterlab(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    root = tmp_path / "work"
    root.mkdir()
    _notebook(root / "coding.ipynb", [SETUP, 'browser = DocumentBrowser(project, "W1_SW01_social_worker.txt", '
                                              'coder="researcher_a")\nbrowser',
                                      'ReviewWidget(project, reviewer="researcher_a", method="rules:lemma")',
                                      'from qualcode.widgets import AttributeSheet, CodebookBrowser\n'
                                      'CodebookBrowser(project, author="researcher_a")',
                                      'AttributeSheet(project)'])
    _notebook(root / "long.ipynb", [PERF_SETUP, 'DocumentBrowser(project, "long_interview.txt", coder="researcher_a")'])
    overrides = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.d" / "qualcode-widgets.json"
    assert overrides.exists(), "make install puts the JupyterLab setting that saves widget state in place"
    port, token = _free_port(), secrets.token_hex(16)
    log = tmp_path / "jupyterlab.log"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws")}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
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
                page.goto(f"{base}/lab/tree/coding.ipynb?token={token}", timeout=60_000)
                _run_all(page)
                _dismiss_news(page)
                widget = page.locator(".qc-browser").first
                widget.locator(".qc-stripe").first.wait_for(timeout=60_000)
                widget.scroll_into_view_if_needed()

                # 1. select a passage with the mouse and code it from the palette by keyboard
                box = _selection_geometry(page)
                _watch_selection(page)
                page.mouse.move(box["x1"], box["y1"])
                page.mouse.down()
                page.mouse.move(box["x2"], box["y2"], steps=8)
                page.mouse.up()
                chosen = _selected_offsets(page)
                search = page.locator(".qc-palette:not([hidden]) .qc-palette-search")
                search.wait_for(timeout=10_000)
                search.type("lesson")
                code = page.locator(".qc-palette .qc-palette-item.qc-active").get_attribute("data-code")
                page.screenshot(path=str(SCREENSHOTS / "coding_palette.png"))
                search.press("Enter")
                page.locator(".qc-browser .qc-message:has-text('Coded [')").wait_for(timeout=30_000)
                with Project.open(root / "coding.qc") as project:
                    text = project.text(DOC)
                    mine = project.codings(coder="researcher_a")
                hit = mine[(mine["start"] == chosen["start"]) & (mine["end"] == chosen["end"]) & (mine["code"] == code)]
                assert len(hit) == 1, f"no coding at the selected offsets {chosen}: {mine[['start', 'end', 'code']]}"
                assert text[chosen["start"]:chosen["end"]] == chosen["text"] == hit["snippet"].iloc[0]
                coding_id = int(hit["id"].iloc[0])

                # 2. hover and click its stripe, move its end one word on, write a memo
                stripe = page.locator(f".qc-browser .qc-stripe[data-coding='{coding_id}']")
                stripe.hover()
                tooltip = page.locator(".qc-browser .qc-tooltip")
                tooltip.wait_for(state="visible", timeout=5_000)
                assert "researcher_a" in tooltip.inner_text() and "accepted" in tooltip.inner_text()
                stripe.click()
                panel = page.locator(".qc-browser .qc-panel:not([hidden])")
                panel.wait_for(timeout=10_000)
                assert page.evaluate("() => getSelection().toString()") == chosen["text"]
                page.screenshot(path=str(SCREENSHOTS / "coding_stripe_panel.png"))
                new_end = re.search(r"\w+", text[chosen["end"]:]).end() + chosen["end"]
                panel.locator(".qc-end").fill(str(new_end))
                panel.locator(".qc-move").click()
                page.locator(".qc-browser .qc-message:has-text('now spans')").wait_for(timeout=30_000)
                page.locator(".qc-browser .qc-panel:not([hidden]) .qc-memo").fill("Lesson: start group supervision early.")
                page.locator(".qc-browser .qc-panel:not([hidden]) .qc-save-memo").click()
                page.locator(".qc-browser .qc-message:has-text('Memo saved')").wait_for(timeout=30_000)
                with Project.open(root / "coding.qc") as project:
                    row = project.codings().set_index("id").loc[coding_id]
                    notes = list_memos(project, coding=coding_id)
                assert (row["start"], row["end"]) == (chosen["start"], new_end)
                assert list(notes["text"]) == ["Lesson: start group supervision early."]
                assert list(notes["author"]) == ["researcher_a"]

                # the coding is retrieved as a passage of its code; clicking it selects it again
                page.locator(".qc-browser .qc-panel:not([hidden]) .qc-close").click()
                page.locator(".qc-browser .qc-find-a").select_option(code)
                page.locator(".qc-browser .qc-find").click()
                result = page.locator(f".qc-browser .qc-result[data-coding='{coding_id}']")
                result.wait_for(timeout=30_000)
                assert "Social Worker" in result.inner_text() and "Wave 1" in result.inner_text()
                result.click()
                page.locator(f".qc-browser .qc-panel:not([hidden]):has-text('coding {coding_id}')").wait_for(timeout=30_000)
                page.screenshot(path=str(SCREENSHOTS / "coding_retrieved.png"))

                # 3. review two suggestions by keyboard
                card = page.locator(".qc-review .qc-r-card")
                card.scroll_into_view_if_needed()
                card.click()
                page.keyboard.press("a")
                page.locator(".qc-review .qc-r-progress:has-text('1 accepted')").wait_for(timeout=30_000)
                card.click()
                page.keyboard.press("r")
                page.locator(".qc-review .qc-r-progress:has-text('1 rejected')").wait_for(timeout=30_000)
                page.screenshot(path=str(SCREENSHOTS / "coding_review_done.png"))
                with Project.open(root / "coding.qc") as project:
                    rules = project.codings(coder="rules")
                    events = project.coding_events()
                assert sorted(rules["status"]) == ["accepted", "rejected"]
                decided = events[events["action"].isin(["accept", "reject"])]
                assert set(decided["actor"]) == {"researcher_a"} and len(decided) == 2

                # the codebook browser and the attribute sheet draw too
                assert page.locator(".qc-codebook .qc-cb-item").count() > 20
                assert page.locator(".qc-sheet input[data-key='role']").count() == 2

                # 4. save, stop the kernel, reopen: the last view, no widget error
                page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
                page.keyboard.press("Control+s")
                page.wait_for_timeout(2000)
                saved = json.loads((root / "coding.ipynb").read_text(encoding="utf-8"))
                assert "application/vnd.jupyter.widget-state+json" in saved["metadata"].get("widgets", {}), \
                    "JupyterLab did not save the widget state with the notebook"
                _shut_down_kernels(base, token)
                page.reload()
                page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
                _accept_kernel_dialog(page)
                page.locator(".qc-browser .qc-stripe").first.wait_for(timeout=60_000)
                page.wait_for_timeout(1500)
                page.locator(".qc-browser").first.scroll_into_view_if_needed()
                page.screenshot(path=str(SCREENSHOTS / "coding_reopened.png"))
                assert page.locator("text=Error displaying widget").count() == 0
                assert page.locator(f".qc-browser .qc-stripe[data-coding='{coding_id}']").count() == 1
                assert page.locator(".qc-review .qc-r-progress:has-text('1 rejected')").count() == 1

                # 5. a 20,000-word transcript with 500 codings: the browser's time to first render
                page.goto(f"{base}/lab/tree/long.ipynb?reset&token={token}", timeout=60_000)
                _run_all(page)
                long_view = page.locator(".qc-browser[data-render-ms]").first
                long_view.wait_for(timeout=60_000)
                render_ms = float(long_view.get_attribute("data-render-ms"))
                stripes = page.locator(".qc-browser .qc-stripe").count()
                long_view.scroll_into_view_if_needed()
                page.screenshot(path=str(SCREENSHOTS / "coding_long_transcript.png"))
                (SCREENSHOTS / "browser_render.json").write_text(json.dumps(
                    {"words": 20_000, "codings": stripes, "first_render_ms": render_ms}, indent=2))
                assert stripes == 500
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
