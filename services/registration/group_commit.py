"""Group commit: requests that arrive while one batch is in progress share the next one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """One task runs everything waiting as one batch (one transaction); each caller gets its own result.

    A caller returns only after the batch holding its item finished, exactly as if it had gone
    alone; a failed batch is retried item by item, so one bad item fails only its caller.
    `run_many` returns one result per item, in order.
    """

    def __init__(
        self,
        run_many: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
        *,
        max_batch: int = 500,
    ) -> None:
        self.run_many, self.max_batch = run_many, max_batch
        self.waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self.runner: asyncio.Task[None] | None = None

    async def run(self, item: Item) -> Result:
        """Return `item`'s result once its batch is done; raise what the batch raised for it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self.waiting.append((item, future))
        if self.runner is None or self.runner.done() or self.runner.get_loop() is not loop:
            self.runner = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self.waiting:
            batch = self.waiting[: self.max_batch]
            del self.waiting[: self.max_batch]
            try:
                await self._run(batch)
            except BaseException:  # cancelled mid-batch: nobody may wait forever
                for _, future in batch + self.waiting:
                    if not future.done():
                        future.cancel()
                self.waiting.clear()
                raise

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self.run_many([item for item, _ in batch])
        except Exception as error:
            if len(batch) > 1:
                for single in batch:  # find the one that fails; the others still succeed
                    await self._run([single])
            elif not batch[0][1].done():
                batch[0][1].set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # a caller may have gone already (client disconnected)
                future.set_result(result)
