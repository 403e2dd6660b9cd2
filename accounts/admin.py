"""Admin: auth events (read-only, for staff), the throttled admin log-in, token-revoking
password changes."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

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


@admin.register(User)
class TokenRevokingUserAdmin(UserAdmin):
    change_password_form = TokenRevokingAdminPasswordChangeForm
