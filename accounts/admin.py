from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User
from audit.models import Action
from audit.services import record


class ReadOnlyAdminMixin:
    """Rows the platform writes through its services (with their audit events): staff
    read them in the admin and change nothing there. Lives in the lowest app so that
    every app's admin can use it."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined", "last_login"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups",
                                    "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    # Every admin change to a person (email, password, staff, superuser, active, groups,
    # permissions) is an audit event: the admin reports each save through log_change
    # (the change form and the password form alike) and each new user through
    # log_addition, inside the save's transaction.
    def log_addition(self, request, obj, message):
        record(action=Action.USER_CHANGED_BY_STAFF, actor=request.user, target=obj,
               details=_user_change(obj, ["created"]))
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        record(action=Action.USER_CHANGED_BY_STAFF, actor=request.user, target=obj,
               details=_user_change(obj, _changed_fields(message)))
        return super().log_change(request, obj, message)


def _changed_fields(message) -> list[str]:
    if not isinstance(message, list):
        return [str(message)]
    return [str(field) for entry in message
            for field in entry.get("changed", {}).get("fields", [])]


def _user_change(user: User, changed: list[str]) -> dict:
    return {"changed": changed, "email": user.email, "is_active": user.is_active,
            "is_staff": user.is_staff, "is_superuser": user.is_superuser,
            "groups": sorted(user.groups.values_list("name", flat=True))}
