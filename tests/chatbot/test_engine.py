"""The engine end to end on the real knowledge base and a real SQLite file."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chatbot import replies
from chatbot.actions import ChooseSchool, ContactOffice, NoneOfThese, PickIntent, encode
from chatbot.config import Settings
from chatbot.errors import UnknownSchool
from chatbot.knowledge import KnowledgeBase
from chatbot.understanding.fusion import FusedMatcher
from chatbot.messages import Audience, Incoming, InputKind, Reply, Visibility
from chatbot.runtime import Runtime, open_runtime


def say(text: str, *, school: str = "dauvergne", user: str = "p1", audience: Audience = Audience.PARENT) -> Incoming:
    return Incoming(channel="test", user_id=user, chat_id=f"chat-{user}", school_id=school, audience=audience, text=text)


def press(action: str, *, school: str = "dauvergne", user: str = "p1") -> Incoming:
    return Incoming(
        channel="test", user_id=user, chat_id=f"chat-{user}", school_id=school, audience=Audience.PARENT,
        kind=InputKind.ACTION, action=action,
    )


def action_for(reply: Reply, label_start: str) -> str:
    for button in reply.buttons:
        if button.label.lower().startswith(label_start.lower()):
            return button.payload
    raise AssertionError(f"no button starting {label_start!r} in {[b.label for b in reply.buttons]}")


async def test_photo_question_runs_the_guided_check_to_the_schools_cited_answer(runtime: Runtime) -> None:
    engine = runtime.engine
    first = await engine.handle(say("can i put a pic from sports day on fb?"))
    assert first.intent == "post_photo" and first.buttons
    second = await engine.handle(press(action_for(first, "yes")))
    third = await engine.handle(press(action_for(second, "yes")))
    final = await engine.handle(press(action_for(third, "no")))
    school = runtime.kb.school("dauvergne")
    outcome = school.answers["post_photo"].outcome_for(
        {"other_children": "yes", "school_event": "yes", "permission": "no"}
    )
    assert outcome is not None
    assert final.text == outcome.text
    assert final.citations and all(c.school_id == "dauvergne" for c in final.citations)
    assert {c.section_id for c in final.citations} == set(outcome.cites)


async def test_the_photo_check_survives_a_restart(settings: Settings, kb: KnowledgeBase, matcher: FusedMatcher) -> None:
    async with open_runtime(settings, kb=kb, matcher=matcher) as rt:
        first = await rt.engine.handle(say("is it ok to share the nativity video on facebook", school="st-lukes"))
        yes = action_for(first, "no")
    async with open_runtime(settings, kb=kb, matcher=matcher) as rt:
        second = await rt.engine.handle(press(yes, school="st-lukes"))
        assert "school event" in second.text.lower()
        final = await rt.engine.handle(press(action_for(second, "yes"), school="st-lukes"))
    assert final.citations and final.citations[0].school_id == "st-lukes"


async def test_typed_yes_and_no_answer_the_check(runtime: Runtime) -> None:
    await runtime.engine.handle(say("can I post photos of the school play", school="letter"))
    second = await runtime.engine.handle(say("no just my son", school="letter"))
    assert second.buttons, second.text
    final = await runtime.engine.handle(say("yes", school="letter"))
    assert final.citations and final.citations[0].school_id == "letter"


async def test_a_school_silent_on_photos_says_so_and_offers_the_open_door(runtime: Runtime) -> None:
    reply = await runtime.engine.handle(say("can i post a photo of my kid from sports day on facebook", school="roose"))
    assert reply.intent == "post_photo"
    assert "doesn't say anything" in reply.text
    assert not reply.citations
    assert any(b.action == ContactOffice() for b in reply.buttons)


async def test_same_question_gets_the_staff_code_on_a_staff_channel(runtime: Runtime) -> None:
    staff = await runtime.engine.handle(
        say("can I accept a friend request from a parent on facebook?", school="st-lukes", audience=Audience.STAFF)
    )
    assert staff.intent == "staff_friending_parents"
    assert staff.citations and staff.citations[0].school_id == "st-lukes"


async def test_answers_cite_only_the_asking_schools_policy(runtime: Runtime) -> None:
    for school in runtime.kb.schools:
        reply = await runtime.engine.handle(say("can I complain about a teacher on facebook?", school=school, user=school))
        assert reply.intent == "complaining_online", (school, reply.intent)
        assert reply.citations and {c.school_id for c in reply.citations} == {school}


async def test_safeguarding_is_urgent_with_emergency_advice_and_queued(runtime: Runtime) -> None:
    reply = await runtime.engine.handle(say("a man online keeps asking my daughter to send him photos of herself"))
    assert reply.urgent and reply.intent == "concern_safeguarding"
    assert "999" in reply.text and reply.concern_ref
    concern = await runtime.concerns.get(reply.concern_ref)
    assert concern.urgent and concern.category == "concern_safeguarding"


async def test_safeguarding_wins_even_in_the_middle_of_a_flow(runtime: Runtime) -> None:
    await runtime.engine.handle(say("can i post a pic from sports day?"))
    reply = await runtime.engine.handle(say("actually my son just told me his teacher hits him"))
    assert reply.urgent and "999" in reply.text


async def test_a_concern_goes_through_intake_into_the_queue(runtime: Runtime) -> None:
    first = await runtime.engine.handle(say("my son is being bullied at lunchtime every day by two boys in his class"))
    assert first.intent == "concern_bullying"
    second = await runtime.engine.handle(press(action_for(first, "yes")))
    final = await runtime.engine.handle(press(action_for(second, "reply here")))
    assert final.concern_ref and final.concern_ref in final.text
    concern = await runtime.concerns.get(final.concern_ref)
    assert concern.category == "concern_bullying" and not concern.urgent
    assert concern.summary.startswith("my son is being bullied")


async def test_declining_consent_passes_nothing_on(runtime: Runtime) -> None:
    first = await runtime.engine.handle(say("I want to complain, my daughter's teacher keeps shouting at her class"))
    reply = await runtime.engine.handle(press(action_for(first, "no")))
    assert "nothing has been passed on" in reply.text
    assert await runtime.concerns.for_user("test", "p1") == []


async def test_a_parent_sees_only_their_own_concerns(runtime: Runtime) -> None:
    first = await runtime.engine.handle(say("someone posted my daughters photo on the class page and I want it taken down", user="a"))
    second = await runtime.engine.handle(press(action_for(first, "yes"), user="a"))
    await runtime.engine.handle(press(action_for(second, "reply here"), user="a"))
    mine = await runtime.engine.handle(say("whats happening with my concern", user="a"))
    theirs = await runtime.engine.handle(say("whats happening with my concern", user="b"))
    assert "C-" in mine.text
    assert "C-" not in theirs.text


async def test_did_you_mean_offers_up_to_three_options_and_none_of_these(runtime: Runtime) -> None:
    reply = await runtime.engine.handle(say("my child"))
    assert reply.text == "I want to be sure I answer the right question. Did you mean one of these?"
    assert 2 <= len(reply.buttons) <= 4
    assert reply.buttons[-1].action == NoneOfThese()
    assert all(isinstance(b.action, PickIntent) for b in reply.buttons[:-1])
    assert not reply.citations
    chosen = await runtime.engine.handle(press(reply.buttons[0].payload))
    assert chosen.intent == encode(reply.buttons[0].action).removeprefix("i:")


async def test_a_one_word_message_is_never_answered_with_false_confidence(runtime: Runtime) -> None:
    for word in ("facebook", "teacher", "photos", "friend"):
        reply = await runtime.engine.handle(say(word, user=word))
        assert not reply.citations, (word, reply.intent)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "👍🎉", "x" * 10_000, "¿Puedo publicar fotos del colegio?", "Могу ли я публиковать фото?", "asdkjh qweoiu zxcmnb"],
)
async def test_bad_input_gets_a_kind_answer_never_a_traceback(runtime: Runtime, text: str) -> None:
    reply = await runtime.engine.handle(say(text))
    assert reply.text.strip()
    assert not reply.citations
    assert not reply.urgent


async def test_a_long_message_is_offered_to_the_office_and_kept_whole(runtime: Runtime) -> None:
    long_text = "My daughter came home upset again today. " * 100
    first = await runtime.engine.handle(say(long_text))
    second = await runtime.engine.handle(press(action_for(first, "yes")))
    final = await runtime.engine.handle(press(action_for(second, "reply here")))
    assert final.concern_ref
    concern = await runtime.concerns.get(final.concern_ref)
    assert concern.summary == long_text.strip()


async def test_stickers_and_photos_get_a_kind_explanation(runtime: Runtime) -> None:
    incoming = replace(say(""), kind=InputKind.UNSUPPORTED, media="sticker")
    reply = await runtime.engine.handle(incoming)
    assert "stickers" in reply.text and "type" in reply.text


async def test_an_unknown_school_is_a_user_error(runtime: Runtime) -> None:
    with pytest.raises(UnknownSchool):
        await runtime.engine.handle(say("hello", school="nowhere"))


async def test_without_a_school_the_user_is_asked_to_choose(runtime: Runtime) -> None:
    reply = await runtime.engine.handle(say("hello", school=""))
    assert {b.action for b in reply.buttons} == {ChooseSchool(s) for s in runtime.kb.schools}
    chosen = await runtime.engine.handle(press("s:orchard", school=""))
    assert "Orchard" in chosen.text
    follow_up = await runtime.engine.handle(say("can i complain about a teacher on facebook", school=""))
    assert follow_up.citations and follow_up.citations[0].school_id == "orchard"


async def test_phone_contact_is_validated_and_kept(runtime: Runtime) -> None:
    first = await runtime.engine.handle(say("I want to make a complaint about how the head handled my sons exclusion"))
    second = await runtime.engine.handle(press(action_for(first, "yes")))
    third = await runtime.engine.handle(press(action_for(second, "phone")))
    retry = await runtime.engine.handle(say("call me maybe"))
    assert "phone number" in retry.text
    final = await runtime.engine.handle(say("07700 900123"))
    assert final.concern_ref
    concern = await runtime.concerns.get(final.concern_ref)
    assert concern.contact_method == "phone" and concern.phone == "07700900123"
    assert third.text


async def test_asked_for_a_number_the_parent_can_choose_reply_here_instead(runtime: Runtime) -> None:
    first = await runtime.engine.handle(say("I'd like to complain about how my son's teacher spoke to him today"))
    second = await runtime.engine.handle(press(action_for(first, "yes")))
    await runtime.engine.handle(press(action_for(second, "phone")))
    retry = await runtime.engine.handle(say("not sure"))
    final = await runtime.engine.handle(press(action_for(retry, "reply here")))
    assert final.concern_ref
    assert (await runtime.concerns.get(final.concern_ref)).contact_method == "chat"


# -- group chats: the engine decides what is private ----------------------------------------------


def in_group(incoming: Incoming) -> Incoming:
    return replace(incoming, is_group=True)


async def test_a_concern_in_a_group_is_redirected_without_starting_or_storing_an_intake(runtime: Runtime) -> None:
    bullying = "my son is being bullied at lunchtime every day by two boys in his class"
    reply = await runtime.engine.handle(in_group(say(bullying)))
    assert (reply.text, reply.visibility, reply.buttons) == (replies.GROUP_PRIVATE, Visibility.ASKER, ())
    assert not (await runtime.engine.conversations.get("test", "p1")).in_flow
    assert await runtime.concerns.for_user("test", "p1") == []
    for command in ("concerns", "forget"):
        redirected = await runtime.engine.handle(in_group(replace(say(""), kind=InputKind.COMMAND, command=command)))
        assert redirected.text == replies.GROUP_PRIVATE


async def test_a_group_turn_never_cancels_or_advances_the_private_conversation(runtime: Runtime) -> None:
    private = await runtime.engine.handle(say("my son is being bullied at lunchtime every day by two boys in his class"))
    assert private.visibility is Visibility.ASKER and "Shall I pass it to" in private.text
    cancel = await runtime.engine.handle(in_group(replace(say(""), kind=InputKind.COMMAND, command="cancel")))
    assert cancel.text == replies.NOTHING_TO_CANCEL_HERE
    stale = await runtime.engine.handle(in_group(press(action_for(private, "yes"))))
    assert stale.text == replies.GROUP_PRIVATE
    policy = await runtime.engine.handle(in_group(say("is it ok to moan about the school on facebook")))
    assert policy.visibility is Visibility.PUBLIC and policy.citations
    conv = await runtime.engine.conversations.get("test", "p1")
    assert (conv.flow, conv.step) == ("concern", "consent")  # still waiting for the private "yes"
    contact = await runtime.engine.handle(press(action_for(private, "yes")))
    assert "How would you like the school to reply?" in contact.text


async def test_the_photo_check_in_a_group_gives_the_schools_answer_without_questions(runtime: Runtime) -> None:
    reply = await runtime.engine.handle(in_group(say("can i post a pic from sports day on facebook?")))
    assert reply.intent == "post_photo" and reply.citations and not reply.buttons
    assert not (await runtime.engine.conversations.get("test", "p1")).in_flow


async def test_an_urgent_report_in_a_group_is_escalated_and_asks_for_no_more_details_there(runtime: Runtime) -> None:
    reply = await runtime.engine.handle(in_group(say("a man online keeps asking my daughter to send him photos of herself")))
    assert reply.urgent and "999" in reply.text and reply.text.endswith(replies.GROUP_URGENT)
    assert reply.visibility is Visibility.ASKER and reply.buttons == ()
    [concern] = await runtime.concerns.for_user("test", "p1")
    assert concern.urgent and concern.ref == reply.concern_ref


async def test_concern_replies_are_for_the_asker_and_policy_answers_are_public(runtime: Runtime) -> None:
    answer = await runtime.engine.handle(say("is it ok to moan about the school on facebook"))
    status = await runtime.engine.handle(say("whats happening with my concern"))
    assert (answer.visibility, status.visibility) == (Visibility.PUBLIC, Visibility.ASKER)


async def test_a_forged_or_unknown_button_is_met_kindly(runtime: Runtime) -> None:
    for payload in ("zz:whatever", "f:", "i:no_such_intent", "forget:maybe", ""):
        reply = await runtime.engine.handle(press(payload))
        assert reply.text == replies.BUTTON_EXPIRED, payload


def command(name: str, text: str = "", *, school: str | None = None, user: str = "p1") -> Incoming:
    return Incoming(
        channel="test", user_id=user, chat_id=f"chat-{user}", school_id=school, audience=Audience.PARENT,
        kind=InputKind.COMMAND, command=name, text=text,
    )


async def test_slash_school_shows_each_school_by_name_and_changes_school(runtime: Runtime, kb: KnowledgeBase) -> None:
    engine = runtime.engine
    await engine.handle(command("start", "orchard"))
    picker = await engine.handle(command("school"))
    labels = [b.label for b in picker.buttons]
    assert "d'Auvergne School" in labels and "St Luke's Primary School" in labels
    assert not any(s.policy in labels for s in kb.schools.values())
    changed = await engine.handle(command("school", "st-lukes"))
    assert "St Luke's" in changed.text
    answer = await engine.handle(replace(say("my sons teacher added him on facebook is that allowed?"), school_id=None))
    assert answer.intent == "teacher_contacting_my_child"
    if not answer.citations:  # "did you mean": the right topic is offered first
        answer = await engine.handle(replace(press(action_for(answer, "A teacher contacting")), school_id=None))
    assert answer.citations[0].school_id == "st-lukes" and answer.citations[0].section_id == "staff-no-pupil-friends"


async def test_the_intake_promises_no_reply_time_the_school_has_not_made(runtime: Runtime) -> None:
    reply = await runtime.engine.handle(say("my daughter is being bullied by girls in her class every day", school="orchard"))
    assert reply.intent == "concern_bullying"
    assert "as soon as they can" in reply.text
    assert "24 hours" not in reply.text and " by " not in reply.text


async def test_a_schools_configured_reply_time_is_the_one_promised(settings: Settings, kb: KnowledgeBase, matcher: FusedMatcher) -> None:
    promised = replace(settings, reply_promises={"st-lukes": "within two working days"})
    async with open_runtime(promised, kb=kb, matcher=matcher) as rt:
        st_lukes = await rt.engine.handle(say("my son is being picked on at school every single day", school="st-lukes"))
        orchard = await rt.engine.handle(say("my son is being picked on at school every single day", school="orchard", user="p2"))
        help_text = await rt.engine.handle(command("help", school="st-lukes", user="p3"))
    assert "they'll reply within two working days" in st_lukes.text
    assert "two working days" not in orchard.text
    assert "within two working days" in help_text.text


# -- long, story-like messages and the safeguarding net ---------------------------------

ACCOUNT_STORY = (
    "Bit of background first. We moved house over the summer and my eldest started at the new school in "
    "September. She's eleven now and nearly all of the girls in her form seem to be on TikTok and Snapchat "
    "already, and she says she's the only one who isn't, which I doubt, but still. Her dad thinks it's harmless "
    "as long as the account is private, I'm less sure, and we keep going round in circles about it at teatime. "
    "I've read that most of these apps say thirteen is the minimum but nobody seems to pay attention to that. "
    "Before we give in, I'd like to know where the school stands on children her age having these accounts, "
    "and whether it's something you'd rather parents held off on."
)
GAME_STORY = (
    "I didn't know who else to ask so here goes. For the past few weeks my son, who is nine, has been playing an "
    "online game most evenings. Tonight I looked over his shoulder and someone he has only met in the game has "
    "been telling him he is really mature for his age, has been sending him gift cards for the game, and now wants "
    "him to move their chat onto a different app. The last message said it would be their little secret and not "
    "to tell his mum. My son thinks this person is his best friend. I don't know what to do."
)


async def test_a_long_story_about_a_topic_gets_that_topic_not_the_office(runtime: Runtime) -> None:
    assert len(ACCOUNT_STORY) > 600
    reply = await runtime.engine.handle(say(ACCOUNT_STORY))
    offered = {b.action for b in reply.buttons}
    assert reply.intent == "children_accounts_age" or PickIntent("children_accounts_age") in offered
    assert "writing this all down" not in reply.text
    assert not reply.urgent


async def test_a_child_at_risk_told_as_a_story_is_never_met_with_a_menu_or_a_policy_answer(runtime: Runtime) -> None:
    reply = await runtime.engine.handle(say(GAME_STORY))
    assert "call 999" in reply.text
    assert reply.urgent or any("at risk" in b.label for b in reply.buttons)
    assert not reply.citations


async def test_a_threat_to_a_child_online_is_never_one_choice_in_a_menu(runtime: Runtime) -> None:
    reply = await runtime.engine.handle(say("somebody shared where my girl lives on a tiktok and said they'd be coming for her"))
    assert "call 999" in reply.text
    assert not any(b.action == PickIntent("concern_offensive_post") for b in reply.buttons)


async def test_understanding_uses_the_engines_own_net_thresholds(runtime: Runtime) -> None:
    engine = runtime.engine
    text = "a man online has been messaging my 10 year old and asked her to keep it secret"
    assert engine.understand(text, audience="parent").urgent
    engine.net = replace(engine.net, urgent_score=1.01, screen_urgent_score=1.01)
    stricter = engine.understand(text, audience="parent")
    assert not stricter.urgent and stricter.check


# -- the safeguarding check --------------------------------------------------------------

UNSURE = "my son's friend keeps saying his stepdad shouts at him and he doesn't want to go home"


async def _ask_the_check(runtime: Runtime, user: str) -> Reply:
    engine = runtime.engine
    engine.net = replace(engine.net, urgent_score=1.01, screen_urgent_score=1.01)  # this engine only asks, never escalates alone
    reply = await engine.handle(say(UNSURE, user=user))
    assert reply.text.startswith("If a child is in immediate danger, call 999. Is this about a child who may be at risk")
    assert not reply.urgent and reply.visibility is Visibility.ASKER
    return reply


async def test_yes_at_the_check_escalates_the_original_message_as_urgent(runtime: Runtime) -> None:
    asked = await _ask_the_check(runtime, "c1")
    reply = await runtime.engine.handle(press(action_for(asked, "yes"), user="c1"))
    assert reply.urgent and reply.concern_ref and "call 999" in reply.text
    concern = await runtime.concerns.get(reply.concern_ref)
    assert concern.urgent and concern.summary == UNSURE


async def test_no_at_the_check_carries_on_with_the_normal_answer(runtime: Runtime) -> None:
    asked = await _ask_the_check(runtime, "c2")
    reply = await runtime.engine.handle(press(action_for(asked, "no"), user="c2"))
    assert not reply.urgent and "at risk of harm?" not in reply.text
    assert await runtime.concerns.for_user("test", "c2") == []


async def test_a_typed_yes_at_the_check_escalates_too(runtime: Runtime) -> None:
    await _ask_the_check(runtime, "c3")
    reply = await runtime.engine.handle(say("yes", user="c3"))
    assert reply.urgent and reply.concern_ref


async def test_more_from_the_policy_gives_the_rest_of_the_cited_clauses(runtime: Runtime, kb: KnowledgeBase) -> None:
    engine = runtime.engine
    first = await engine.handle(say("can i complain about a teacher on facebook?", school="orchard"))
    cited = kb.school("orchard").answers["complaining_online"].cites
    assert first.intent == "complaining_online" and len(cited) > 1
    assert [c.section_id for c in first.citations] == [cited[0]]
    more = await engine.handle(press(action_for(first, "More from the policy"), school="orchard"))
    assert [c.section_id for c in more.citations] == list(cited)
    assert all(c.text == kb.school("orchard").sections[c.section_id].text for c in more.citations)


async def test_a_teacher_adding_a_child_is_answered_from_st_lukes_rule_with_the_concern_offered(runtime: Runtime) -> None:
    engine = runtime.engine
    reply = await engine.handle(press(encode(PickIntent("teacher_contacting_my_child")), school="st-lukes"))
    assert reply.citations[0].section_id == "staff-no-pupil-friends"
    assert "must never add pupils as friends" in reply.citations[0].text
    offered = await engine.handle(press(action_for(reply, "Tell the school"), school="st-lukes"))
    assert offered.intent == "talk_to_person"
    told = await engine.handle(say("his PE teacher sent him a friend request on facebook last night", school="st-lukes"))
    assert any(b.label.startswith("Yes, pass it on") for b in told.buttons)
