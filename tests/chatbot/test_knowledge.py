from pathlib import Path

import pytest

from chatbot.errors import KnowledgeError, UnknownSchool
from chatbot.knowledge import KnowledgeBase, load_knowledge_base

INTENT = """\
- id: post_photo
  audience: parent
  kind: flow
  label: Posting a photo
  examples:
    - can i post a photo
"""

SCHOOL = """\
school:
  id: oak
  name: Oak Primary
  policy: Social Media Policy
  version: "1"
  source: oak.txt
sections:
  - id: photos
    title: Photos
    text: Please do not post other children.
answers:
  post_photo:
    text: Only your own child, please.
    cites: [photos]
"""


def _write(tmp_path: Path, intents: str = INTENT, school: str = SCHOOL) -> tuple[Path, Path]:
    (tmp_path / "intents").mkdir()
    (tmp_path / "knowledge").mkdir()
    (tmp_path / "intents" / "posting.yaml").write_text(intents)
    (tmp_path / "knowledge" / "oak.yaml").write_text(school)
    (tmp_path / "knowledge" / "oak.txt").write_text("Please do not post other children.")
    return tmp_path / "intents", tmp_path / "knowledge"


def test_a_valid_knowledge_base_loads(tmp_path: Path) -> None:
    intents, knowledge = _write(tmp_path)
    kb = load_knowledge_base(intents_dir=intents, knowledge_dir=knowledge)
    assert kb.school("oak").answers["post_photo"].cites == ("photos",)
    assert kb.intent("post_photo").examples == ("can i post a photo",)


STORIES = """\
  stories:
    - >-
      Bit of a long one, sorry. Sports day was lovely and I got some gorgeous
      shots of my son. Can I put them on Facebook?
    - "My daughter's class did a play and there are other kids in my video, is that ok to share?"
"""


def test_stories_load_as_whole_messages(tmp_path: Path) -> None:
    intents, knowledge = _write(tmp_path, intents=INTENT + STORIES)
    stories = load_knowledge_base(intents_dir=intents, knowledge_dir=knowledge).intent("post_photo").stories
    assert len(stories) == 2
    assert stories[0].startswith("Bit of a long one") and stories[0].endswith("on Facebook?")


def test_an_intent_without_stories_has_none(tmp_path: Path) -> None:
    intents, knowledge = _write(tmp_path)
    assert load_knowledge_base(intents_dir=intents, knowledge_dir=knowledge).intent("post_photo").stories == ()


@pytest.mark.parametrize(
    ("stories", "complaint"),
    [
        ("  stories: a single string\n", "'stories' must be a non-empty list"),
        ("  stories: []\n", "'stories' must be a non-empty list"),
        ("  stories:\n    - a story\n    - ''\n", "story 2 is empty"),
        ("  stories:\n    - a story\n    - [nested]\n", "story 2 must be text"),
        ("  stories:\n    - a story\n    - 42\n", "story 2 must be text"),
        ("  stories:\n    - a story\n    - other\n    - '  a story '\n", "story 3 repeats story 1"),
    ],
)
def test_bad_stories_are_named_with_file_and_line(tmp_path: Path, stories: str, complaint: str) -> None:
    intents, knowledge = _write(tmp_path, intents=INTENT + stories)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_base(intents_dir=intents, knowledge_dir=knowledge)
    assert any(p.startswith(f"{intents / 'posting.yaml'}:1:") and complaint in p for p in caught.value.problems), (
        caught.value.problems
    )


def test_broken_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    intents, knowledge = _write(tmp_path, school=SCHOOL.replace("    title: Photos", "    title: [Photos"))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_base(intents_dir=intents, knowledge_dir=knowledge)
    problem = caught.value.problems[0]
    assert "oak.yaml:10:" in problem or "oak.yaml:11:" in problem, problem


def test_a_citation_of_a_missing_section_names_file_and_line(tmp_path: Path) -> None:
    intents, knowledge = _write(tmp_path, school=SCHOOL.replace("cites: [photos]", "cites: [pictures]"))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_base(intents_dir=intents, knowledge_dir=knowledge)
    assert any("oak.yaml:13:" in p and "'pictures'" in p for p in caught.value.problems), caught.value.problems


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    bad_intents = INTENT.replace("audience: parent", "audience: grown-ups").replace("kind: flow", "kind: chat")
    intents, knowledge = _write(tmp_path, intents=bad_intents)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_base(intents_dir=intents, knowledge_dir=knowledge)
    text = "\n".join(caught.value.problems)
    assert "audience" in text and "kind" in text and "posting.yaml:1:" in text


def test_an_answer_without_citations_is_refused(tmp_path: Path) -> None:
    intents, knowledge = _write(tmp_path, school=SCHOOL.replace("    cites: [photos]\n", ""))
    with pytest.raises(KnowledgeError, match="cites no section"):
        load_knowledge_base(intents_dir=intents, knowledge_dir=knowledge)


def test_unknown_school_is_a_kind_user_error(kb: KnowledgeBase) -> None:
    with pytest.raises(UnknownSchool) as caught:
        kb.school("hogwarts")
    assert "orchard" in str(caught.value) and "hogwarts" in str(caught.value)


def test_the_repo_knowledge_base_serves_all_five_schools(kb: KnowledgeBase) -> None:
    assert set(kb.schools) == {"dauvergne", "st-lukes", "orchard", "roose", "letter"}


def _with_promise(promise: str) -> str:
    return SCHOOL.replace('  source: oak.txt\n', '  source: oak.txt\n' + promise)


def test_a_policy_promise_loads_with_its_scope(tmp_path: Path) -> None:
    promise = "  reply_promise: {section: photos, text: do not post, scope: posts on our page}\n"
    intents, knowledge = _write(tmp_path, school=_with_promise(promise))
    school = load_knowledge_base(intents_dir=intents, knowledge_dir=knowledge).school("oak")
    assert school.reply_promise is not None
    assert (school.reply_promise.section, school.reply_promise.scope) == ("photos", "posts on our page")


@pytest.mark.parametrize(
    ("promise", "complaint"),
    [
        ("  reply_promise: {section: nowhere, text: x, scope: y}\n", "unknown section 'nowhere'"),
        ("  reply_promise: {section: photos, text: within 24 hours, scope: y}\n", "not word for word"),
        ("  reply_promise: {section: photos, text: do not post}\n", "needs 'section', 'text'"),
    ],
)
def test_a_promise_the_policy_does_not_make_is_refused(tmp_path: Path, promise: str, complaint: str) -> None:
    intents, knowledge = _write(tmp_path, school=_with_promise(promise))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_base(intents_dir=intents, knowledge_dir=knowledge)
    assert complaint in str(caught.value) and "oak.yaml:" in str(caught.value)


def test_every_intent_is_taught_with_stories(kb: KnowledgeBase) -> None:
    """Long, story-like messages are how parents really write: every intent carries some (docs/data-formats.md)."""
    thin = {intent.id: len(intent.stories) for intent in kb.intents.values() if len(intent.stories) < 5}
    assert not thin, f"intents with fewer than 5 stories: {thin}"
    assert len(kb.intent("concern_safeguarding").stories) >= 25
