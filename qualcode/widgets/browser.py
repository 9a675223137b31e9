"""The document browser: read a document, see its codings as margin stripes, code by selecting.

An anywidget: the front end (``static/browser.js``, a plain ES module shipped with the
package, no build step, no network) draws the text, the speaker turns (interviewer turns
greyed) and one stripe column per code, in each code's stored colour (``colours.py``).
Selecting text opens a searchable code palette (type to filter, arrows, Enter);
clicking a stripe selects its span and opens its panel (move start or end, write a
memo, recode, uncode); hovering a stripe shows code, coder, status and memo.

All logic stays in the package: the front end sends an action, this class calls
``handcoding``, ``memos`` or ``retrieval`` and sends the new state back, so the same
methods (``code``, ``adjust``, ``write_memo`` …) drive it from Python and tests.

Offsets: the front end counts characters in code points, as Python does, so a
selection containing an emoji is stored at the offsets Python sees.

>>> browser = DocumentBrowser(project, "W1_SW01_social_worker.txt", coder="sam")   # doctest: +SKIP
>>> browser                                                                       # doctest: +SKIP
"""

from __future__ import annotations

import html
from typing import Any

import anywidget
import sqlalchemy as sa
import traitlets as t

from .. import colours, handcoding, memos, retrieval, store
from ..errors import QualcodeError
from ..project import Project
from ..store import CODING_STATUSES
from .assets import STATIC, module
from .viewer import STYLE, Highlight, TurnBlock, _blocks, render_document_html


