import math

import pytest
from scipy.sparse import hstack

from chatbot.classifier import IntentClassifier
from chatbot.knowledge import KnowledgeBase


@pytest.fixture(scope="module")
def classifier(kb: KnowledgeBase) -> IntentClassifier:
    return IntentClassifier(intents=kb.intents)


@pytest.mark.parametrize(
    "text", ["can i put my lads pic from sports day on fb", "whats for lunch", "", "📷", "a b c d e f g " * 50]
)
def test_fast_scoring_equals_sklearns_own_decision_function(classifier: IntentClassifier, text: str) -> None:
    words, chars = classifier.vectorizers
    expected = classifier.model.decision_function(hstack([words.transform([text]), chars.transform([text])]).tocsr())[0]
    got = classifier.scores(text)
    for label, margin in zip(classifier.model.classes_, expected):
        assert got[label] == pytest.approx(1 / (1 + math.exp(-IntentClassifier.STEEPNESS * margin)), abs=1e-9)


def test_it_tells_posting_apart_from_the_schools_own_photos(classifier: IntentClassifier) -> None:
    parent = classifier.scores("am i allowed to put the nativity video on my facebook")
    school = classifier.scores("does the school put pictures of the kids on its facebook page")
    assert max(parent, key=parent.__getitem__) == "post_photo"
    assert max(school, key=school.__getitem__) == "school_photos_of_children"
