"""Admin: auth events (read-only, for staff), the throttled admin log-in, token-revoking
password changes."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from accounts.forms import ThrottledAdminAuthenticationForm, TokenRevokingAdminPasswordChangeForm
from accounts.models import AuthEvent

# The admin's log-in counts failures like the site's (HTTP 429 comes from views.admin_login).
admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(AuthEvent)
class AuthEventAdmin(admin.ModelAdmin):
    list_display = ["created", "kind", "username", "address", "path", "user_agent"]
    list_filter = ["kind", "created"]
    search_fields = ["username", "address"]
    date_hierarchy = "created"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a record of attacks; pruning after NOTES_AUTH_EVENT_DAYS removes it


admin.site.unregister(User)
admin.site.unregister(Group)

# Only superusers manage staff (issue 12): anyone else with rights over users can neither grant
# rights (to others or to themselves) nor change a staff account (its password, say).
STAFF_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(User)
class TokenRevokingUserAdmin(UserAdmin):
    change_password_form = TokenRevokingAdminPasswordChangeForm

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if request.user.is_superuser else (*fields, *STAFF_FIELDS)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_staff and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_staff and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Group)
class SuperuserGroupAdmin(GroupAdmin):
    """Groups carry rights (the "Reviewers" of the review panel): superusers only."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
