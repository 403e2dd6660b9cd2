"""What the API reads and writes. Writes are validated here for shape only; the services
decide what is allowed (ownership, limits, conflicts), as for the HTML pages."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from recognition.models import Collection, Line, Note, Page, RecognitionJob, Revision, Tag


def absolute_url(serializer, name: str, *args) -> str:
    """The absolute URL of an API route, for the serializer's request."""
    request = serializer.context.get("request")
    path = reverse(f"api:{name}", args=args)
    return request.build_absolute_uri(path) if request else path


@extend_schema_field(OpenApiTypes.INT)
class OwnedCollectionField(serializers.PrimaryKeyRelatedField):
    """A collection id, among the requesting user's collections only (others: "invalid pk")."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return Collection.objects.none()
        return Collection.objects.filter(owner=request.user)


class CollectionSerializer(serializers.ModelSerializer):
    note_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Collection
        fields = ["id", "name", "note_count", "created"]
        read_only_fields = ["created"]


class TagSerializer(serializers.ModelSerializer):
    note_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "name", "note_count"]


class ProgressSerializer(serializers.Serializer):
    pages_done = serializers.IntegerField()
    pages_total = serializers.IntegerField()
    percent = serializers.IntegerField()


def note_progress(note: Note) -> dict:
    return {"pages_done": note.pages_done, "pages_total": note.pages_total,
            "percent": note.progress_percent}


class NoteSerializer(serializers.ModelSerializer):
    """A note in lists and as returned by uploads and updates."""

    collection = OwnedCollectionField()
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    progress = serializers.SerializerMethodField()
    job = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    original_url = serializers.SerializerMethodField()
    partial = serializers.SerializerMethodField(help_text=(
        "Some page was only partly read: its reading time ran out, and its remaining lines "
        "were located but not read (see the pages' `unread_lines`)."))

    class Meta:
        model = Note
        fields = ["id", "title", "collection", "tags", "note_date", "kind", "original_name",
                  "status", "progress", "error", "revision", "job", "created", "updated",
                  "thumbnail_url", "original_url", "partial"]
        read_only_fields = [f for f in fields if f not in ("title", "collection", "note_date")]

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, note: Note) -> dict:
        return note_progress(note)

    def get_job(self, note: Note) -> int | None:
        """The latest recognition job, to poll at /jobs/{id}/."""
        jobs = getattr(note, "prefetched_jobs", None)
        if jobs is not None:
            return jobs[0].pk if jobs else None
        return note.jobs.values_list("pk", flat=True).first()

    def get_partial(self, note: Note) -> bool:
        partly_read = getattr(note, "partly_read", None)  # annotated by `note_list`
        if partly_read is None:
            partly_read = note.pages.filter(partial=True).exists()
        return partly_read

    def get_thumbnail_url(self, note: Note) -> str:
        return absolute_url(self, "note-thumbnail", note.pk)

    def get_original_url(self, note: Note) -> str:
        return absolute_url(self, "note-original", note.pk)


class NoteUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    collection = OwnedCollectionField(required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False)
    note_date = serializers.DateField(required=False, allow_null=True)


class UploadSerializer(serializers.Serializer):
    file = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), allow_empty=False,
        help_text="One or more photos (JPEG, PNG, WebP, TIFF, BMP, HEIC) or PDFs: repeat the "
                  "field for several files; each becomes a note.")
    collection = OwnedCollectionField(required=False, allow_null=True)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    tags = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                 help_text="Comma-separated tag names.")
    note_date = serializers.DateField(required=False, allow_null=True)


class UploadResultSerializer(serializers.Serializer):
    notes = NoteSerializer(many=True)


class ReadingSerializer(serializers.Serializer):
    text = serializers.CharField()
    probability = serializers.FloatField()


class WordSerializer(serializers.Serializer):
    word = serializers.CharField()
    confidence = serializers.FloatField()
    readings = ReadingSerializer(many=True, help_text="Other readings the model considered.")


class RegionSerializer(serializers.Serializer):
    polygon = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()),
                                    help_text="[[x, y], ...] in page image pixels; empty for a "
                                              "line typed in by hand.")
    baseline = serializers.ListField(child=serializers.ListField(
        child=serializers.IntegerField()))
    bbox = serializers.ListField(child=serializers.IntegerField(), allow_null=True,
                                 help_text="[x0, y0, x1, y1], or null without a polygon.")


class LineSerializer(serializers.ModelSerializer):
    page = serializers.IntegerField(source="page.number", read_only=True)
    region = serializers.SerializerMethodField()
    alternatives = serializers.SerializerMethodField()

    class Meta:
        model = Line
        fields = ["id", "page", "order", "text", "machine_text", "confidence", "corrected",
                  "read", "revision", "region", "alternatives"]
        read_only_fields = fields
        extra_kwargs = {"read": {"help_text": (
            "False: the line was located but its page's reading time ran out before it was "
            "read; its text is empty until a person types it in (then `corrected`).")}}

    @extend_schema_field(RegionSerializer)
    def get_region(self, line: Line) -> dict:
        points = [[round(x), round(y)] for x, y in line.polygon]
        bbox = None
        if points:
            xs, ys = zip(*points, strict=True)
            bbox = [min(xs), min(ys), max(xs), max(ys)]
        return {"polygon": points, "baseline": [[round(x), round(y)] for x, y in line.baseline],
                "bbox": bbox}

    @extend_schema_field(WordSerializer(many=True))
    def get_alternatives(self, line: Line) -> list[dict]:
        """Per word of the machine reading, what else it could have been."""
        return [{"word": w["text"], "confidence": w["confidence"],
                 "readings": [a for a in w.get("alternatives", []) if a["text"] != w["text"]]}
                for w in line.words or []]


ERROR_TEXT_OR_POLYGON = "Send either `text` or `polygon` (with `revision`), not both."


def polygon_field(**kwargs) -> serializers.ListField:
    """[[x, y], ...] in page image pixels; the services check the points against the page."""
    return serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        help_text="[[x, y], ...]: 3 to 2,000 points in page image pixels, within the image "
                  "(points slightly outside are clamped to it).", **kwargs)


def revision_field() -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, help_text=(
        "The note revision the client last read: a change based on an older one that would "
        "touch lines changed since is refused with 409 and the current text."))


class LineUpdateSerializer(serializers.Serializer):
    """A line's text, or its region: one of them per request (each is one revision)."""

    text = serializers.CharField(allow_blank=True, max_length=2000, trim_whitespace=False,
                                 required=False)
    polygon = polygon_field(required=False)
    revision = revision_field()

    def validate(self, attrs):
        if ("text" in attrs) == ("polygon" in attrs):
            raise serializers.ValidationError({"non_field": [ERROR_TEXT_OR_POLYGON]})
        return attrs


