"""The scheduler's tables: placements (one per registration) and the inbox of processed events."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, Uuid

from shared.db import UtcDateTime

metadata = MetaData()

placements = Table(
    "placements",
    metadata,
    Column("registration_id", Uuid, primary_key=True),
    Column("programme_id", String(64), nullable=False, index=True),
    Column("session_id", String(64), nullable=True),
    Column("status", String(16), nullable=False),  # assigned | waitlisted
    Column("revision", Integer, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("event_json", Text, nullable=False),  # exactly what was (or will be) published
    Column("created_at", UtcDateTime(), nullable=False),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", String(64), primary_key=True),
    Column("event_id", Uuid, primary_key=True),
    Column("processed_at", UtcDateTime(), nullable=False),
)
