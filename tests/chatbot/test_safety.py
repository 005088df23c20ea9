import pytest

from chatbot.knowledge import KnowledgeBase
from chatbot.safety import screen

AT_RISK = [
    "a man on a game keeps asking my daughter to send pics of herself",
    "my sons mate told him he wants to kill himself",
    "a girl in my class has bruises and says her stepdad hits her at home",
    "one of the TAs is messaging my son privately late at night on snapchat",
    "my 9 yr old was sent a rude picture by a stranger on roblox",
    "my child said she is scared to go home",
    "someone told my daughter to keep their chats a secret and meet up",
    "my daughter is self harming",
    "an older boy brought a knife to school",
    "someone put my sons home address on instagram and wrote that they are coming for him",
    # Said slant, or told as a story (the classes a blind probe set found missing)
    "a girl in his class posted 'I won't be around much longer, sorry everyone'",
    "my daughter posted 'you would all be better off without me' last night",
    "her last story said nobody would miss me if I was gone",
    "a stranger commented under the team photo that he knows where the small one lives and she should watch herself",
    "some account keeps replying to my lads videos with his full name, his school and the street we live on",
    "her mum posted that she will end it for all of us if they try to take the kids",
    "a bloke from work, he's about 40, has been messaging my girl asking her to video chat when I'm out",
    "a man in his 30s keeps facetiming my son",
    "a lad in year 9 posted 'bye everyone, you won't have to deal with me anymore'",
    "she told her friend she'd rather be dead than go home, and there are cuts up her arm",
    "the boy says if she doesn't send more he'll share the first one with her whole year",
    "a stranger wrote under the match report that he knows which bus our Josh gets",
    "a dad posted her full name and that she walks home on her own along the canal every day",
    # Warning signs described without naming the harm
    "her older friend, a lad who's about 20, keeps buying her vouchers and clothes",
    "she keeps saying it'd be easier for everyone if she wasn't around",
    "he said he'd take a handful of his mum's pills if it happened again",
    "his stepdad locks him in his room overnight when he's been cheeky",
    "I noticed scratches up his arm and he's in long sleeves in this heat",
    "she follows pro ana pages and says she doesn't deserve to eat",
    "my son says he wants to die",
]

NOT_AT_RISK = [
    "can I post a pic of sports day on fb?",
    "is my 11 year old allowed instagram",
    "someone posted a rude comment about the head on the village facebook page",
    "can I accept a friend request from a parent",
    "my kid is being bullied on snapchat",
    "how do i contact my sons teacher",
    "what is the school's policy on photos",
    "can I post the school's address on our class facebook group",
    "we won't be here much longer as we are moving to Leeds in the summer",
    "I will not be here next week as we are on holiday, can I still ask?",
    "can I video call my child from work during lunch?",
    "a dad said the head had better watch her back after the detention",
    "can I put my child's full name on the class page?",
    "bye all, sorry I can't make the fair this year",
    "I know what time the bus goes, can I post about the trip?",
    "goodbye everyone, last day at school today, sorry to leave",
    "I'd rather die than join the PTA",
    "my son cut his hand on the fence at football",
    "my mum is 70 and buys him presents every birthday, can I post a photo of the party?",
    "she lost a stone on slimming world and feels great",
    "honestly I want to die, I've been on hold to the office for 40 minutes",
    "is it ok for him to take paracetamol on the school trip",
]


@pytest.mark.parametrize("text", AT_RISK)
def test_messages_suggesting_risk_are_flagged(text: str) -> None:
    assert screen(text) is not None


@pytest.mark.parametrize("text", NOT_AT_RISK)
def test_ordinary_questions_are_not_flagged(text: str) -> None:
    assert screen(text) is None


def test_the_finding_names_a_category_not_the_message() -> None:
    finding = screen("my son says he wants to die")
    assert finding is not None
    assert finding.category == "self_harm"
    assert "die" not in repr(finding)


def test_every_taught_safeguarding_phrasing_is_flagged_and_no_other(kb: KnowledgeBase) -> None:
    """The screen and the intents agree: a regression guard over 2,400 phrasings."""
    missed = [e for e in kb.intent("concern_safeguarding").examples if screen(e) is None]
    false_alarms = [
        (i.id, e) for i in kb.intents.values() if i.id != "concern_safeguarding" for e in i.examples if screen(e) is not None
    ]
    assert missed == []
    assert false_alarms == []
