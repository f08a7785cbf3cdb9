from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # allauth reports password, email and MFA changes only as signals.
        from accounts import receivers  # noqa: F401
