from celery import shared_task
from django.db import OperationalError

from usage import services


@shared_task
def roll_up_usage() -> int | None:
    """Beat runs this every few seconds; safe to run twice, concurrently or after a crash.
    No retries: the next beat run is the retry."""
    return services.roll_up_usage()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=60, max_retries=3)
def purge_raw_calls() -> int:
    """Nightly: drop raw rows past retention; rollups keep the history."""
    return services.purge_raw_calls()
