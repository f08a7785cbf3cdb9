"""System checks of the deployment (`manage.py check --deploy`, `make check-deploy`)."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from portal.devsecrets import development_secrets_in, refusal


@register(Tags.security, deploy=True)
def development_secrets(app_configs, **kwargs) -> list[Error]:
    names = development_secrets_in({name: getattr(settings, name, None)
                                    for name in ("SECRET_KEY", "API_KEY_PEPPER",
                                                 "WEBHOOK_SECRET_KEYS", "GATEWAY_SERVICE_TOKEN")})
    return [Error(refusal(names), id="portal.E001")] if names else []
