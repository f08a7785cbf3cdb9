from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OnboardingConfig(AppConfig):
    name = "onboarding"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Permissions exist only after migrate has run, so the group follows it.
        from onboarding.reviewers import ensure_reviewers_group

        post_migrate.connect(ensure_reviewers_group, sender=self)
