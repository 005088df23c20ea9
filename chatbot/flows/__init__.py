"""Guided conversations as pure state machines: `(state, answer) -> (state, next question or outcome)`.

Each flow is one module with the same four functions (`start`, `read`, `answer`,
`question`) over a `FlowState` the engine saves after every turn, so a restart
resumes mid-conversation. Flows never touch the store: an outcome (a photo
verdict, a concern to lodge) is carried out by the engine. To add a flow, write
its module and list it in `FLOWS`.
"""

from __future__ import annotations

from chatbot.flows import intake, photo, safeguarding_check
from chatbot.flows.common import Ask, Context, Flow, FlowState, Question, Transition

FLOWS: dict[str, Flow] = {photo.NAME: photo.FLOW, intake.NAME: intake.FLOW, safeguarding_check.NAME: safeguarding_check.FLOW}

__all__ = ["Ask", "Context", "FLOWS", "Flow", "FlowState", "Question", "Transition", "intake", "photo", "safeguarding_check"]
