import math
from typing import Any

import numpy as np
import pytest
from scipy.sparse import hstack

from chatbot.classifier import IntentClassifier, char_features, fit_sklearn, word_features
from chatbot.knowledge import KnowledgeBase

TEXTS = [
    "can i put my lads pic from sports day on fb", "whats for lunch", "", "📷", "a b c d e f g " * 50,
    "My  daughter's   teacher — she's   lovely — posted a VIDEO!!", "x",
]


@pytest.fixture(scope="module")
def fitted(kb: KnowledgeBase) -> tuple[Any, Any, Any]:
    return fit_sklearn(kb.intents)


@pytest.fixture(scope="module")
def classifier(kb: KnowledgeBase) -> IntentClassifier:
    return IntentClassifier.train(kb.intents)


@pytest.mark.parametrize("text", TEXTS)
def test_the_analysers_reproduce_sklearns(fitted: tuple[Any, Any, Any], text: str) -> None:
    words, chars, _ = fitted
    assert word_features(text) == words.build_analyzer()(text)
    assert char_features(text) == chars.build_analyzer()(text)


@pytest.mark.parametrize("text", TEXTS)
def test_fast_scoring_equals_sklearns_own_decision_function(
    fitted: tuple[Any, Any, Any], classifier: IntentClassifier, text: str
) -> None:
    words, chars, model = fitted
    expected = model.decision_function(hstack([words.transform([text]), chars.transform([text])]).tocsr())[0]
    got = classifier.scores(text)
    for label, margin in zip(model.classes_, expected):
        assert got[label] == pytest.approx(1 / (1 + math.exp(-IntentClassifier.STEEPNESS * margin)), abs=1e-9)


def test_weights_survive_the_round_trip_through_arrays(classifier: IntentClassifier) -> None:
    arrays = classifier.to_arrays()
    restored = IntentClassifier.from_arrays({k: np.array(v) for k, v in arrays.items()})
    text = "is my 11 year old allowed on tiktok"
    assert restored.scores(text) == classifier.scores(text)


def test_it_tells_posting_apart_from_the_schools_own_photos(classifier: IntentClassifier) -> None:
    parent = classifier.scores("am i allowed to put the nativity video on my facebook")
    school = classifier.scores("does the school put pictures of the kids on its facebook page")
    assert max(parent, key=parent.__getitem__) == "post_photo"
    assert max(school, key=school.__getitem__) == "school_photos_of_children"
