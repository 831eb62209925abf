"""A TCP proxy between the services and the broker that passes, delays, resets or black-holes traffic."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Literal

Mode = Literal["pass", "reset", "blackhole"]


class TcpProxy:
    """Listen on a loopback port and forward every connection to `upstream_port`.

    `mode` applies to live and new connections at once: `reset` aborts them (the peer sees a
    reset), `blackhole` keeps them open but forwards nothing (a silent partition), `pass` heals.
    `delay_s` holds every forwarded chunk back, in both directions, without reordering it.
    """

    def __init__(self, port: int, upstream_port: int = 0) -> None:
        self.port, self.upstream_port = port, upstream_port
        self.mode: Mode = "pass"
        self.delay_s = 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()  # cleared while black-holed
        self.connections = 0  # connections forwarded: proof that the clients came through here
        self.aborted = 0  # connections reset by `reset`
        self.held = 0  # chunks held back by `blackhole`

    def start(self) -> None:
        """Start listening on a background thread."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        future.result(10)

    def set_mode(self, mode: Mode) -> None:
        """Switch mode; `reset` also aborts every live connection."""
        self.mode = mode
        flow = self._flowing.clear if mode == "blackhole" else self._flowing.set
        self._loop.call_soon_threadsafe(flow)
        if mode == "reset":
            self._loop.call_soon_threadsafe(self._abort_all)

    def stop(self) -> None:
        """Close everything and stop the thread."""
        self.set_mode("reset")
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _listen(self) -> None:
        self._flowing.set()
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )

    def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
            self.aborted += 1
        self._writers.clear()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self.mode == "reset":
            client_w.transport.abort()
            return
        try:
            upstream_r, upstream_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_w.transport.abort()
            return
        self._writers.update((client_w, upstream_w))
        self.connections += 1
        await asyncio.gather(
            self._pipe(client_r, upstream_w),
            self._pipe(upstream_r, client_w),
            return_exceptions=True,
        )
        for writer in (client_w, upstream_w):
            self._writers.discard(writer)
            writer.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.mode == "blackhole":
                self.held += 1
            await self._flowing.wait()  # hold the bytes back, as a silent network would
            if self.mode == "reset":
                return
            writer.write(data)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
