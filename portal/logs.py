"""Log lines that name their request: as text, or one JSON object per line.

Every record passing the console handler gets `request_id`: the id of the request being
served (audit.context, set by audit.middleware and echoed in the X-Request-Id header),
or "-" outside a request. LOG_FORMAT=json turns each record into one JSON object on one
line (newlines in messages and tracebacks are escaped), for log shippers. Celery
workers log through their own handlers; the same filter and formatter are put on them
once Celery has set them up.
"""

import json
import logging
import os
from datetime import UTC, datetime

from celery.signals import after_setup_logger, after_setup_task_logger

from audit import context


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to every record (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = context.current().request_id or "-"
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