class BaseRevisionSerializer(serializers.Serializer):
    revision = revision_field()


class LineSplitSerializer(BaseRevisionSerializer):
    at = serializers.IntegerField(min_value=0, help_text=(
        "Where to split the text: the characters before index `at` stay in this line, the "
        "rest becomes a new line right after it."))


class LineMergeSerializer(BaseRevisionSerializer):
    """Which line to merge this one with."""

    def get_fields(self):
        fields = super().get_fields()  # `with` is a Python keyword: added by name
        fields["with"] = serializers.IntegerField(help_text=(
            "The line just before or after this one on its page. The earlier of the two keeps "
            "its id and both texts, joined with a space; the other is deleted."))
        return fields


class LineMoveSerializer(BaseRevisionSerializer):
    to = serializers.IntegerField(min_value=0, help_text=(
        "The line's new place among its page's lines, from 0."))


class LineInsertSerializer(BaseRevisionSerializer):
    after = serializers.IntegerField(allow_null=True, required=False, default=None, help_text=(
        "The line of this page the new one follows; null or absent: first on the page."))
    text = serializers.CharField(trim_whitespace=False, help_text=(
        "At most NOTES_MAX_LINE_CHARS characters (2,000 unless configured)."))
    polygon = polygon_field(required=False, default=list)


class PageSummarySerializer(serializers.ModelSerializer):
    """A page without its lines."""

    image_url = serializers.SerializerMethodField()

    class Meta:
        model = Page
        fields = ["number", "width", "height", "skew", "recognized", "partial", "unread_lines",
                  "image_url"]
        read_only_fields = fields
        extra_kwargs = {
            "partial": {"help_text": (
                "Only partly read: the page's reading time ran out (NOTES_PAGE_SECONDS), so "
                "some lines were located but not read.")},
            "unread_lines": {"help_text": (
                "How many lines were located but not read: their `read` is false and their "
                "text empty, for a person to type in, or recognize the note again.")},
        }

    def get_image_url(self, page: Page) -> str:
        return absolute_url(self, "note-page-image", page.note_id, page.number)


class NoteDetailSerializer(NoteSerializer):
    lines = serializers.SerializerMethodField()
    pages = PageSummarySerializer(many=True, read_only=True,
                                  help_text="The pages, without their lines (see `pages_url`).")

    class Meta(NoteSerializer.Meta):
        fields = [*NoteSerializer.Meta.fields, "text", "pages", "pages_url", "lines"]
        read_only_fields = [*NoteSerializer.Meta.read_only_fields, "text"]

    pages_url = serializers.SerializerMethodField()

    def get_pages_url(self, note: Note) -> str:
        return absolute_url(self, "note-pages", note.pk)

    @extend_schema_field(LineSerializer(many=True))
    def get_lines(self, note: Note) -> list[dict]:
        lines = Line.objects.filter(page__note=note).select_related("page").order_by(
            "page__number", "order")
        return LineSerializer(lines, many=True, context=self.context).data


class PageSerializer(PageSummarySerializer):
    lines = LineSerializer(many=True, read_only=True)

    class Meta(PageSummarySerializer.Meta):
        fields = [*PageSummarySerializer.Meta.fields, "lines"]
        read_only_fields = fields


class PageLinesSerializer(serializers.Serializer):
    """A page's lines after a structural correction."""

    revision = serializers.IntegerField(help_text="The note's revision now.")
    page = serializers.IntegerField(help_text="The page's number.")
    lines = LineSerializer(many=True, help_text="Every line of the page, in reading order.")


class RevisionSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True,
                                          allow_null=True, help_text="Null for the recognizer.")
    text = serializers.CharField(read_only=True)

    class Meta:
        model = Revision
        fields = ["number", "kind", "author", "summary", "created", "text"]


class RevertSerializer(serializers.Serializer):
    revision = serializers.IntegerField(min_value=0, help_text="The note revision you read.")


class JobSerializer(serializers.ModelSerializer):
    note_status = serializers.CharField(source="note.status", read_only=True)
    progress = serializers.SerializerMethodField()
    note_url = serializers.SerializerMethodField()

    class Meta:
        model = RecognitionJob
        fields = ["id", "note", "status", "attempts", "error", "model_version", "created",
                  "started", "finished", "note_status", "progress", "note_url"]

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, job: RecognitionJob) -> dict:
        return note_progress(job.note)

    def get_note_url(self, job: RecognitionJob) -> str:
        return absolute_url(self, "note-detail", job.note_id)
