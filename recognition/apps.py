from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "recognition"
    verbose_name = "Recognition"

    def ready(self) -> None:
        from recognition.search import receivers
        from recognition.signals import note_deleted, note_text_changed

        note_text_changed.connect(receivers.note_text_changed_index,
                                  dispatch_uid="search-index-note")
        note_deleted.connect(receivers.note_deleted_unindex, dispatch_uid="search-unindex-note")
