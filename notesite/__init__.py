"""The Django project: settings, URLs and entry points of the notes platform."""
