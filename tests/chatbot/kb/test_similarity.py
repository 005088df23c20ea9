"""SectionRanker: the section that says what an intent is about ranks first."""

from __future__ import annotations

from chatbot.kb.similarity import SectionRanker
from chatbot.knowledge import Intent, Section


def _intent(intent_id: str, examples: tuple[str, ...]) -> Intent:
    return Intent(id=intent_id, audience="parent", kind="answer", summary=intent_id.replace("_", " "),
                  label=intent_id, keywords=(), examples=examples, file="t.yaml", line=1)


SECTIONS = [
    Section(id="photos", title="Photographs", text="Please do not publish photographs that include other children.", line=1),
    Section(id="ages", title="Age limits", text="Facebook does not allow anyone under the age of 13 to open an account.", line=2),
    Section(id="door", title="Open door", text="If you have any concerns, come and speak to us.", line=3),
]
PHOTO = _intent("post_photo", ("can i post pictures of the nativity", "is it ok to put photos of other kids on facebook"))
AGE = _intent("age", ("how old for facebook", "my son is 11 can he have an account"))


def test_the_matching_section_ranks_first_and_scores_are_ordered() -> None:
    ranker = SectionRanker(sections=SECTIONS, intents=[PHOTO, AGE])
    photo = ranker.rank(PHOTO, top=3)
    assert photo[0].section_id == "photos"
    assert [m.score for m in photo] == sorted((m.score for m in photo), reverse=True)
    assert ranker.rank(AGE, top=1)[0].section_id == "ages"


def test_min_score_leaves_out_unrelated_sections() -> None:
    ranker = SectionRanker(sections=SECTIONS, intents=[PHOTO, AGE])
    assert [m.section_id for m in ranker.rank(PHOTO, top=3, min_score=0.2)] == ["photos"]
    unrelated = _intent("weather", ("will it rain tomorrow",))
    assert ranker.rank(unrelated, top=3) == []
