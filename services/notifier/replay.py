"""`python -m services.notifier.replay KEY...`: an operator sends failed notifications again."""

from __future__ import annotations

import asyncio
import sys

from services.notifier.main import SERVICE
from services.notifier.settings import NotifierSettings
from services.notifier.store import SqlNotificationStore
from shared.clock import Clock, SystemClock
from shared.logging import configure_logging, get_logger


async def replay(settings: NotifierSettings, keys: list[str], clock: Clock | None = None) -> int:
    """Make each failed notification due now; the running dispatcher sends it. Returns how many."""
    store = SqlNotificationStore(settings.database_url_for(SERVICE, settings.database_url))
    log, replayed = get_logger("services.notifier.replay"), 0
    try:
        for key in keys:
            done = await store.replay(key, (clock or SystemClock()).now())
            log.info("notification.replayed" if done else "notification.not_failed", key=key)
            replayed += done
    finally:
        await store.dispose()
    return replayed


def main(argv: list[str]) -> int:
    """Replay the keys given on the command line; exit 1 if any was not a failed notification."""
    settings = NotifierSettings()
    configure_logging(
        SERVICE, fmt=settings.log_format, level=settings.log_level, for_the_process=True
    )
    return 0 if asyncio.run(replay(settings, argv)) == len(argv) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
