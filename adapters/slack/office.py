"""The office workbench in Slack: concern cards in the office channel, their buttons and modals, the App Home.

Each school served here has its own office channel and its own staff. A school's
"office:<school>" outbox is drained into cards in that school's channel only,
updated in place as a concern moves (where each card is: card_places.py); the cards' buttons and modals call the
ConcernQueue on behalf of that school only. Every press and submission is checked
against the concern's own school: only that school's office staff may see or
touch it, and another school's ref is "not found". That check is Bolt listener
middleware on every queue button and modal (`_office_only`): it runs before the
listener, hands it the desk in Bolt's context, or refuses (in the modal itself,
or as a private note after the ack); the core checks the school again inside
its write transaction.

Slack wants an answer within three seconds, so button listeners acknowledge
first and do slow work after; modal submissions are the exception, because
their errors must go back in the acknowledgement (the work is one quick write).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks as kit
from adapters.slack import cards
from adapters.slack.answers import DirectAnswers
from adapters.slack.card_places import CardPlace, CardPlaces
from adapters.slack.directory import OfficeDirectory
from adapters.slack.listening import Listeners
from adapters.slack.offices import Office
from adapters.slack.web_api import LOST_CARD_ERRORS, REFUSED_CARD_ERRORS, error_code_of, slack_errors
from chatbot.calendar import WorkingCalendar
from chatbot.concerns import ACTIVE, Concern, ConcernQueue
from chatbot.errors import ConcernNotFound, DeliveryError, Undeliverable, UserError
from chatbot.messages import OutboxItem
from chatbot.outbox import school_of
from chatbot.store import utcnow

log = logging.getLogger(__name__)

CARD_KINDS = ("concern_opened", "concern_updated", "concern_overdue")
DESK = "office_desk"  # in Bolt's context: the desk _office_only let the listener act for
QueueAction = Callable[[dict[str, Any], str, str, str], Awaitable[None]]  # (body, ref, actor, school)


def concern_ref(body: dict[str, Any]) -> str:
    """The ref a queue button carries, or a queue modal was opened for."""
    if body.get("type") == "view_submission":
        return str((body.get("view") or {}).get("private_metadata") or "")
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def input_value(view: dict[str, Any]) -> str:
    values = view.get("state", {}).get("values", {})
    return str(values.get(cards.TEXT_BLOCK, {}).get(cards.TEXT_INPUT, {}).get("value") or "")


@dataclass(frozen=True, kw_only=True)
class Desk:
    """One school's office here: its channel and settings, and who counts as its staff."""

    office: Office
    directory: OfficeDirectory


