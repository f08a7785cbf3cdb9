from celery import shared_task

from keys import services


@shared_task(queue="default", time_limit=300, soft_time_limit=240)
def send_expiry_notices() -> int:
    """Beat, hourly: email Owners about keys expiring in 14 and 3 days; each notice once,
    so running twice or after a crash sends nothing twice."""
    return services.send_expiry_notices()


@shared_task(ignore_result=True)
def announce_expiring_keys() -> None:
    """Hourly: a key.expiring webhook event for each key expiring within 7 days, once."""
    services.announce_expiring_keys()
