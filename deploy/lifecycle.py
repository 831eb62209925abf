"""Things that start and stop: usable in a `with` block, stopped even when the block fails."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class StartStop:
    """Mixin: `with thing:` calls `start()` on entry and `stop()` on exit."""

    def start(self) -> None:
        """Start the thing."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the thing; safe to call more than once."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
