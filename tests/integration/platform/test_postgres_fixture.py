"""The PostgreSQL the tests use is real, and every test gets its own empty database."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared.db import create_engine

pytestmark = pytest.mark.integration


async def test_fresh_database_on_a_real_server(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        async with engine.begin() as connection:
            version = await connection.scalar(text("SHOW server_version"))
            tables = await connection.scalar(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            )
            await connection.execute(text("CREATE TABLE probe (id int primary key)"))
    finally:
        await engine.dispose()
    assert str(version).split(".")[0].isdigit()
    assert tables == 0
