"""A programme's sessions in start order, updated one session at a time."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import datetime

from shared.catalogue import Session


def by_start(session: Session) -> datetime:
    """The sort key of a programme's sessions: when the first day starts."""
    return session.starts_at


class SessionsInOrder:
    """Sessions sorted by start, equals in their given order, and found by id.

    `put` gives what a stable sort of the others followed by the new version would, with
    O(log n) comparisons and one copy of the tuple instead of a sort of every session.
    """

    def __init__(self, sessions: tuple[Session, ...]) -> None:
        self.sessions = tuple(sorted(sessions, key=by_start))
        self.by_id = {session.id: session for session in self.sessions}

    def put(self, updated: Session) -> tuple[Session, ...]:
        """Replace the session with `updated`'s id, or add it; return the sessions in order."""
        sessions, old = self.sessions, self.by_id.get(updated.id)
        if old is not None:
            at = bisect_left(sessions, old.starts_at, key=by_start)
            while sessions[at] is not old:  # past the sessions starting at the same moment
                at += 1
            sessions = sessions[:at] + sessions[at + 1 :]
        at = bisect_right(sessions, updated.starts_at, key=by_start)  # after its equals
        self.sessions = (*sessions[:at], updated, *sessions[at:])
        self.by_id[updated.id] = updated
        return self.sessions
