"""One message at a time per chat, and nothing kept for chats with none in progress."""

from __future__ import annotations

import asyncio
import contextlib

from bot.telegram_app import ChatTurns


def test_a_chats_messages_take_turns_and_other_chats_go_on() -> None:
    turns = ChatTurns()
    inside: dict[int, int] = {1: 0, 2: 0}
    most: dict[int, int] = {1: 0, 2: 0}
    order: list[tuple[int, int]] = []

    async def message(chat: int, n: int) -> None:
        async with turns.turn(chat):
            inside[chat] += 1
            most[chat] = max(most[chat], inside[chat])
            order.append((chat, n))
            await asyncio.sleep(0)  # others run here: the woken waiter, new arrivals
            await asyncio.sleep(0)
            inside[chat] -= 1

    async def scenario() -> None:
        first = [asyncio.create_task(message(1, n)) for n in range(3)] + [asyncio.create_task(message(2, 0))]
        await asyncio.sleep(0)
        # More messages for chat 1 arrive while its turns are being handed over.
        later = []
        for n in range(3, 6):
            later.append(asyncio.create_task(message(1, n)))
            await asyncio.sleep(0)
        await asyncio.gather(*first, *later)

    asyncio.run(scenario())
    assert most == {1: 1, 2: 1}
    assert [n for chat, n in order if chat == 1] == list(range(6))
    assert len(turns) == 0  # nothing left behind once every message is done


def test_a_turn_is_given_back_when_the_message_fails() -> None:
    turns = ChatTurns()

    async def failing() -> None:
        async with turns.turn(7):
            raise RuntimeError("handler failed")

    async def scenario() -> None:
        with contextlib.suppress(RuntimeError):
            await failing()
        async with turns.turn(7):  # not held by the failed one
            pass

    asyncio.run(asyncio.wait_for(scenario(), 5))
    assert len(turns) == 0
