from chatbot.normalise import content_terms, fold, words


def test_fold_strips_case_accents_apostrophes_and_punctuation() -> None:
    assert fold("Can I post   Zoë's PHOTO?!") == "can i post zoes photo"


def test_text_speak_and_platform_nicknames_become_canonical_words() -> None:
    assert words("can u put my lads pic on insta") == ("can", "you", "post", "my", "child", "photo", "on", "instagram")


def test_uk_and_us_spellings_fold_together() -> None:
    assert content_terms("bad behavior online") == content_terms("bad behaviour online")


def test_ages_are_recognised_in_many_spellings() -> None:
    for text in ("my 11yo", "my 11 year old", "my 11-year-old", "my 11 yr old"):
        assert "yearold" in words(text), text


def test_phrases_fold_before_words() -> None:
    assert "socialmedia" in words("what counts as Social Media?")
    assert "friendrequest" in words("a friend request from a parent")


def test_stop_words_do_not_reach_the_matcher() -> None:
    assert content_terms("is it for me to do this") == ()
