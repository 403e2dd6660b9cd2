from urllib.parse import urlsplit

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # Checked when every process starts (web and workers), so a typo fails loudly instead
        # of a throttle counting the proxy or a reset link pointing nowhere.
        from accounts.clients import trusted_networks

        trusted_networks(tuple(settings.NOTES_TRUSTED_PROXIES))
        site = urlsplit(settings.NOTES_SITE_URL)
        if site.scheme not in {"http", "https"} or not site.netloc:
            raise ImproperlyConfigured(
                f"NOTES_SITE_URL must look like https://notes.example.org, "
                f"not {settings.NOTES_SITE_URL!r}")
