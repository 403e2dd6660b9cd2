"""A small real task for the worker tests: one row per run, in a table of the test's own."""

from __future__ import annotations

import os

from django.db import connection

TABLE = "deploy_test_completion"


def table_create() -> None:
    """The completions table: no unique key, so that a task run twice shows as two rows."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (number INTEGER NOT NULL, "
                       "worker VARCHAR(40) NOT NULL)")


def table_drop() -> None:
    """Remove the table (the test database's flush only knows Django's own)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def completion_record(number: int) -> int:
    """Append a row for this run of task `number`, naming the cluster that ran it."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (number, worker) VALUES (%s, %s)",
                       [number, os.environ.get("DEPLOY_TEST_WORKER", "?")])
    return number


def completions() -> list[tuple[int, str]]:
    """Every (task number, cluster) row written so far."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT number, worker FROM {TABLE}")
        return list(cursor.fetchall())