class DocumentBrowser(anywidget.AnyWidget):
    """One document with coding stripes, select-to-code, memos and filters.

    ``coder`` is the name your codings and memos are recorded under. ``code``,
    ``coder_filter`` and ``status`` filter the stripes (a code shows its descendants too).
    """

    _esm = module("browser.js")
    _css = STATIC / "browser.css"

    document = t.Unicode("").tag(sync=True)
    documents = t.List(t.Unicode()).tag(sync=True)
    text = t.Unicode("").tag(sync=True)
    blocks = t.List().tag(sync=True)  # [{start, end, speaker, interviewer, label_end}] covering the text
    codings = t.List().tag(sync=True)  # the codings that pass the filters
    codes = t.List().tag(sync=True)  # [{key, name, colour, parent, active}]
    coders = t.List(t.Unicode()).tag(sync=True)
    statuses = t.List(t.Unicode(), default_value=list(CODING_STATUSES)).tag(sync=True)
    coder = t.Unicode("").tag(sync=True)
    code_filter = t.Unicode("").tag(sync=True)
    coder_filter = t.Unicode("").tag(sync=True)
    status_filter = t.Unicode("").tag(sync=True)
    snap = t.Bool(False).tag(sync=True)  # exact offsets unless the researcher asks to snap
    selected = t.Int(0).tag(sync=True)  # the coding whose panel is open (0: none)
    document_memo = t.Unicode("").tag(sync=True)
    message = t.Unicode("").tag(sync=True)
    error = t.Bool(False).tag(sync=True)
    render_ms = t.Float(0.0).tag(sync=True)  # set by the front end: time to first full render
    segments = t.List().tag(sync=True)  # retrieved passages (coded segments or a coding query)
    segments_title = t.Unicode("").tag(sync=True)

    def __init__(self, project: Project, document: int | str | None = None, coder: str = "",
                 code: str = "", coder_filter: str = "", status: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.project = project
        self._batches: list[str] = []
        docs = project.documents()
        self.documents = [str(n) for n in docs["name"]]
        self.coder = coder
        self.code_filter, self.coder_filter, self.status_filter = code, coder_filter, status
        if document is None and self.documents:
            document = self.documents[0]
        self.on_msg(self._on_msg)
        self.observe(self._on_filter, names=["code_filter", "coder_filter", "status_filter"])
        self.observe(self._on_document, names=["document"])
        if document is not None:
            self.show(document)

    # -- reading ------------------------------------------------------------------------

    def show(self, document: int | str) -> None:
        """Show another document (name or id)."""
        doc_id = self.project.document_id(document)
        with self.project.engine.connect() as conn:
            name = conn.execute(sa.select(store.documents.c.name).where(store.documents.c.id == doc_id)).scalar_one()
        self._doc_id = doc_id
        text = self.project.text(doc_id)
        turns = [TurnBlock(int(r.start), int(r.end), str(r.speaker), bool(r.is_interviewer))
                 for r in self.project.turns(doc_id).itertuples(index=False)]
        self.blocks = [{"start": b.start, "end": b.end, "speaker": b.turn.speaker if b.turn else "",
                        "interviewer": bool(b.turn and b.turn.is_interviewer),
                        "label_end": b.bold_end or 0, "gap": b.turn is None and not text[b.start:b.end].strip()}
                       for b in _blocks(text, turns)]
        self.text = text
        self.unobserve(self._on_document, names=["document"])
        self.document = name
        self.observe(self._on_document, names=["document"])
        self.refresh()

    def _on_document(self, change: dict) -> None:
        self._act(lambda: self.show(change["new"]))

    def _on_filter(self, _change: dict) -> None:
        self._act(self.refresh)

    def refresh(self) -> None:
        """Read codes, codings and memos again (after coding elsewhere) and redraw."""
        colour = colours.code_colours(self.project)
        codes = self.project.codes(include_retired=True)
        self.codes = [{"key": k, "name": n, "colour": colour.get(k, "#888888"), "parent": p if isinstance(p, str) else "",
                       "active": s == "active"}
                      for k, n, p, s in zip(codes["key"], codes["name"], codes["parent_key"], codes["status"])]
        self.coders = [str(n) for n in self.project.coders()["name"]]
        keys = retrieval.descendants(self.project, self.code_filter) if self.code_filter else None
        frame = self.project.codings(document=self._doc_id, code=keys, coder=self.coder_filter or None,
                                     status=self.status_filter or None)
        notes = memos.list_memos(self.project, document=self._doc_id)
        by_coding = {int(r["coding_id"]): r for r in notes[notes["kind"] == "coding"].to_dict("records")}
        self.codings = [
            {"id": int(r.id), "start": int(r.start), "end": int(r.end), "code": r.code, "code_name": r.code_name,
             "coder": r.coder, "status": r.status, "method": r.method,
             "confidence": None if r.confidence != r.confidence or r.confidence is None else float(r.confidence),
             "memo": by_coding[int(r.id)]["text"] if int(r.id) in by_coding else "",
             "memo_id": int(by_coding[int(r.id)]["id"]) if int(r.id) in by_coding else 0}
            for r in frame.itertuples(index=False)
        ]
        doc_memos = notes[notes["kind"] == "document"]
        self.document_memo = str(doc_memos["text"].iloc[-1]) if not doc_memos.empty else ""

    # -- acting -------------------------------------------------------------------------

    def _act(self, action) -> Any:
        """Run an action; a qualcode error is shown in the widget (and nothing changed)."""
        try:
            result = action()
        except QualcodeError as exc:
            self.error, self.message = True, str(exc)
            return None
        self.error = False
        return result

    def _done(self, result: handcoding.HandResult, words: str) -> handcoding.HandResult:
        self._batches.append(result.batch)
        self.refresh()
        self.message = words
        return result

    def code(self, start: int, end: int, code: str, end_document: str | None = None) -> handcoding.HandResult | None:
        """Code ``[start, end)`` of the shown document with ``code`` (snapped to words if ``snap``)."""
        def run():
            result = handcoding.code_selection(self.project, self._doc_id, start, end, code, by=self._who(),
                                               snap=self.snap, end_document=end_document)
            self.selected = result.ids[0]
            return self._done(result, f"Coded [{result.start}, {result.end}) as {code} (coding {result.ids[0]}).")
        return self._act(run)

    def code_in_vivo(self, start: int, end: int, parent: str | None = None) -> handcoding.HandResult | None:
        """Make a code named from the selected words (under ``parent``) and code the selection."""
        def run():
            result = handcoding.code_in_vivo(self.project, self._doc_id, start, end, parent=parent or None,
                                             by=self._who(), snap=True)
            self.selected = result.ids[0]
            return self._done(result, f"New code {result.code} coded at [{result.start}, {result.end}).")
        return self._act(run)

    def uncode(self, coding_id: int) -> handcoding.HandResult | None:
        """Remove a coding (undo puts it back)."""
        def run():
            result = handcoding.uncode(self.project, int(coding_id), by=self._who())
            self.selected = 0
            return self._done(result, f"Removed coding {coding_id}.")
        return self._act(run)

    def recode(self, coding_id: int, code: str) -> handcoding.HandResult | None:
        """Give a coding another code."""
        def run():
            result = handcoding.recode(self.project, int(coding_id), code, by=self._who())
            self.selected = result.ids[0] if result.ids else 0
            return self._done(result, f"Coding {coding_id} recoded as {code}.")
        return self._act(run)

    def adjust(self, coding_id: int, start: int | None = None, end: int | None = None) -> handcoding.HandResult | None:
        """Move a coding's start and/or end."""
        def run():
            result = handcoding.adjust(self.project, int(coding_id), start=start, end=end, by=self._who())
            return self._done(result, f"Coding {coding_id} now spans [{result.start}, {result.end}).")
        return self._act(run)

    def write_memo(self, text: str, coding_id: int | None = None) -> int | None:
        """Write (or replace) the memo on a coding, or on the shown document when no coding is given."""
        def run():
            if coding_id:
                old = next((c for c in self.codings if c["id"] == int(coding_id) and c["memo_id"]), None)
            else:
                notes = memos.list_memos(self.project, document=self._doc_id, kind="document")
                old = {"memo_id": int(notes["id"].iloc[-1])} if not notes.empty else None
            if old:
                memos.edit_memo(self.project, old["memo_id"], text)
                memo_id = old["memo_id"]
            elif coding_id:
                memo_id = memos.add_memo(self.project, text, coding=int(coding_id), author=self._who())
            else:
                memo_id = memos.add_memo(self.project, text, document=self._doc_id, author=self._who())
            self.refresh()
            self.message = f"Memo saved on {'coding ' + str(coding_id) if coding_id else 'the document'}."
            return memo_id
        return self._act(run)

    def undo(self) -> None:
        """Undo the last action taken in this browser."""
        def run():
            if not self._batches:
                self.message = "Nothing to undo."
                return
            batch = self._batches.pop()
            handcoding.undo(self.project, batch, by=self._who())
            self.selected = 0
            self.refresh()
            self.message = "Undone."
        self._act(run)

    def retrieve(self, code: str, other: str | None = None, how: str = "", within: int = 10):
        """List ``code``'s passages in every document, or a coding query with ``other``
        (``how`` = "and", "not" or "near" within ``within`` words); returns the DataFrame."""
        def run():
            if other and how:
                frame = retrieval.coding_query(self.project, code, other, how=how, within=int(within), context=1)
                title = f"{code} {'within ' + str(within) + ' words of' if how == 'near' else how.upper()} {other}"
            else:
                frame = retrieval.coded_segments(self.project, code)
                title = f"Passages coded {code} (and its descendants)"
            keep = ["coding_id", "document", "role", "wave", "speaker", "code", "start", "end", "before", "text",
                    "after"]
            self.segments = [{k: ("" if v is None or v != v else (int(v) if k in ("coding_id", "start", "end")
                                                                 else str(v))) for k, v in row.items()}
                             for row in frame[keep].astype(object).to_dict("records")]
            self.segments_title = f"{title}: {len(frame)} passage(s)"
            return frame
        return self._act(run)

    def jump(self, document: str, coding_id: int) -> None:
        """Show ``document`` with coding ``coding_id`` selected (from a retrieved passage)."""
        def run():
            if document != self.document:
                self.show(document)
            self.selected = int(coding_id)
        self._act(run)

    def set_colour(self, code: str, colour: str) -> None:
        """Give a code another colour (stored in the project)."""
        def run():
            colours.set_colour(self.project, code, colour)
            self.refresh()
        self._act(run)

    def _who(self) -> str:
        if not self.coder.strip():
            from ..errors import InputError
            raise InputError(self.project.location, "the browser has no coder name",
                             "open it as DocumentBrowser(project, document, coder='your name')")
        return self.coder.strip()

    def _on_msg(self, _widget, content: dict, _buffers) -> None:
        action = content.get("action")
        if action == "code":
            self.code(content["start"], content["end"], content["code"], content.get("end_document"))
        elif action == "invivo":
            self.code_in_vivo(content["start"], content["end"], content.get("parent"))
        elif action == "uncode":
            self.uncode(content["id"])
        elif action == "recode":
            self.recode(content["id"], content["code"])
        elif action == "adjust":
            self.adjust(content["id"], content.get("start"), content.get("end"))
        elif action == "memo":
            self.write_memo(content.get("text", ""), content.get("id"))
        elif action == "undo":
            self.undo()
        elif action == "retrieve":
            self.retrieve(content["code"], content.get("other") or None, content.get("how") or "",
                          content.get("within") or 10)
        elif action == "jump":
            self.jump(content["document"], content["id"])
        elif action == "colour":
            self.set_colour(content["code"], content["colour"])
        elif action == "error":  # a selection the front end could not map (e.g. out of the document)
            self.error, self.message = True, str(content.get("text", ""))

    # -- saved notebooks ----------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any):
        """The live widget, plus the last view as static HTML for viewers without widgets."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        data["text/html"] = self.static_html()
        return data, metadata

    def static_html(self) -> str:
        """The document and its shown codings as plain HTML (what a saved notebook shows elsewhere)."""
        colour = {c["key"]: c["colour"] for c in self.codes}
        highlights = [Highlight(c["id"], c["start"], c["end"], c["code"], c["code_name"], colour.get(c["code"], "#888888"),
                                c["coder"], c["status"]) for c in self.codings]
        turns = [TurnBlock(b["start"], b["end"], b["speaker"], b["interviewer"]) for b in self.blocks if b["speaker"]]
        return (f"<div><b>{html.escape(self.document)}</b> · {len(self.codings)} codings</div>"
                + STYLE + render_document_html(self.text, highlights, turns))
