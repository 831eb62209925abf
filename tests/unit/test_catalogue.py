"""The programme catalogue: the seed file, local-to-UTC conversion, and clear errors for bad files."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.catalogue import (
    CatalogueError,
    UnknownProgramme,
    UnknownSession,
    load_catalogue,
    parse_catalogue,
)

pytestmark = pytest.mark.unit

SEED = Path(__file__).resolve().parents[2] / "deploy" / "seed" / "programmes.yaml"

MINIMAL: dict[str, Any] = {
    "programmes": [
        {
            "id": "demo",
            "title": "Demo programme",
            "mode": "first_come",
            "phases": [{"id": "training", "title": "Training"}],
            "sessions": [
                {
                    "id": "demo-1",
                    "phase": "training",
                    "title": "Demo training",
                    "mode": "in_person",
                    "timezone": "Europe/Belgrade",
                    "dates": [date(2027, 1, 12)],
                    "start": "09:30",
                    "end": "16:30",
                    "venue": {"name": "SKIP Center", "city": "Belgrade"},
                    "capacity": 24,
                    "language": "sr-Latn",
                }
            ],
        }
    ]
}


def with_session(**changes: Any) -> str:
    """The minimal catalogue as YAML, with fields of its one session changed (None removes)."""
    data = copy.deepcopy(MINIMAL)
    session = data["programmes"][0]["sessions"][0]
    for key, value in changes.items():
        if value is None:
            session.pop(key, None)
        else:
            session[key] = value
    return yaml.safe_dump(data, allow_unicode=True)


def error_of(text: str) -> str:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(text, source="bad.yaml")
    return str(caught.value)


def test_seed_file_loads_both_programmes() -> None:
    catalogue = load_catalogue(SEED)
    assert [p.id for p in catalogue.programmes] == ["social-networks-lsg", "social-media-bih"]
    serbian = catalogue.programme("social-networks-lsg")
    assert serbian.mode == "first_come"
    assert [p.id for p in serbian.phases] == ["research", "training", "mentoring", "competition"]


def test_five_two_day_trainings_at_skip_center_in_belgrade_summer_time() -> None:
    programme = load_catalogue(SEED).programme("social-networks-lsg")
    trainings = [s for s in programme.sessions if s.phase == "training"]
    assert len(trainings) == 5
    for session in trainings:
        assert session.mode == "in_person"
        assert session.venue is not None
        assert (session.venue.name, session.venue.city) == ("SKIP Center", "Belgrade")
        assert (session.timezone, session.capacity, session.language) == (
            "Europe/Belgrade",
            24,
            "sr-Latn",
        )
        assert len(session.days) == 2
        assert all(d.month in (6, 7) and d.year == 2027 for d in session.local_dates)
        for day in session.utc_days:  # 09:30-16:30 in Belgrade is 07:30-14:30 UTC in summer (UTC+2)
            assert (day.starts_at.time(), day.ends_at.time()) == (time(7, 30), time(14, 30))
            assert day.starts_at.tzinfo is not None
            assert day.starts_at.utcoffset() is not None
        assert session.deadline is not None
        assert session.deadline < session.starts_at


def test_mentoring_sessions_are_online_and_ninety_minutes() -> None:
    programme = load_catalogue(SEED).programme("social-networks-lsg")
    mentoring = [s for s in programme.sessions if s.phase == "mentoring"]
    assert len(mentoring) >= 3
    for session in mentoring:
        assert session.mode == "online"
        assert session.venue is None
        assert str(session.online_url).startswith("https://meet.jit.si/")
        day = session.utc_days[0]
        assert (day.ends_at - day.starts_at).total_seconds() == 90 * 60


def test_bih_training_is_one_day_in_sarajevo_in_bosnian() -> None:
    programme = load_catalogue(SEED).programme("social-media-bih")
    (session,) = programme.sessions
    assert (session.timezone, session.language, len(session.days)) == ("Europe/Sarajevo", "bs", 1)
    assert session.venue is not None
    assert session.venue.city == "Sarajevo"


def test_seed_trainers_use_example_addresses_only() -> None:
    for programme in load_catalogue(SEED).programmes:
        for session in programme.sessions:
            assert session.trainers
            assert all(t.email.endswith("@example.org") for t in session.trainers)


def test_snapshot_carries_the_session_in_utc() -> None:
    session = load_catalogue(SEED).programme("social-networks-lsg").session("sn-training-1")
    snapshot = session.snapshot()
    assert (snapshot.session_id, snapshot.programme_id) == ("sn-training-1", "social-networks-lsg")
    assert snapshot.days[0].starts_at == datetime(2027, 6, 8, 7, 30, tzinfo=UTC)
    assert snapshot.venue == session.venue
    assert snapshot.trainers == session.trainers


def test_conversion_follows_daylight_saving_time() -> None:
    # Europe/Belgrade moves to summer time on 2027-03-28: 09:30 local is 08:30 UTC before, 07:30 after.
    text = with_session(dates=[date(2027, 3, 27), date(2027, 3, 29)])
    session = parse_catalogue(text).programme("demo").session("demo-1")
    starts = [day.starts_at for day in session.utc_days]
    assert starts == [
        datetime(2027, 3, 27, 8, 30, tzinfo=UTC),
        datetime(2027, 3, 29, 7, 30, tzinfo=UTC),
    ]


def test_explicit_days_and_naive_deadline_are_local() -> None:
    days = [{"date": date(2027, 1, 12), "start": "10:00", "end": "11:30"}]
    text = with_session(
        dates=None, start=None, end=None, days=days, registration_deadline="2027-01-05T23:59"
    )
    session = parse_catalogue(text).programme("demo").session("demo-1")
    assert session.utc_days[0].starts_at == datetime(2027, 1, 12, 9, 0, tzinfo=UTC)  # winter: UTC+1
    assert session.deadline == datetime(2027, 1, 5, 22, 59, tzinfo=UTC)


def test_derived_times_are_computed_once_and_afresh_for_a_changed_copy() -> None:
    text = with_session(registration_deadline="2027-01-05T23:59")
    session = parse_catalogue(text).programme("demo").session("demo-1")
    assert session.utc_days is session.utc_days
    assert session.deadline is session.deadline
    later = session.days[0].model_copy(update={"date": date(2027, 6, 15)})
    moved = session.model_copy(
        update={"days": (later,), "registration_deadline": datetime(2027, 6, 1, 12, 0)}
    )
    assert moved.starts_at == datetime(2027, 6, 15, 7, 30, tzinfo=UTC)  # summer: UTC+2
    assert moved.deadline == datetime(2027, 6, 1, 10, 0, tzinfo=UTC)
    assert session.starts_at == datetime(2027, 1, 12, 8, 30, tzinfo=UTC), "the original keeps its"


def test_a_changed_copy_of_a_programme_finds_its_own_sessions() -> None:
    programme = load_catalogue(SEED).programme("social-networks-lsg")
    first = programme.session("sn-training-1")
    renamed = first.model_copy(update={"id": "sn-training-9"})
    others = tuple(s for s in programme.sessions if s.id != first.id)
    changed = programme.model_copy(update={"sessions": (*others, renamed)})
    assert changed.session("sn-training-9") is renamed
    with pytest.raises(UnknownSession):
        changed.session("sn-training-1")
    assert programme.session("sn-training-1") is first


def test_lookups_raise_named_errors() -> None:
    catalogue = load_catalogue(SEED)
    with pytest.raises(UnknownProgramme):
        catalogue.programme("nope")
    with pytest.raises(UnknownSession):
        catalogue.programme("social-media-bih").session("sn-training-1")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"timezone": "Europe/Belgrad"},
            "programmes[demo].sessions[demo-1].timezone: unknown IANA",
        ),
        ({"capacity": 0}, "programmes[demo].sessions[demo-1].capacity"),
        ({"venue": None}, "venue is required for an in_person session"),
        ({"phase": "mentoring"}, "phase 'mentoring' is not declared"),
        ({"room": "12"}, "programmes[demo].sessions[demo-1].room: Extra inputs are not permitted"),
        ({"start": "16:30", "end": "09:30"}, "must be after start"),
        ({"start": "02:30", "dates": [date(2027, 3, 28)]}, "does not exist in Europe/Belgrade"),
        ({"language": "de"}, "sessions[demo-1].language"),
        ({"start": None}, "dates needs a list of dates and both start and end"),
        ({"municipality_cap": 0}, "sessions[demo-1].municipality_cap"),
    ],
)
def test_bad_catalogue_names_the_field_and_why(changes: dict[str, Any], expected: str) -> None:
    message = error_of(with_session(**changes))
    assert message.startswith("bad.yaml: invalid catalogue")
    assert expected in message


def test_unquoted_yaml_time_gets_a_hint() -> None:
    text = with_session().replace("end: '16:30'", "end: 16:30")
    assert "end: write times in quotes" in error_of(text)


def test_duplicate_session_ids_are_rejected() -> None:
    data = copy.deepcopy(MINIMAL)
    sessions = data["programmes"][0]["sessions"]
    sessions.append(copy.deepcopy(sessions[0]))
    assert "duplicate session id(s): demo-1" in error_of(yaml.safe_dump(data))


def test_broken_yaml_and_missing_file_are_clear(tmp_path: Path) -> None:
    assert "bad.yaml: not valid YAML" in error_of("programmes: [\n  - id: x\n")
    with pytest.raises(CatalogueError, match="cannot read the catalogue"):
        load_catalogue(tmp_path / "missing.yaml")


def test_a_municipality_cap_is_optional() -> None:
    assert parse_catalogue(with_session()).programmes[0].sessions[0].municipality_cap is None
    capped = parse_catalogue(with_session(municipality_cap=3))
    assert capped.programmes[0].sessions[0].municipality_cap == 3
