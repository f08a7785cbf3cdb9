"""The logging configuration settings.py installs (pure: no Django, no Celery)."""


def logging_config(log_format: str, level: str) -> dict:
    """Console logging whose lines name their request (portal/logs.py's filter);
    `log_format == "json"` writes one JSON object per line."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "portal.logs.RequestIdFilter"}},
        "formatters": {"console": {"()": "portal.logs.JsonFormatter"}
                       if log_format == "json" else
                       {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] "
                                  "%(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "console",
                                 "filters": ["request_id"]}},
        "root": {"handlers": ["console"], "level": level},
        # Django's own console handler would print its lines a second time, without the id.
        "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False},
                    "django.db.backends": {"level": "WARNING"}},
    }
