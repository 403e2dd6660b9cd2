from django.apps import AppConfig
from django.conf import settings


class RecognitionConfig(AppConfig):
    name = "recognition"
    verbose_name = "Recognition"

    def ready(self) -> None:
        from django_q.signals import post_spawn
        from PIL import Image

        from recognition import checks  # noqa: F401 - registers the model files' check
        from recognition.search import receivers
        from recognition.signals import note_deleted, note_text_changed
        from recognition.worker import worker_started

        note_text_changed.connect(receivers.note_text_changed_index,
                                  dispatch_uid="search-index-note")
        note_deleted.connect(receivers.note_deleted_unindex, dispatch_uid="search-unindex-note")
        post_spawn.connect(worker_started, dispatch_uid="load-recognizer-at-worker-start")
        # Pillow refuses to open images over its own bomb limit (twice MAX_IMAGE_PIXELS; about
        # 179 MP by default). Every page image we store is within NOTES_MAX_IMAGE_PIXELS, so
        # with the limit raised to it when set higher, no later stage (exports, search crops,
        # re-runs) trips on a page we accepted; it is never lowered, nor set where it is off.
        if Image.MAX_IMAGE_PIXELS is not None:
            Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS,
                                         settings.NOTES_MAX_IMAGE_PIXELS)
