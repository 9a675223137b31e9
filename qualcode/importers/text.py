"""Plain-text and Markdown transcripts and notes (.txt, .md).

Also home of ``text_document``, which every text-bearing format (.docx, .pdf, .rtf,
.odt) uses to normalise its text and find speaker turns the same way.

>>> from pathlib import Path
>>> doc = parse_text(Path("w1.txt"), b"I: Hello?\\nR: Hi.\\n", ImportOptions())[0]
>>> doc.encoding, [(t.speaker, doc.text[t.start:t.end]) for t in doc.turns]
('utf-8', [('I', 'Hello?'), ('R', 'Hi.')])
"""

from __future__ import annotations

from pathlib import Path

from qualcode.errors import ImportFailed
from qualcode.importers.base import ImportOptions, ParsedDocument, importer
from qualcode import turns
from qualcode.textnorm import decode_text, normalise_text


def text_document(
    path: Path,
    text: str,
    format: str,
    options: ImportOptions,
    encoding: str | None = None,
    attributes: dict[str, str] | None = None,
) -> ParsedDocument:
    """One document from extracted ``text``: normalised, with its speaker turns.

    ``options.interviewer_names`` (when the options carry it) marks named
    interviewers as well as the role labels.
    """
    text = normalise_text(text)
    if not text.strip():
        raise ImportFailed(
            path.name,
            "the file holds no text",
            "check it is the right file; if the text is in images, export it as text first",
        )
    names = options.interviewer_names
    return ParsedDocument(
        name=path.name,
        text=text,
        format=format,
        turns=turns.detect_turns(text, names),
        attributes=dict(attributes or {}),
        source_type=options.source_type,
        encoding=encoding,
    )


@importer(".txt", ".md", ".markdown", ".text")
def parse_text(path: Path, data: bytes, options: ImportOptions) -> list[ParsedDocument]:
    """A text file as one document; Markdown is kept as written (not rendered)."""
    text, encoding = decode_text(data, path.name)
    fmt = "md" if path.suffix.lower() in (".md", ".markdown") else "txt"
    return [text_document(path, text, fmt, options, encoding=encoding)]
