"""The office workbench in Slack: concern cards in the office channel, their buttons and modals, the App Home.

The "office" outbox is drained into cards, updated in place as a concern moves;
the cards' buttons and modals call the ConcernQueue. Only office staff may see
or touch the queue, and concern text is only ever posted in the office channel.

Slack wants an answer within three seconds, so button listeners acknowledge
first and do slow work after; modal submissions are the exception, because
their errors must go back in the acknowledgement (the work is one quick write).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any, Awaitable, Callable

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks as kit
from adapters.slack import cards
from adapters.slack.directory import OfficeDirectory
from adapters.slack.listening import Tracker
from adapters.slack.web_api import LOST_CARD_ERRORS, error_code_of, slack_errors
from chatbot.calendar import WorkingCalendar
from chatbot.concerns import ACTIVE, Concern, ConcernQueue
from chatbot.errors import ConcernNotFound, DeliveryError, UserError
from chatbot.messages import OutboxItem
from chatbot.store import utcnow

log = logging.getLogger(__name__)

CARD_KINDS = ("concern_opened", "concern_updated", "concern_overdue")


def input_value(view: dict[str, Any]) -> str:
    values = view.get("state", {}).get("values", {})
    return str(values.get(cards.TEXT_BLOCK, {}).get(cards.TEXT_INPUT, {}).get("value") or "")


class OfficeWorkbench:
    """The school office's queue: cards, buttons, modals and Home, for office staff only."""

    def __init__(
        self, *, client: AsyncWebClient, concerns: ConcernQueue, calendars: Callable[[str], WorkingCalendar],
        directory: OfficeDirectory, school_id: str, channel: str, leads: tuple[str, ...],
    ) -> None:  # fmt: skip
        self.client = client
        self.concerns = concerns
        self.calendars = calendars
        self.directory = directory
        self.school_id = school_id
        self.channel = channel
        self.leads = leads

    def register(self, app: AsyncApp, tracked: Tracker) -> None:
        app.event("app_home_opened")(tracked(self._on_home))
        app.action(cards.CLAIM)(tracked(self._office_only(self._claim)))
        app.action(cards.RESOLVE)(tracked(self._office_only(self._resolve)))
        app.action(cards.REPLY)(tracked(self._office_only(self._open_reply)))
        app.action(cards.NOTE)(tracked(self._office_only(self._open_note)))
        app.view(cards.REPLY_VIEW)(tracked(self._on_reply_submit))
        app.view(cards.NOTE_VIEW)(tracked(self._on_note_submit))

    # -- buttons and modals -------------------------------------------------------------------

    async def _tell(self, body: dict[str, Any], respond: AsyncRespond, text: str) -> None:
        """A private note to whoever pressed the button (refusals, conflicts)."""
        user = str(body["user"]["id"])
        channel = (body.get("channel") or {}).get("id")
        if body.get("response_url"):
            await respond(text=kit.escape_keeping_mentions(text), response_type="ephemeral", replace_original=False)
        elif channel:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=kit.escape_keeping_mentions(text))

    def _office_only(
        self, fn: Callable[[dict[str, Any], str, str, AsyncRespond], Awaitable[None]]
    ) -> Callable[[AsyncAck, dict[str, Any], dict[str, Any], AsyncRespond], Awaitable[None]]:
        """Ack, then refuse anyone who isn't office staff before `fn(body, ref, actor, respond)` runs."""

        async def queue_action(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()
            user = str(body["user"]["id"])
            if not await self.directory.is_office(user):
                log.info("refused a queue action from someone who isn't office staff")
                await self._tell(body, respond, cards.REFUSAL)
                return
            try:
                await fn(body, str(action.get("value") or ""), kit.mention(user), respond)
            except UserError as err:
                await self._tell(body, respond, str(err))

        queue_action.__name__ = fn.__name__
        return queue_action

    async def _claim(self, body: dict[str, Any], ref: str, actor: str, respond: AsyncRespond) -> None:
        await self.concerns.claim(ref, by=actor)  # the card is updated through the outbox

    async def _resolve(self, body: dict[str, Any], ref: str, actor: str, respond: AsyncRespond) -> None:
        await self.concerns.resolve(ref, by=actor)

    async def _open_reply(self, body: dict[str, Any], ref: str, actor: str, respond: AsyncRespond) -> None:
        concern = await self.concerns.get(ref)
        await self.client.views_open(trigger_id=body["trigger_id"], view=cards.reply_modal(concern))

    async def _open_note(self, body: dict[str, Any], ref: str, actor: str, respond: AsyncRespond) -> None:
        concern = await self.concerns.get(ref)
        await self.client.views_open(trigger_id=body["trigger_id"], view=cards.note_modal(concern))

    async def _submit(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
        change: Callable[[str, str, str], Awaitable[Concern]],
    ) -> None:  # fmt: skip
        """Do the (quick) write before acking, so a refusal or conflict shows in the modal itself."""
        user = str(body["user"]["id"])
        if not await self.directory.is_office(user):
            log.info("refused a queue modal from someone who isn't office staff")
            await ack(response_action="errors", errors={cards.TEXT_BLOCK: cards.REFUSAL})
            return
        try:
            await change(str(view.get("private_metadata") or ""), kit.mention(user), input_value(view))
        except UserError as err:
            await ack(response_action="errors", errors={cards.TEXT_BLOCK: str(err)})
            return
        await ack()

    async def _on_reply_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        await self._submit(ack, body, view, lambda ref, by, text: self.concerns.reply(ref, by=by, text=text))

    async def _on_note_submit(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        await self._submit(ack, body, view, lambda ref, by, text: self.concerns.note(ref, by=by, text=text))

    # -- the App Home ------------------------------------------------------------------------

    def _due(self, concern: Concern) -> tuple[str, bool]:
        words = self.calendars(concern.school_id).describe_due(concern.due_at)
        return words, concern.is_overdue(utcnow())

    async def _home_lists(self, user: str) -> cards.HomeLists:
        active = await self.concerns.list(status=list(ACTIVE), school_id=self.school_id)
        overdue = await self.concerns.list(overdue=True, school_id=self.school_id)
        mine = [c for c in active if c.claimed_by == kit.mention(user)]
        unclaimed = [c for c in active if c.claimed_by is None]
        return cards.HomeLists(mine=mine, unclaimed=unclaimed, overdue=overdue)

    async def _on_home(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        user = str(event["user"])
        if await self.directory.is_office(user):
            view = cards.office_home(await self._home_lists(user), describe=self._due, updated=utcnow())
        else:
            view = cards.staff_home()
        await self.client.views_publish(user_id=user, view=view)

    # -- delivery (the "office" outbox) ----------------------------------------------------------

    async def deliver(self, item: OutboxItem) -> None:
        """Show a concern's card (posted once, then updated in place), or tell the office something went wrong."""
        ref = item.payload.get("ref")
        if item.kind == "undeliverable":
            await self._post_undeliverable(item.payload)
            return
        if item.kind == "concern_removed":
            await self._blank_card(item.payload)
            return
        if item.kind not in CARD_KINDS or not ref:
            log.warning("office item %s of kind %s ignored", item.id, item.kind)
            return
        try:
            concern = await self.concerns.get(str(ref))
        except ConcernNotFound:
            log.info("office item %s: concern %s no longer exists", item.id, ref)
            return
        ts = await self._show(concern)
        if item.kind == "concern_overdue":
            async with slack_errors():
                text = cards.overdue_text(concern, self._due(concern)[0])
                await self.client.chat_postMessage(channel=self.channel, text=text, thread_ts=ts)

    def _card(self, concern: Concern) -> tuple[str, list[kit.Block]]:
        words, overdue = self._due(concern)
        return cards.concern_card(cards.Card(concern=concern, due_words=words, overdue=overdue, leads=self.leads))

    async def _show(self, concern: Concern) -> str:
        """Update the concern's card in place, or post it (once) and remember where; returns its ts."""
        text, blocks = self._card(concern)
        if concern.office_post_ref:
            try:
                async with slack_errors():
                    await self.client.chat_update(channel=self.channel, ts=concern.office_post_ref, text=text, blocks=blocks)
                return concern.office_post_ref
            except DeliveryError as err:
                if error_code_of(err) not in LOST_CARD_ERRORS:
                    raise
                log.warning("office card for %s is gone; posting it again", concern.ref)
        async with slack_errors():
            posted = await self.client.chat_postMessage(channel=self.channel, text=text, blocks=blocks, unfurl_links=False)
        ts = str(posted["ts"])
        await self.concerns.set_office_post_ref(concern.ref, ts)
        return ts

    async def _blank_card(self, payload: dict[str, Any]) -> None:
        """A concern was deleted (purged, or forgotten at the parent's request): its card keeps no text."""
        ts = payload.get("office_post_ref")
        if not ts:
            return
        text = f"{payload.get('ref', 'A concern')} has been deleted (retention or at the person's request)."
        try:
            async with slack_errors():
                await self.client.chat_update(channel=self.channel, ts=str(ts), text=text, blocks=[])
        except DeliveryError as err:
            if error_code_of(err) not in LOST_CARD_ERRORS:
                raise

    async def _post_undeliverable(self, payload: dict[str, Any]) -> None:
        ref, thread = payload.get("ref"), None
        audience: str | None = None
        if ref:
            with suppress(ConcernNotFound):
                concern = await self.concerns.get(str(ref))
                thread, audience = concern.office_post_ref, concern.audience
        channel = str(payload.get("channel") or "?")
        text = cards.undeliverable_text(ref=str(ref) if ref else None, channel=channel, audience=audience)
        async with slack_errors():
            await self.client.chat_postMessage(
                channel=self.channel, text=text, thread_ts=thread, reply_broadcast=thread is not None
            )
