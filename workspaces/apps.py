from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "workspaces"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # allauth announces a finished sign-up only as a signal; an invitation
        # opened before signing up is accepted there.
        from workspaces import receivers  # noqa: F401
