"""The scheduler's tables: sessions as staff left them, placements, the outbox and the inbox."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, Uuid

from shared.db import UtcDateTime

metadata = MetaData()

sessions = Table(
    "catalogue_sessions",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("programme_id", String(64), nullable=False, index=True),
    Column("status", String(16), nullable=False),  # scheduled | cancelled
    Column("revision", Integer, nullable=False),
    Column("session_json", Text, nullable=False),  # shared.catalogue.Session, capacity included
    Column("updated_at", UtcDateTime(), nullable=False),
)

registrations = Table(
    "seat_placements",
    metadata,
    Column("registration_id", Uuid, primary_key=True),
    Column("programme_id", String(64), nullable=False, index=True),
    Column("arrival", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # pending|assigned|offered|waitlisted|cancelled
    Column("session_id", String(64), nullable=True),
    Column("choice_rank", Integer, nullable=True),
    Column("reason", String(500), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("declined_json", Text, nullable=False),
    Column("held_since", Integer, nullable=False),
    Column("request_json", Text, nullable=False),
    Column("registrant_json", Text, nullable=True),  # personal data: NULL once erased
    Column("correlation_id", String(128), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("topic", String(128), nullable=False),
    Column("key", String(128), nullable=False),
    Column("registration_id", Uuid, nullable=True, index=True),
    Column("event_json", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("published_at", UtcDateTime(), nullable=True, index=True),
)

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("processed_at", UtcDateTime(), nullable=False),
)

programme_versions = Table(
    "programme_versions",
    metadata,
    Column("programme_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),  # +1 by every transaction that writes the book
)
