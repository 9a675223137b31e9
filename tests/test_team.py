"""Team work on PostgreSQL: roles the database enforces, and people working at once.

Each test connects as each role (over the server's trusted socket) and shows what the
database refuses. Role names carry the test database's name, so tests run in parallel.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from qualcode import NewCoding, Project, review
from qualcode.errors import InputError, PermissionDenied, ProjectError
from qualcode.team.roles import ROLES, add_member, group_role, members
from test_learn_corpus import add_codes, add_document

REPO = Path(__file__).resolve().parents[1]
TEXT = ("We held group supervision every week and it helped. The caseloads were too high to visit "
        "the whole family. Dad said the key worker listened to him for the first time. ") * 3


class Team:
    """A project with codes, two documents, suggestions by 'rules', and four members."""

    def __init__(self, server, database: str):
        self.server, self.database = server, database
        self.lead_url = server.url(database)
        self.names = {who: f"{who}_{database}" for who in ("alex", "bea", "sam", "tom", "rita")}
        with Project.create(self.lead_url) as lead:
            add_codes(lead)
            self.docs = [add_document(lead, "W1_SW01", TEXT), add_document(lead, "W1_SW02", TEXT)]
            self.suggestions = lead.add_codings([
                NewCoding(self.docs[0], i * 20, i * 20 + 15, "supervision", "rules", status="suggested",
                          method="rule", confidence=0.9) for i in range(6)])
            for who, role in (("alex", "coder"), ("bea", "coder"), ("sam", "reviewer"), ("tom", "reviewer"),
                              ("rita", "reader")):
                add_member(lead, self.names[who], role)

    def url(self, who: str) -> str:
        return self.server.url(self.database, user=self.names[who])

    def open(self, who: str) -> Project:
        return Project.open(self.url(who))

    def drop(self) -> None:
        with self.server.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            for name in [*self.names.values(), *(group_role(self.database, r) for r in ROLES)]:
                conn.execute(f'DROP ROLE IF EXISTS "{name}"')


@pytest.fixture
def team(pg_server):
    team = Team(pg_server, pg_server.create_database())
    yield team
    team.drop()


def test_the_lead_sees_who_holds_which_role(team):
    with Project.open(team.lead_url) as lead:
        held = {m.name: m.role for m in members(lead)}
    assert held == {team.names["alex"]: "coder", team.names["bea"]: "coder", team.names["sam"]: "reviewer",
                    team.names["tom"]: "reviewer", team.names["rita"]: "reader"}


def test_a_coder_codes_under_their_own_name_only(team):
    alex = team.names["alex"]
    with team.open("alex") as project:
        [mine] = project.add_codings([NewCoding(team.docs[1], 0, 30, "supervision", alex)])
        assert project.coding_events(mine)["actor"].tolist() == [alex]
        with pytest.raises(PermissionDenied, match="row-level security"):
            project.add_codings([NewCoding(team.docs[1], 0, 30, "workload", team.names["bea"])])
        with pytest.raises(PermissionDenied, match="your role does not allow it"):
            review.accept(project, ids=team.suggestions[:1])  # the rules' suggestion is not theirs
        with pytest.raises(PermissionDenied):
            project.add_codings([NewCoding(team.docs[1], 0, 30, "workload", alex)], actor="sam")
    with team.open("bea") as project:
        with pytest.raises(PermissionDenied):  # bea may not change alex's coding
            review.reject(project, ids=[mine])
    with Project.open(team.lead_url) as lead:
        assert lead.codings(status="accepted")["coder"].tolist() == [alex]
        assert lead.codings(status="suggested")["id"].tolist() == team.suggestions


def test_a_reviewer_accepts_and_rejects_anyones_codings_under_their_login(team):
    sam = team.names["sam"]
    with team.open("sam") as project:
        accepted = review.accept(project, ids=team.suggestions[:3])
        review.reject(project, ids=team.suggestions[3:])
        assert accepted.by == sam
        with pytest.raises(PermissionDenied, match="permission denied for table codes"):
            with project.transaction() as conn:  # the codebook is the lead's
                conn.execute(sa.update(sa.table("codes", sa.column("name"))).values(name="Renamed"))
    with Project.open(team.lead_url) as lead:
        events = lead.coding_events()
    decisions = events[events["action"].isin(["accept", "reject"])]
    assert len(decisions) == 6 and set(decisions["actor"]) == {sam}


def test_a_reader_reads_and_changes_nothing(team):
    with team.open("rita") as project:
        assert len(project.codings()) == len(team.suggestions)
        assert len(project.documents()) == 2
        with pytest.raises(PermissionDenied, match="permission denied"):
            review.accept(project, ids=team.suggestions[:1])
        with pytest.raises(PermissionDenied, match="permission denied"):
            project.add_codings([NewCoding(team.docs[0], 0, 10, "supervision", team.names["rita"])])


def test_only_the_lead_grants_roles_and_only_on_postgresql(team, tmp_path):
    with team.open("sam") as project:
        with pytest.raises(PermissionDenied, match="only the project's lead"):
            add_member(project, f"zoe_{team.database}", "coder")
    with Project.open(team.lead_url) as lead:
        with pytest.raises(InputError, match="--role coder"):
            add_member(lead, "zoe", "admin")
        with pytest.raises(InputError, match="not a usable login name"):
            add_member(lead, "zoe; DROP TABLE codings", "coder")
    with Project.create(tmp_path / "solo.qc") as solo:
        with pytest.raises(ProjectError, match="qualcode copy"):
            add_member(solo, "alex", "coder")


def test_moving_a_member_to_another_role_takes_the_old_one_away(team):
    with Project.open(team.lead_url) as lead:
        add_member(lead, team.names["alex"], "reader")
        assert {m.name: m.role for m in members(lead)}[team.names["alex"]] == "reader"
    with team.open("alex") as project:
        with pytest.raises(PermissionDenied):
            project.add_codings([NewCoding(team.docs[1], 0, 30, "supervision", team.names["alex"])])


def test_cli_team_add_and_list(team):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "qualcode", *args], capture_output=True, text=True, cwd=REPO)

    zoe = f"zoe_{team.database}"
    team.names["zoe"] = zoe  # dropped with the others
    added = run("team", "add", team.lead_url, zoe, "--role", "reviewer", "--json")
    assert added.returncode == 0, added.stderr
    listed = json.loads(run("team", "list", team.lead_url, "--json").stdout)
    assert {"member": zoe, "role": "reviewer"} in listed
    refused = run("team", "add", team.url("alex"), f"x_{team.database}", "--role", "coder")
    assert refused.returncode == 1 and "only the project's lead" in refused.stderr


def _script(url: str, body: str) -> list[str]:
    code = "from qualcode import Project, NewCoding, review\n" + f"project = Project.open({url!r})\n" + body
    return [sys.executable, "-c", textwrap.dedent(code)]


def test_two_reviewers_deciding_one_suggestion_at_once(team):
    """Both processes are held at the row until the test lets go, so they truly collide."""
    target = team.suggestions[0]
    with team.server.admin(team.database) as holder:
        holder.autocommit = False
        holder.execute("SELECT id FROM codings WHERE id = %s FOR UPDATE", (target,))
        sam = subprocess.Popen(_script(team.url("sam"), f"review.accept(project, ids=[{target}])\n"),
                               stderr=subprocess.PIPE, text=True)
        tom = subprocess.Popen(_script(team.url("tom"), f"review.reject(project, ids=[{target}])\n"),
                               stderr=subprocess.PIPE, text=True)
        _wait_for_waiters(team, 2)
        holder.rollback()
    assert sam.wait(60) == 0, sam.stderr.read()
    assert tom.wait(60) == 0, tom.stderr.read()
    with Project.open(team.lead_url) as lead:
        events = lead.coding_events(target)
        status = lead.codings().set_index("id").loc[target, "status"]
    decisions = events[events["action"] != "create"]
    assert set(decisions["actor"]) == {team.names["sam"], team.names["tom"]}
    first, second = (json.loads(decisions.iloc[i]["after"]) for i in (0, 1))
    assert json.loads(decisions.iloc[1]["before"])["status"] == first["status"]  # the second saw the first
    assert status == second["status"]  # one outcome: the last decision


def _wait_for_waiters(team, n: int) -> None:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with team.server.admin() as conn:
            waiting = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                                   "AND wait_event_type = 'Lock'", (team.database,)).fetchone()[0]
        if waiting >= n:
            return
        time.sleep(0.2)
    raise AssertionError(f"the {n} reviewers never queued on the row lock")


def test_coders_working_at_once_from_separate_processes_lose_nothing(team):
    body = """
    import random
    me = project.engine.url.username
    doc = {doc}
    for round in range(10):
        project.add_codings([NewCoding(doc, i, i + 12, random.choice(["supervision", "workload", "family"]), me)
                             for i in range(round * 15, round * 15 + 5)])
    """
    coders = [subprocess.Popen(_script(team.url(who), textwrap.dedent(body).format(doc=team.docs[1])),
                               stderr=subprocess.PIPE, text=True) for who in ("alex", "bea")]
    reviewer = subprocess.Popen(_script(team.url("sam"), f"review.accept(project, ids={team.suggestions})\n"),
                                stderr=subprocess.PIPE, text=True)
    for process in [*coders, reviewer]:
        assert process.wait(120) == 0, process.stderr.read()
    with Project.open(team.lead_url) as lead:
        codings = lead.codings()
        events = lead.coding_events()
    for who in ("alex", "bea"):
        mine = codings[codings["coder"] == team.names[who]]
        assert len(mine) == 50
        created = events[(events["action"] == "create") & events["coding_id"].isin(mine["id"])]
        assert set(created["actor"]) == {team.names[who]} and len(created) == 50
    assert set(codings[codings["id"].isin(team.suggestions)]["status"]) == {"accepted"}


def test_memos_follow_their_author(team):
    """A coder edits and deletes only their own memos; a reviewer any; a reader only reads."""
    from qualcode.memos import add_memo, delete_memo, edit_memo, list_memos

    alex, bea = team.names["alex"], team.names["bea"]
    with team.open("alex") as project:
        mine = add_memo(project, "Supervision came up unprompted.", document="W1_SW01")
        edit_memo(project, mine, "Supervision came up unprompted, twice.")
        with pytest.raises(PermissionDenied):  # a memo signed as someone else
            add_memo(project, "Not mine to sign.", author=bea)
    with team.open("bea") as project:
        theirs = add_memo(project, "Caseloads: check the second wave.")
        extra = add_memo(project, "Key worker listened.", document="W1_SW02")
        with pytest.raises(PermissionDenied, match=f"memo {mine} is {alex}'s"):
            edit_memo(project, mine, "Rewritten by bea.")
        with pytest.raises(PermissionDenied, match="delete only your own"):
            delete_memo(project, mine)
        delete_memo(project, extra)
    with team.open("rita") as project:
        assert set(list_memos(project)["id"]) == {mine, theirs}
        with pytest.raises(PermissionDenied, match="permission denied"):
            edit_memo(project, theirs, "A reader's edit.")
        with pytest.raises(PermissionDenied, match="permission denied"):
            add_memo(project, "A reader's memo.")
    with team.open("sam") as project:
        edit_memo(project, mine, "Supervision came up unprompted (checked by sam).")
        delete_memo(project, theirs)
        with pytest.raises(PermissionDenied):
            with project.transaction() as conn:  # a memo's author is not an editable column
                conn.execute(sa.text("UPDATE memos SET author = :who WHERE id = :id"), {"who": bea, "id": mine})
    with Project.open(team.lead_url) as lead:
        left = list_memos(lead).set_index("id")
    assert list(left.index) == [mine]
    assert left.loc[mine, "author"] == alex and "checked by sam" in left.loc[mine, "text"]


def test_a_lead_who_is_not_a_superuser_grants_roles(pg_server):
    """The lead owns the database and has CREATEROLE, nothing more, and still runs `team add`."""
    database = pg_server.create_database()
    lead, coder, reader = (f"{who}_{database}" for who in ("lead", "cora", "rhys"))
    with pg_server.admin() as conn:
        conn.execute(f'CREATE ROLE "{lead}" LOGIN CREATEROLE NOSUPERUSER')
        conn.execute(f'ALTER DATABASE "{database}" OWNER TO "{lead}"')
    try:
        with pg_server.admin(database) as conn:
            assert conn.execute("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = %s",
                                (lead,)).fetchone() == (False, True)
        with Project.create(pg_server.url(database, user=lead)) as project:
            add_codes(project)
            doc = add_document(project, "W1_SW01", TEXT)
        done = subprocess.run([sys.executable, "-m", "qualcode", "team", "add", pg_server.url(database, user=lead),
                               coder, "--role", "coder", "--json"], capture_output=True, text=True, cwd=REPO)
        assert done.returncode == 0, done.stderr
        with Project.open(pg_server.url(database, user=lead)) as project:
            add_member(project, reader, "reader")
            assert {m.name: m.role for m in members(project)} == {coder: "coder", reader: "reader"}
        with Project.open(pg_server.url(database, user=coder)) as project:
            [coded] = project.add_codings([NewCoding(doc, 0, 30, "supervision", coder)])
        with Project.open(pg_server.url(database, user=reader)) as project:
            assert project.codings()["id"].tolist() == [coded]
            with pytest.raises(PermissionDenied):
                project.add_codings([NewCoding(doc, 0, 30, "supervision", reader)])
    finally:
        with pg_server.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            for name in (coder, reader, *(group_role(database, r) for r in ROLES), lead):
                conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def test_a_lead_without_createrole_is_told_what_it_needs(pg_server):
    database = pg_server.create_database()
    lead = f"lead_{database}"
    with pg_server.admin() as conn:
        conn.execute(f'CREATE ROLE "{lead}" LOGIN NOCREATEROLE NOSUPERUSER')
        conn.execute(f'ALTER DATABASE "{database}" OWNER TO "{lead}"')
    try:
        with Project.create(pg_server.url(database, user=lead)) as project:
            with pytest.raises(PermissionDenied, match="CREATEROLE"):
                add_member(project, f"cora_{database}", "coder")
        with pg_server.admin() as conn:
            assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname LIKE %s",
                                (f"%{database}%",)).fetchone()[0] == 1  # the lead alone: nothing half-made
    finally:
        with pg_server.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{lead}"')
