"""Who is office staff: members of the office channel (cached briefly) plus SLACK_OFFICE_USERS."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

MEMBERS_TTL = 60.0  # seconds an office-channel membership list is trusted
LOOKUP_TIMEOUT = 2.0  # seconds for that list, inside Slack's 3-second acknowledgement


class OfficeDirectory:
    """Office staff: members of the office channel (cached briefly) plus SLACK_OFFICE_USERS.

    The check runs before a modal's acknowledgement, so the lookup is bounded; if
    Slack can't say, the last known list stands (or only the configured users).
    """

    def __init__(
        self, *, client: AsyncWebClient, channel: str, users: tuple[str, ...],
        ttl: float = MEMBERS_TTL, clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.client = client
        self.channel = channel
        self.users = frozenset(users)
        self.ttl = ttl
        self.clock = clock
        self._members: frozenset[str] = frozenset()
        self._fetched_at: float | None = None

    async def is_office(self, user_id: str) -> bool:
        if user_id in self.users:
            return True
        return user_id in await self.members()

    async def members(self) -> frozenset[str]:
        now = self.clock()
        if self._fetched_at is None or now - self._fetched_at > self.ttl:
            try:
                async with asyncio.timeout(LOOKUP_TIMEOUT):
                    self._members = await self._fetch()
                self._fetched_at = now
            except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as err:
                log.warning("could not list the office channel's members (%s); using the last known list",
                            type(err).__name__)  # fmt: skip
        return self._members

    async def _fetch(self) -> frozenset[str]:
        members: set[str] = set()
        cursor: str | None = None
        while True:
            page = await self.client.conversations_members(channel=self.channel, cursor=cursor, limit=200)
            members.update(page.get("members") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return frozenset(members)
