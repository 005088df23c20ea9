"""`chatbot ask`: one message in, one reply out, then any office replies waiting for this user.

The command line is a channel like any other ("cli"): a concern raised here is
answered here. Between runs it remembers the last reply's buttons (per user, in
a small JSON file beside the database), so typing "1" picks the first one, as in
the console chat.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

from chatbot.messages import Audience, Incoming, InputKind, Reply
from chatbot.outbox import PENDING, Outbox

CHANNEL = "cli"


def buttons_file(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".ask-buttons.json")


def _read(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


async def offered(path: Path, user: str) -> list[str]:
    """The payloads of the buttons this user was last offered."""
    data = await asyncio.to_thread(_read, path)
    return [str(p) for p in data.get(user, [])]


async def remember(path: Path, user: str, reply: Reply) -> None:
    def write() -> None:
        data = _read(path)
        data[user] = [b.payload for b in reply.buttons]
        path.write_text(json.dumps(data), encoding="utf-8")

    await asyncio.to_thread(write)


def incoming(text: str, *, user: str, school: str, audience: Audience, buttons: list[str]) -> Incoming:
    """A number picks one of the last buttons; "/name args" is a command; anything else is words."""
    stripped = text.strip()
    said = Incoming(channel=CHANNEL, user_id=user, chat_id=user, school_id=school, audience=audience, text=text)
    if stripped.isdigit() and 1 <= int(stripped) <= len(buttons):
        return replace(said, kind=InputKind.ACTION, action=buttons[int(stripped) - 1], text="")
    if stripped.startswith("/") and len(stripped) > 1:
        name, _, args = stripped[1:].partition(" ")
        return replace(said, kind=InputKind.COMMAND, command=name.lower(), text=args)
    return said


async def waiting_for(outbox: Outbox, user: str) -> list[str]:
    """Messages the office sent this user on the "cli" channel, marked delivered as they are shown."""
    texts = []
    for item in await outbox.items(channel=CHANNEL, status=PENDING):
        if item.payload.get("chat_id") == user and item.kind == "message":
            texts.append(str(item.payload.get("text", "")))
            await outbox.mark_delivered(item.id)
    return texts
