"""The project itself as an app, so that its start-up checks are registered."""

from django.apps import AppConfig


class NotesiteConfig(AppConfig):
    name = "notesite"
    verbose_name = "Notes site"

    def ready(self) -> None:
        from notesite import checks  # noqa: F401  (registers the checks)
