from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project package as an app, for its system checks."""

    name = "portal"

    def ready(self) -> None:
        from portal import checks  # noqa: F401
