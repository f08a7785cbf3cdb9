"""Log lines that name their request: as text, or one JSON object per line.

Every record passing the console handler gets `request_id`: the id of the request being
served (audit.context, set by audit.middleware and echoed in the X-Request-Id header),
or "-" outside a request. A task enqueued while serving a request carries that id in a
message header, and the worker's lines while running it name it too. LOG_FORMAT=json
turns each record into one JSON object on one line (newlines in messages and
tracebacks are escaped), for log shippers. Celery workers log through their own
handlers; the same filter and formatter are put on them once Celery has set them up.
"""

import json
import logging
import os
from contextvars import ContextVar
from datetime import UTC, datetime

from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    before_task_publish,
    task_postrun,
    task_prerun,
)

from audit import context

TASK_HEADER = "portal_request_id"
_task_request_id: ContextVar[str] = ContextVar("task_request_id", default="")


def request_id() -> str:
    """The id of the request being served, or of the one that enqueued this task; "-"."""
    return context.current().request_id or _task_request_id.get() or "-"


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to every record (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id
    (and exception, when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _celery_handlers(logger: logging.Logger, **kwargs) -> None:
    for handler in logger.handlers:
        handler.addFilter(RequestIdFilter())
        if os.environ.get("LOG_FORMAT") == "json":
            handler.setFormatter(JsonFormatter())


@before_task_publish.connect
def _send_request_id(headers: dict | None = None, **kwargs) -> None:
    if headers is not None and (current := context.current().request_id):
        headers.setdefault(TASK_HEADER, current)


@task_prerun.connect
def _take_request_id(task=None, **kwargs) -> None:
    _task_request_id.set(getattr(task.request, TASK_HEADER, None) or "")


@task_postrun.connect
def _drop_request_id(**kwargs) -> None:
    _task_request_id.set("")
