"""The programme catalogue: programmes, phases and sessions, loaded from YAML and validated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from shared.contracts import Language, SessionDay, SessionSnapshot, Trainer, Venue
from shared.contracts.people import SingleLine

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
"""Programme, phase and session ids: lower-case letters, digits and dashes, at most 64."""


class CatalogueError(ValueError):
    """The catalogue file is missing, is not YAML, or does not describe a valid catalogue."""


class UnknownProgramme(LookupError):
    """No programme with that id is in the catalogue."""


class UnknownSession(LookupError):
    """No session with that id is in the programme."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy whose cached properties are computed afresh from its own fields."""
        copied = super().model_copy(update=update, deep=deep)
        # pydantic copies __dict__, and with it the values cached from the original's fields
        for name in copied.__dict__.keys() - type(self).model_fields.keys():
            del copied.__dict__[name]
        return copied


class LocalDay(_Model):
    """One day of a session, in the session's own time zone."""

    date: dt.date
    start: dt.time
    end: dt.time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _quoted_time(cls, value: Any) -> Any:
        if isinstance(value, int):  # YAML 1.1 reads an unquoted 16:30 as the number 990
            raise ValueError("write times in quotes, e.g. '16:30'")
        return value

    @model_validator(mode="after")
    def _ends_after_start(self) -> LocalDay:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start} on {self.date}")
        return self


class Session(_Model):
    """A session of a programme: when and where it runs, for how many people, led by whom."""

    id: Id
    programme_id: Id
    phase: Id
    title: SingleLine
    mode: Literal["in_person", "online"]
    timezone: str = Field(description="IANA zone, e.g. Europe/Belgrade.")
    days: tuple[LocalDay, ...]
    venue: Venue | None = None
    online_url: HttpUrl | None = None
    capacity: int = Field(ge=1, le=10_000)
    language: Language
    trainers: tuple[Trainer, ...] = ()
    registration_deadline: dt.datetime | None = Field(
        default=None, description="Local time in the session's zone unless an offset is given."
    )
    municipality_cap: int | None = Field(
        default=None, ge=1, description="At most this many seats for one municipality."
    )

    @model_validator(mode="before")
    @classmethod
    def _expand_dates(cls, data: Any) -> Any:
        """Accept `dates` + `start` + `end` as a shorthand for the same hours on every day."""
        if not isinstance(data, Mapping) or "dates" not in data:
            return data
        data = dict(data)
        if "days" in data:
            raise ValueError("give either days or dates with start and end, not both")
        dates, start, end = data.pop("dates"), data.pop("start", None), data.pop("end", None)
        if start is None or end is None or not isinstance(dates, list):
            raise ValueError("dates needs a list of dates and both start and end times")
        data["days"] = [{"date": d, "start": start, "end": end} for d in dates]
        return data

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Session:
        dates = [day.date for day in self.days]
        if not dates:
            raise ValueError("days: a session needs at least one day")
        if dates != sorted(set(dates)):
            raise ValueError("days must be in date order, one entry per date")
        if self.mode == "in_person" and self.venue is None:
            raise ValueError("venue is required for an in_person session")
        if self.mode == "online" and self.online_url is None:
            raise ValueError("online_url is required for an online session")
        for day in self.days:
            for moment in (day.start, day.end):
                _to_utc(day.date, moment, self.zone)
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The session's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def local_dates(self) -> tuple[dt.date, ...]:
        """The calendar dates the session runs on, in its own zone."""
        return tuple(day.date for day in self.days)

    @cached_property
    def utc_days(self) -> tuple[SessionDay, ...]:
        """Every day as aware UTC start and end times (correct across DST changes), computed once."""
        return tuple(
            SessionDay(
                starts_at=_to_utc(day.date, day.start, self.zone),
                ends_at=_to_utc(day.date, day.end, self.zone),
            )
            for day in self.days
        )

    @property
    def starts_at(self) -> dt.datetime:
        """When the first day starts, in UTC."""
        return self.utc_days[0].starts_at

    @cached_property
    def deadline(self) -> dt.datetime | None:
        """The registration deadline in UTC, if one is set (computed once)."""
        moment = self.registration_deadline
        if moment is None:
            return None
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=self.zone)
        return aware.astimezone(dt.UTC)

    def snapshot(self) -> SessionSnapshot:
        """The session as events carry it."""
        return SessionSnapshot(
            session_id=self.id,
            programme_id=self.programme_id,
            title=self.title,
            mode=self.mode,
            timezone=self.timezone,
            days=self.utc_days,
            venue=self.venue,
            online_url=self.online_url,
            language=self.language,
            trainers=self.trainers,
        )


