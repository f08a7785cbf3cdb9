"""The probes: /healthz says the process is up, /readyz says whether it can serve."""

import json

import pytest
from django.db import connection

CLOSED_PORT = "redis://127.0.0.1:1/0"


def test_healthz_answers_without_touching_the_database(client):
    # given no database access at all (this test is not marked django_db)
    response = client.get("/healthz")

    assert json.loads(response.content) == {"status": "alive"}
    assert "no-cache" in response["Cache-Control"]
    assert "Content-Security-Policy" not in response


@pytest.mark.django_db
def test_readyz_is_ready_when_database_redis_and_migrations_are(client):
    response = client.get("/readyz")

    body = json.loads(response.content)
    assert (response.status_code, body["status"]) == (200, "ready")
    assert "max-age=0" in response["Cache-Control"]
    assert "Content-Security-Policy" not in response


@pytest.mark.django_db
def test_readyz_names_the_redis_it_cannot_reach(client, settings):
    settings.CELERY_BROKER_URL = CLOSED_PORT

    response = client.get("/readyz")

    body = json.loads(response.content)
    assert (response.status_code, body["status"]) == (503, "not ready")
    (problem,) = body["problems"]
    assert problem.startswith(f"redis unreachable at {CLOSED_PORT}: ")
    assert "Connection refused" in problem


@pytest.mark.django_db
def test_readyz_says_when_postgresql_does_not_answer(client, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "PORT", "1")

    response = client.get("/readyz")

    (problem,) = json.loads(response.content)["problems"]
    assert response.status_code == 503
    assert problem.startswith("database unreachable: OperationalError")


@pytest.mark.django_db(transaction=True)
def test_readyz_names_a_migration_that_is_not_applied(client):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'keys' AND id = "
                       "(SELECT max(id) FROM django_migrations WHERE app = 'keys') "
                       "RETURNING app, name, applied")
        row = cursor.fetchone()
    try:
        response = client.get("/readyz")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO django_migrations (app, name, applied) "
                           "VALUES (%s, %s, %s)", row)

    assert response.status_code == 503
    assert json.loads(response.content)["problems"] == [
        f"migrations not applied: keys.{row[1]}"]


def test_probes_answer_only_get(client):
    assert client.post("/healthz").status_code == 405