class OfficeWorkbench:
    """The schools' office queues: cards, buttons, modals and Home, each for its own school's office staff only."""

    def __init__(
        self, *, client: AsyncWebClient, answers: DirectAnswers, concerns: ConcernQueue,
        calendars: Callable[[str], WorkingCalendar], desks: Mapping[str, Desk], places: CardPlaces,
    ) -> None:  # fmt: skip
        self.client = client
        self.answers = answers  # notes to whoever pressed a button, retried like staff answers
        self.concerns = concerns
        self.calendars = calendars
        self.desks = dict(desks)
        self.places = places

    async def desk_for(self, user: str, ref: str) -> Desk | None:
        """The desk of the concern's own school, if `user` works there; None means refuse.

        A ref of a school not served here, or that doesn't exist, raises ConcernNotFound
        (the same answer either way, so nothing about other schools leaks).
        """
        concern = await self.concerns.get(ref)
        desk = self.desks.get(concern.school_id)
        if desk is None:
            raise ConcernNotFound(ref.strip())
        return desk if await desk.directory.is_office(user) else None

    async def schools_of(self, user: str) -> list[str]:
        """The schools whose office `user` works in."""
        return [school for school, desk in self.desks.items() if await desk.directory.is_office(user)]

    def register(self, app: AsyncApp, listeners: Listeners) -> None:
        self._listeners = listeners
        office_only = [self._office_only]
        app.event("app_home_opened")(listeners.track(self._on_home))
        actions: dict[str, QueueAction] = {
            cards.CLAIM: self._claim, cards.RESOLVE: self._resolve, cards.REPLY: self._open_reply, cards.NOTE: self._open_note,
        }  # fmt: skip
        for action_id, act in actions.items():
            app.action(action_id, middleware=office_only)(listeners.track(self._acting(act)))
        app.view(cards.REPLY_VIEW, middleware=office_only)(listeners.track(self._on_reply_submit))
        app.view(cards.NOTE_VIEW, middleware=office_only)(listeners.track(self._on_note_submit))

    # -- buttons and modals -------------------------------------------------------------------

    async def _tell(self, body: dict[str, Any], text: str) -> None:
        """A private note to whoever pressed the button (refusals, conflicts)."""
        user = str(body["user"]["id"])
        channel = (body.get("channel") or {}).get("id")
        if body.get("response_url"):
            await self.answers.respond(
                str(body["response_url"]), text=kit.escape_keeping_mentions(text), response_type="ephemeral",
                replace_original=False,
            )  # fmt: skip
        elif channel:
            await self.answers.client.chat_postEphemeral(channel=channel, user=user, text=kit.escape_keeping_mentions(text))

    async def _office_only(
        self, body: dict[str, Any], context: AsyncBoltContext, ack: AsyncAck, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Bolt listener middleware: only staff of the concern's own school's office get past (with their desk)."""
        user, ref = str(body["user"]["id"]), concern_ref(body)
        pressed_in = (body.get("channel") or {}).get("id")
        try:
            desk = await self.desk_for(user, ref)
        except UserError as err:
            return await self._refuse(body, context, ack, str(err))
        if desk is None or (pressed_in and pressed_in != desk.office.channel and pressed_in in self._channels()):
            log.info("refused a queue %s from someone who isn't that school's office staff", body.get("type"))
            return await self._refuse(body, context, ack, cards.REFUSAL)
        context[DESK] = desk
        await next()
        return None

    async def _refuse(self, body: dict[str, Any], context: AsyncBoltContext, ack: AsyncAck, text: str) -> BoltResponse:
        """No listener runs: a modal shows why in itself; a button gets a private note after the ack."""
        if body.get("type") == "view_submission":
            response = await ack(response_action="errors", errors={cards.TEXT_BLOCK: text})
            await self._listeners.finished(context)
            return response
        self._listeners.later(context, "queue_refusal", lambda: self._tell(body, text))
        return await ack()

    def _acting(self, act: QueueAction) -> Callable[[AsyncAck, dict[str, Any], AsyncBoltContext], Awaitable[None]]:
        """A queue button's listener: ack, then `act(body, ref, actor, school)` for the desk _office_only found."""

        async def queue_action(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
            await ack()
            desk: Desk = context[DESK]
            try:
                await act(body, concern_ref(body), kit.actor_id(str(body["user"]["id"])), desk.office.school_id)
            except UserError as err:
                await self._tell(body, str(err))

        queue_action.__name__ = act.__name__
        return queue_action

    def _channels(self) -> set[str]:
        return {desk.office.channel for desk in self.desks.values()}

    async def _claim(self, body: dict[str, Any], ref: str, actor: str, school: str) -> None:
        await self.concerns.claim(ref, by=actor, school=school)  # the card is updated through the outbox

    async def _resolve(self, body: dict[str, Any], ref: str, actor: str, school: str) -> None:
        await self.concerns.resolve(ref, by=actor, school=school)

    async def _open_reply(self, body: dict[str, Any], ref: str, actor: str, school: str) -> None:
        concern = await self.concerns.get(ref, school=school)
        await self.client.views_open(trigger_id=body["trigger_id"], view=cards.reply_modal(concern))

    async def _open_note(self, body: dict[str, Any], ref: str, actor: str, school: str) -> None:
        concern = await self.concerns.get(ref, school=school)
        await self.client.views_open(trigger_id=body["trigger_id"], view=cards.note_modal(concern))

    async def _submit(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext,
        change: Callable[[str, str, str, str], Awaitable[Concern]],
    ) -> None:  # fmt: skip
        """Do the (quick) write before acking, so a conflict shows in the modal itself."""
        desk: Desk = context[DESK]
        try:
            await change(concern_ref(body), kit.actor_id(str(body["user"]["id"])), input_value(body["view"]),
                         desk.office.school_id)  # fmt: skip
        except UserError as err:
            await ack(response_action="errors", errors={cards.TEXT_BLOCK: str(err)})
            return
        await ack()

    async def _on_reply_submit(self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await self._submit(
            ack, body, context, lambda ref, by, text, school: self.concerns.reply(ref, by=by, text=text, school=school)
        )

    async def _on_note_submit(self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await self._submit(
            ack, body, context, lambda ref, by, text, school: self.concerns.note(ref, by=by, text=text, school=school)
        )

    # -- the App Home ------------------------------------------------------------------------

    def _due(self, concern: Concern) -> tuple[str, bool]:
        words = self.calendars(concern.school_id).describe_due(concern.due_at)
        return words, concern.is_overdue(utcnow())

    async def _home_lists(self, user: str, schools: list[str]) -> cards.HomeLists:
        """Only the schools whose office this person works in."""
        active = [c for s in schools for c in await self.concerns.list(status=list(ACTIVE), school_id=s)]
        overdue = [c for s in schools for c in await self.concerns.list(overdue=True, school_id=s)]
        mine = [c for c in active if c.claimed_by in (kit.actor_id(user), kit.mention(user))]  # old rows hold a mention
        unclaimed = [c for c in active if c.claimed_by is None]
        return cards.HomeLists(mine=mine, unclaimed=unclaimed, overdue=overdue)

    async def _on_home(self, event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        user = str(event["user"])
        schools = await self.schools_of(user)
        if schools:
            view = cards.office_home(await self._home_lists(user, schools), describe=self._due, updated=utcnow())
        else:
            view = cards.staff_home()
        await self.client.views_publish(user_id=user, view=view)

    # -- delivery (the "office" outbox) ----------------------------------------------------------

    async def deliver(self, item: OutboxItem) -> None:
        """Show a concern's card in its own school's channel (posted once, then updated), or report a failure."""
        ref = item.payload.get("ref")
        desk = self.desks.get(school_of(item.channel) or "")
        if desk is None:
            raise Undeliverable(f"no office here for {item.channel!r}")
        office = desk.office
        if item.kind == "undeliverable":
            await self._post_undeliverable(office, item.payload)
            return
        if item.kind == "concern_removed":
            await self._blank_card(item.payload)
            return
        if item.kind not in CARD_KINDS or not ref:
            log.warning("office item %s of kind %s ignored", item.id, item.kind)
            return
        try:
            concern = await self.concerns.get(str(ref), school=office.school_id)
        except ConcernNotFound:
            log.info("office item %s: concern %s is not %s's (or no longer exists)", item.id, ref, office.school_id)
            return
        place = await self._show(office, concern)
        if item.kind == "concern_overdue":
            async with slack_errors():
                text = cards.overdue_text(concern, self._due(concern)[0])
                await self.client.chat_postMessage(channel=place.channel, text=text, thread_ts=place.ts)

    def _card(self, office: Office, concern: Concern) -> tuple[str, list[kit.Block]]:
        words, overdue = self._due(concern)
        return cards.concern_card(cards.Card(concern=concern, due_words=words, overdue=overdue, leads=office.leads))

    async def _show(self, office: Office, concern: Concern) -> CardPlace:
        """Update the concern's card in place, or post it (once) and remember where; returns where it is."""
        text, blocks = self._card(office, concern)
        if place := await self.places.find(concern.ref):
            try:
                async with slack_errors():
                    await self.client.chat_update(channel=place.channel, ts=place.ts, text=text, blocks=blocks)
                return place
            except DeliveryError as err:
                if error_code_of(err) in REFUSED_CARD_ERRORS:
                    self._refused(concern, err)
                    async with slack_errors():
                        await self.client.chat_update(
                            channel=place.channel, ts=place.ts, text=cards.plain_card(concern, office.leads), blocks=[]
                        )
                    return place
                if error_code_of(err) not in LOST_CARD_ERRORS:
                    raise
                log.warning("office card for %s is gone; posting it again", concern.ref)
        try:
            async with slack_errors():
                posted = await self.client.chat_postMessage(channel=office.channel, text=text, blocks=blocks, unfurl_links=False)
        except DeliveryError as err:
            if error_code_of(err) not in REFUSED_CARD_ERRORS:
                raise
            self._refused(concern, err)
            async with slack_errors():
                posted = await self.client.chat_postMessage(
                    channel=office.channel, text=cards.plain_card(concern, office.leads), unfurl_links=False
                )
        place = CardPlace(channel=office.channel, ts=str(posted["ts"]))
        await self.places.remember(concern.ref, school_id=office.school_id, place=place)
        return place

    @staticmethod
    def _refused(concern: Concern, err: DeliveryError) -> None:
        """Slack refused the card for good: say so loudly (never its text), then a plain card stands in."""
        level = logging.CRITICAL if concern.urgent else logging.ERROR
        log.log(level, "office card for %s refused by Slack (%s); posting a plain card", concern.ref, error_code_of(err))

    async def _blank_card(self, payload: dict[str, Any]) -> None:
        """A concern was deleted (purged, or forgotten at the parent's request): its card keeps no text."""
        ref = str(payload.get("ref") or "")
        place = await self.places.find(ref) if ref else None
        if place is None:  # never shown here
            return
        text = f"{ref} has been deleted (retention or at the person's request)."
        try:
            async with slack_errors():
                await self.client.chat_update(channel=place.channel, ts=place.ts, text=text, blocks=[])
        except DeliveryError as err:
            if error_code_of(err) not in LOST_CARD_ERRORS:
                raise
        await self.places.forget(ref)

    async def _post_undeliverable(self, office: Office, payload: dict[str, Any]) -> None:
        ref, place = payload.get("ref"), None
        audience: str | None = None
        if ref:
            with suppress(ConcernNotFound):
                audience = (await self.concerns.get(str(ref), school=office.school_id)).audience
                place = await self.places.find(str(ref))
        channel = str(payload.get("channel") or "?")
        text = cards.undeliverable_text(ref=str(ref) if ref else None, channel=channel, audience=audience)
        thread = place.ts if place is not None else None
        async with slack_errors():
            await self.client.chat_postMessage(
                channel=place.channel if place else office.channel, text=text, thread_ts=thread,
                reply_broadcast=thread is not None,
            )  # fmt: skip
