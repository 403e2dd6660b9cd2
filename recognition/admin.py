from django.contrib import admin

from recognition.models import Collection, Line, Note, Page, RecognitionJob, Tag


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "status", "pages_done", "pages_total", "created"]
    list_filter = ["status", "kind"]
    search_fields = ["title", "original_name", "owner__username"]
    readonly_fields = ["storage_key", "sha256", "size", "content_type"]


@admin.register(RecognitionJob)
class RecognitionJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "note", "status", "attempts", "created", "finished"]
    list_filter = ["status"]


admin.site.register([Collection, Tag, Page, Line])
