"""The actions codec: every action survives the round trip, wire forms stay stable, junk decodes to None."""

from __future__ import annotations

import pytest

from chatbot.actions import (
    ACTIONS,
    Action,
    ChooseSchool,
    ContactOffice,
    FlowAnswer,
    Forget,
    MoreFromPolicy,
    NoneOfThese,
    PickIntent,
    Withdraw,
    decode,
    encode,
)

EXAMPLES: list[tuple[Action, str]] = [
    (ChooseSchool("orchard"), "s:orchard"),
    (PickIntent("post_photo"), "i:post_photo"),
    (NoneOfThese(), "none"),
    (ContactOffice(), "c:talk"),
    (FlowAnswer("oc", "unsure"), "f:oc:unsure"),
    (Withdraw("C-0007"), "w:C-0007"),
    (Forget(True), "forget:yes"),
    (Forget(False), "forget:no"),
    (MoreFromPolicy("complaining_online"), "more:complaining_online"),
]


@pytest.mark.parametrize(("action", "wire"), EXAMPLES)
def test_each_action_has_a_stable_short_wire_form(action: Action, wire: str) -> None:
    assert encode(action) == wire  # buttons already sent keep working after an upgrade
    assert decode(wire) == action


def test_every_action_type_has_an_example() -> None:
    assert {type(action) for action, _ in EXAMPLES} == set(ACTIONS)


@pytest.mark.parametrize("junk", [None, "", "zz:x", "s:", "i:", "f:oc", "w:", "forget:maybe", "none:extra", "c:other"])
def test_unknown_stale_or_forged_payloads_decode_to_nothing(junk: str | None) -> None:
    assert decode(junk) is None


def test_a_flow_value_may_itself_contain_a_colon() -> None:
    assert decode("f:phone:07700:900") == FlowAnswer("phone", "07700:900")
