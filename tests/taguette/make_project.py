"""Make a Taguette project database with Taguette itself (run by Taguette's own Python).

Taguette pins SQLAlchemy 1.4 and qualcode needs 2.x, so Taguette lives in its own
virtual environment (``make taguette`` puts it in ``.venv/taguette``) and the tests run
this script there. It does what Taguette's web handlers do when a researcher uploads
documents and highlights passages (``taguette/web/api.py``: ``DocumentAdd``,
``TagAdd``, ``HighlightAdd``): documents converted by ``taguette.convert``, tags, and
highlights whose snippet ``taguette.extract.extract`` cuts from the document's HTML at
UTF-8 byte offsets of its tag-stripped text, with a ``Command`` logged for each.

The offsets a browser would send are computed here the way Taguette's own
``extract.find_pos`` counts: bytes of the text nodes, tags not counted.

Usage: ``python make_project.py OUT.sqlite3 MANIFEST.json``
"""

from __future__ import annotations

import asyncio
import json
import sys

# Our own fictional material: an interview from a whole-family reform pilot.
INTERVIEW_HTML = """<html><head><meta charset="utf-8"><title>W2 SW04</title><style>p {color: red}</style></head><body>
<h2>Wave 2 interview – social worker (SW04)</h2>
<p><strong>Interviewer:</strong> How has the key worker role changed your week?</p>
<p><strong>SW04:</strong> Honestly? It&#8217;s the first time I&rsquo;ve felt I can <em>stay</em> with a family.
Before, we&nbsp;handed cases on after the assessment &amp; the family had to start again.</p>
<p><strong>Interviewer:</strong> What gets in the way?</p>
<p><strong>SW04:</strong> Recording. The case-management system still wants the same form three times 😩,
so Thursday afternoons go on admin instead of direct work.</p>
<ul><li>Group supervision on Mondays – really useful</li><li>Caseload down from 24 to 16</li></ul>
<p><strong>Interviewer:</strong> And for the families?</p>
<p><strong>SW04:</strong> The Nowak family said it was the first time nobody asked them to repeat their story. Café-style
drop-ins at the children&#39;s centre helped too.</p>
</body></html>"""

CAPTIONS_VTT = """WEBVTT

00:00:01.000 --> 00:00:05.500
Facilitator: Thanks for joining the partner focus group.

00:00:05.600 --> 00:00:11.000
Health visitor: Co-location made the biggest difference: I can walk over and ask.

00:00:11.200 --> 00:00:16.000
School nurse: We still don't hear about step-down decisions until weeks later.

00:00:16.500 --> 00:00:19.000
Facilitator: Is that the same for the health visitors?

00:00:19.200 --> 00:00:23.000
Health visitor: Mostly, yes &amp; it means we chase the social worker.
"""

TAGS = [
    ("enabler", "What made the change work."),
    ("barrier", "What got in the way."),
    ("impact.families", "Reported change for children and families."),
    ("activity.key_worker", ""),  # researchers often leave descriptions empty
]

# (document, phrase as a reader sees it, tags, who highlighted it)
HIGHLIGHTS = [
    ("W2_SW04.html", "It’s the first time I’ve felt I can stay with a family.", ["activity.key_worker", "enabler"], "ruth"),
    ("W2_SW04.html", "we handed cases on after the assessment & the family had to start again", ["barrier"], "ruth"),
    ("W2_SW04.html", "the same form three times 😩,\nso Thursday afternoons go on admin", ["barrier"], "sam"),
    ("W2_SW04.html", "Caseload down from 24 to 16", ["impact.families"], "sam"),
    ("W2_SW04.html", "nobody asked them to repeat their story", ["impact.families"], "ruth"),
    ("W2_SW04.html", "Café-style\ndrop-ins at the children's centre", ["enabler"], "sam"),
    ("partners_focus_group.vtt", "Co-location made the biggest difference", ["enabler"], "ruth"),
    ("partners_focus_group.vtt", "We still don't hear about step-down decisions", ["barrier"], "sam"),
]


def stripped_text(html: str) -> str:
    """The text nodes of ``html`` as Taguette's ``extract.find_pos`` walks them."""
    import bs4

    soup = bs4.BeautifulSoup(html, "html5lib")
    return "".join(str(s) for s in soup.find_all(string=True) if not isinstance(s, bs4.Comment))


def byte_span(html: str, phrase: str) -> tuple[int, int]:
    text = stripped_text(html)
    at = text.replace("\xa0", " ").index(phrase)  # a reader sees &nbsp; as a space; it is two bytes
    start = len(text[:at].encode("utf-8"))
    return start, start + len(text[at:at + len(phrase)].encode("utf-8"))


async def build(out: str, manifest_path: str) -> None:
    from taguette import convert, database, extract

    db = database.connect(f"sqlite:///{out}")()
    users = {login: database.User(login=login) for login in ("ruth", "sam")}
    db.add_all(users.values())
    project = database.Project(name="Whole-family pilot, wave 2",
                               description="Staff and partner interviews, wave 2.")
    db.add(project)
    db.flush()
    for login, privileges in (("ruth", database.Privileges.ADMIN), ("sam", database.Privileges.MANAGE_DOCS)):
        db.add(database.ProjectMember(project=project, user=users[login], privileges=privileges))
    documents = {}
    for filename, body, mime, description in (
            ("W2_SW04.html", INTERVIEW_HTML.encode("utf-8"), "text/html", "Wave 2, social worker, site North"),
            ("partners_focus_group.vtt", CAPTIONS_VTT.encode("utf-8"), "text/vtt", "")):
        contents = await convert.to_html_chunks(body, mime, filename, {})
        doc = database.Document(name=filename, description=description, filename=filename, project=project,
                                text_direction=database.TextDirection.LEFT_TO_RIGHT, contents=contents)
        db.add(doc)
        db.flush()
        db.add(database.Command.document_add("ruth", doc))
        documents[filename] = doc
    tags = {}
    for path, description in TAGS:
        tag = database.Tag(project=project, path=path, description=description)
        db.add(tag)
        db.flush()
        db.add(database.Command.tag_add("ruth", tag))
        tags[path] = tag
    manifest = []
    for filename, phrase, tag_paths, login in HIGHLIGHTS:
        doc = documents[filename]
        start, end = byte_span(doc.contents, phrase)
        snippet = extract.extract(doc.contents, start, end)  # what HighlightAdd stores
        highlight = database.Highlight(document=doc, start_offset=start, end_offset=end, snippet=snippet)
        db.add(highlight)
        db.flush()
        tag_ids = sorted(tags[p].id for p in tag_paths)
        db.execute(database.highlight_tags.insert(), [{"highlight_id": highlight.id, "tag_id": t} for t in tag_ids])
        db.add(database.Command.highlight_add(login, doc, highlight, tag_ids))
        manifest.append({"document": filename, "phrase": phrase, "tags": tag_paths, "user": login,
                         "start": start, "end": end, "snippet": snippet})
    db.commit()
    with open(manifest_path, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=1)


def main() -> None:
    asyncio.run(build(sys.argv[1], sys.argv[2]))


if __name__ == "__main__":
    main()