class Phase(_Model):
    """A stage of a programme, e.g. research, training, mentoring, competition."""

    id: Id
    title: SingleLine
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None


class Programme(_Model):
    """A training programme and its sessions."""

    id: Id
    title: SingleLine
    mode: Literal["first_come", "at_close"]
    phases: tuple[Phase, ...]
    sessions: tuple[Session, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _sessions_know_their_programme(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("sessions"), list):
            owner = {"programme_id": data.get("id")}
            sessions = [{**owner, **s} if isinstance(s, Mapping) else s for s in data["sessions"]]
            data = {**data, "sessions": sessions}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Programme:
        phases = [p.id for p in self.phases]
        if not phases:
            raise ValueError("phases: a programme needs at least one phase")
        _unique("phase", phases)
        _unique("session", [s.id for s in self.sessions])
        for session in self.sessions:
            if session.phase not in phases:
                raise ValueError(f"session {session.id!r}: phase {session.phase!r} is not declared")
            if session.programme_id != self.id:
                raise ValueError(f"session {session.id!r}: programme_id must be {self.id!r}")
        return self

    @cached_property
    def sessions_by_id(self) -> Mapping[str, Session]:
        """Every session by its id (built once per programme)."""
        return {session.id: session for session in reversed(self.sessions)}  # the first one wins

    def session(self, session_id: str) -> Session:
        """Return the session with id `session_id`, or raise `UnknownSession`."""
        session = self.sessions_by_id.get(session_id)
        if session is None:
            raise UnknownSession(f"programme {self.id!r} has no session {session_id!r}")
        return session


class Catalogue(_Model):
    """Every programme the system runs."""

    programmes: tuple[Programme, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> Catalogue:
        if not self.programmes:
            raise ValueError("programmes: the catalogue has no programme")
        _unique("programme", [p.id for p in self.programmes])
        return self

    def programme(self, programme_id: str) -> Programme:
        """Return the programme with id `programme_id`, or raise `UnknownProgramme`."""
        for programme in self.programmes:
            if programme.id == programme_id:
                return programme
        raise UnknownProgramme(f"no programme {programme_id!r} in the catalogue")


def load_catalogue(path: Path | str) -> Catalogue:
    """Read and validate a catalogue file; `CatalogueError` says which field is wrong and why."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogueError(f"{path}: cannot read the catalogue ({error.strerror})") from None
    return parse_catalogue(text, source=str(path))


def parse_catalogue(text: str, *, source: str = "<catalogue>") -> Catalogue:
    """Validate catalogue YAML given as text."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or error
        raise CatalogueError(f"{source}: not valid YAML{where}: {problem}") from None
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as error:
        problems = [
            f"  {_where(item['loc'], raw)}: {item['msg'].removeprefix('Value error, ')}"
            for item in error.errors(include_url=False, include_input=False)
        ]
        raise CatalogueError("\n".join([f"{source}: invalid catalogue", *problems])) from None


def _where(loc: tuple[int | str, ...], raw: Any) -> str:
    """Name an error's place by ids where possible: programmes[x].sessions[y].timezone."""
    path, node = "", raw
    for part in loc:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            label = node.get("id") if isinstance(node, Mapping) and node.get("id") else part
            path += f"[{label}]"
        else:
            node = node.get(part) if isinstance(node, Mapping) else None
            path += f".{part}" if path else part
    return path or "<file>"


def _unique(kind: str, ids: list[str]) -> None:
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate {kind} id(s): {', '.join(duplicates)}")


def _to_utc(day: dt.date, moment: dt.time, zone: ZoneInfo) -> dt.datetime:
    """Combine a local date and time in `zone` into UTC; reject times skipped by a DST change."""
    local = dt.datetime.combine(day, moment, tzinfo=zone)
    utc = local.astimezone(dt.UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValueError(f"{day} {moment} does not exist in {zone.key} (clocks move forward)")
    return utc
