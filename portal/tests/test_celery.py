"""Which queue each task goes to, and that every task is bounded in time."""


from portal.celery import QUEUES, app, queue_for, route

OURS = ("accounts.", "workspaces.", "onboarding.", "keys.", "webhooks.", "usage.", "audit.",
        "portal.")


def our_tasks():
    app.loader.import_default_modules()  # as a worker does at start: every app's tasks.py
    return {name: task for name, task in app.tasks.items() if name.startswith(OURS)}


def test_email_webhooks_and_usage_each_have_their_own_queue():
    assert queue_for("accounts.tasks.send_email") == "mail"
    assert queue_for("webhooks.tasks.dispatch") == "webhooks"
    assert queue_for("webhooks.tasks.sweep") == "webhooks"
    assert queue_for("usage.tasks.roll_up_usage") == "usage"
    assert queue_for("keys.tasks.anything_else") == "default"
    assert set(QUEUES) == {"mail", "webhooks", "usage", "default"}
    assert route("accounts.tasks.send_email", (), {}, {}) == {"queue": "mail"}


def test_every_task_has_a_soft_and_a_hard_time_limit():
    tasks = our_tasks()
    assert "webhooks.tasks.dispatch" in tasks and "accounts.tasks.send_email" in tasks
    for name, task in tasks.items():
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        hard = task.time_limit or app.conf.task_time_limit
        assert soft and hard and soft < hard, name


def test_every_periodic_task_exists_and_the_webhook_ones_expire():
    our_tasks()
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, name
        if entry["task"].startswith("webhooks."):
            assert entry["options"]["expires"] <= entry["schedule"], name
