"""API views: thin, like the pages' views. Querysets are always scoped to the requesting user,
so another user's object is a 404 like one that does not exist."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.throttle import ClientRateThrottle
from recognition import instant, revisions, selectors, services
from recognition.api import serializers as s
from recognition.exceptions import UploadError
from recognition.files import file_response
from recognition.models import Collection, Line, Note, Page, RecognitionJob, Tag
from recognition.uploads import check_upload

ERROR_RECOGNIZE_PDF = "Instant recognition reads one image; upload PDFs as notes instead."
ERROR_NO_SUCH_LINE = "This note has no line {line_id}."
ERROR_NO_SUCH_LINE_ON_PAGE = "Page {page} of this note has no line {line_id}."
JPEG_RESPONSE = {(200, "image/jpeg"): OpenApiTypes.BINARY}
ORIGINAL_RESPONSE = {(200, "image/*"): OpenApiTypes.BINARY,
                     (200, "application/pdf"): OpenApiTypes.BINARY}


class PassthroughRenderer(BaseRenderer):
    """Lets a client that asks for an image get one (errors still render as JSON)."""

    media_type = "*/*"
    format = "file"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict):  # an error raised before the file was found
            renderer_context["response"]["Content-Type"] = "application/json"
            return JSONRenderer().render(data)
        return data


def _validation_error(err: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(
        err.message_dict if hasattr(err, "error_dict") else {"non_field": err.messages})


def page_lines_response(page: Page, *, code: int = status.HTTP_200_OK) -> Response:
    """A page's lines in reading order, with the note's revision (after a structural edit)."""
    revision = Note.objects.values_list("revision", flat=True).get(pk=page.note_id)
    lines = page.lines.select_related("page").order_by("order", "pk")
    return Response(s.PageLinesSerializer({"revision": revision, "page": page.number,
                                           "lines": lines}).data, status=code)


# Collections and tags --------------------------------------------------------------------------

class CollectionViewSet(viewsets.ModelViewSet):
    queryset = Collection.objects.none()  # for the schema; get_queryset scopes to the user
    serializer_class = s.CollectionSerializer
    filter_backends = [OrderingFilter]
    ordering_fields = ["name", "created"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.collection_list(user=self.request.user)

    def perform_create(self, serializer):
        try:
            serializer.instance = services.collection_create(
                user=self.request.user, name=serializer.validated_data["name"])
        except DjangoValidationError as err:
            raise _validation_error(err) from err
        serializer.instance.note_count = 0

    def perform_update(self, serializer):
        try:
            services.collection_rename(
                user=self.request.user, collection=serializer.instance,
                name=serializer.validated_data.get("name", serializer.instance.name))
        except DjangoValidationError as err:
            raise _validation_error(err) from err

    def perform_destroy(self, instance):
        services.collection_delete(user=self.request.user, collection=instance)


class TagViewSet(viewsets.ModelViewSet):
    queryset = Tag.objects.none()
    serializer_class = s.TagSerializer
    filter_backends = [OrderingFilter]
    ordering_fields = ["name", "note_count"]
    ordering = ["name"]

    def get_queryset(self):
        return selectors.tag_list(user=self.request.user).annotate(note_count=Count("notes"))

    def perform_create(self, serializer):
        try:
            serializer.instance = services.tag_create(user=self.request.user,
                                                      name=serializer.validated_data["name"])
        except DjangoValidationError as err:
            raise _validation_error(err) from err
        serializer.instance.note_count = 0

    def perform_update(self, serializer):
        try:
            services.tag_rename(user=self.request.user, tag=serializer.instance,
                                name=serializer.validated_data.get("name",
                                                                   serializer.instance.name))
        except DjangoValidationError as err:
            raise _validation_error(err) from err

    def perform_destroy(self, instance):
        services.tag_delete(user=self.request.user, tag=instance)


# Notes -----------------------------------------------------------------------------------------

class NoteFilter(filters.FilterSet):
    collection = filters.ModelChoiceFilter(queryset=lambda request: Collection.objects.filter(
        owner=request.user) if request else Collection.objects.none())
    tag = filters.CharFilter(field_name="tags__name", help_text="A tag name.")
    status = filters.ChoiceFilter(choices=Note.Status.choices)
    date_from = filters.DateFilter(field_name="note_date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="note_date", lookup_expr="lte")
    title = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Note
        fields = ["collection", "tag", "status", "date_from", "date_to", "title"]


@extend_schema(tags=["notes"])
class NoteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                  viewsets.GenericViewSet):
    """A user's notes: upload (each file becomes a note), read, update, delete, re-recognize."""

    queryset = Note.objects.none()
    serializer_class = s.NoteSerializer
    filterset_class = NoteFilter
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["created", "updated", "title", "note_date"]
    ordering = ["-created"]
    error_responses = {"create": [413, 415], "retry": [409], "revert": [409],
                       "line_insert": [409]}

    def get_queryset(self):
        jobs = RecognitionJob.objects.order_by("-created")
        return selectors.note_list(user=self.request.user).prefetch_related(
            Prefetch("jobs", queryset=jobs, to_attr="prefetched_jobs"))

    def get_serializer_class(self):
        return s.NoteDetailSerializer if self.action == "retrieve" else s.NoteSerializer

    def get_parsers(self):
        # Uploads are multipart; self.action is only set after parsers are chosen.
        request = getattr(self, "request", None)  # None while the schema is generated
        if request is not None and self.action_map.get(request.method.lower()) == "create":
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()

    @extend_schema(request={"multipart/form-data": s.UploadSerializer},
                   responses={202: s.UploadResultSerializer})
    def create(self, request):
        """Upload photos or PDFs; recognition runs in the background (poll the job)."""
        upload = s.UploadSerializer(data=request.data, context={"request": request})
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        notes = services.note_upload(
            user=request.user, files=data["file"], collection=data.get("collection"),
            title=data.get("title", ""), note_date=data.get("note_date"),
            tags=[t for t in data.get("tags", "").split(",") if t.strip()])
        notes = self.get_queryset().filter(pk__in=[n.pk for n in notes]).order_by("pk")
        return Response({"notes": s.NoteSerializer(notes, many=True,
                                                   context={"request": request}).data},
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=s.NoteUpdateSerializer, responses=s.NoteSerializer)
    def partial_update(self, request, pk=None):
        """Rename, move to another collection, re-tag or re-date a note."""
        note = self.get_object()
        change = s.NoteUpdateSerializer(data=request.data, context={"request": request})
        change.is_valid(raise_exception=True)
        data = change.validated_data
        try:
            services.note_update(
                user=request.user, note=note, title=data.get("title", note.title),
                collection=data.get("collection", note.collection),
                tags=data.get("tags", [t.name for t in note.tags.all()]),
                note_date=data.get("note_date", note.note_date))
        except DjangoValidationError as err:
            raise _validation_error(err) from err
        return Response(s.NoteSerializer(self.get_queryset().get(pk=note.pk),
                                         context={"request": request}).data)

    def perform_destroy(self, instance):
        services.note_delete(user=self.request.user, note=instance)

    @extend_schema(responses=s.PageSerializer(many=True))
    @action(detail=True, pagination_class=None)  # at most NOTES_MAX_PDF_PAGES: one list
    def pages(self, request, pk=None):
        """The note's pages with their lines, in reading order."""
        note = self.get_object()
        pages = selectors.note_pages(note=note)
        return Response(s.PageSerializer(pages, many=True, context={"request": request}).data)

    @extend_schema(request=None, responses={202: s.JobSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Recognize again: after a failure, or to re-read with a newer model. Lines a person
        corrected are kept."""
        job = services.note_recognize(user=request.user, note=self.get_object())
        return Response(s.JobSerializer(job, context={"request": request}).data,
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=s.RevisionSerializer(many=True))
    @action(detail=True)
    def revisions(self, request, pk=None):
        """The note's revisions, newest first."""
        note = self.get_object()
        page = self.paginate_queryset(selectors.revision_list(note=note))
        page = selectors.revision_lines_attach(revisions=page)  # their text, replayed once
        data = s.RevisionSerializer(page, many=True).data
        return self.get_paginated_response(data)

    @extend_schema(request=s.RevertSerializer, responses=s.NoteDetailSerializer)
    @action(detail=True, methods=["post"], url_path=r"revisions/(?P<number>\d+)/revert")
    def revert(self, request, pk=None, number=None):
        """Make the note read as it did at revision `number` (as a new revision)."""
        note = self.get_object()
        body = s.RevertSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        selectors.revision_get(note=note, number=int(number))
        revisions.revision_revert(user=request.user, note=note, number=int(number),
                                  base_revision=body.validated_data["revision"])
        return Response(s.NoteDetailSerializer(self.get_queryset().get(pk=note.pk),
                                               context={"request": request}).data)

    @extend_schema(responses=JPEG_RESPONSE)
    @action(detail=True, renderer_classes=[JSONRenderer, PassthroughRenderer])
    def thumbnail(self, request, pk=None):
        return file_response(self.get_object().thumbnail.name)

    @extend_schema(responses=ORIGINAL_RESPONSE)
    @action(detail=True, renderer_classes=[JSONRenderer, PassthroughRenderer])
    def original(self, request, pk=None):
        note = self.get_object()
        return file_response(note.original.name, download_name=note.original_name)

    @extend_schema(request=s.LineInsertSerializer,
                   responses={201: s.PageLinesSerializer})
    @action(detail=True, methods=["post"], url_path=r"pages/(?P<number>\d+)/lines",
            url_name="page-lines")
    def line_insert(self, request, pk=None, number=None):
        """Add a line typed in (one the recognizer missed) to a page after line `after`, with
        a region drawn on the page image or none; answers the page's lines. 409 when the
        page's lines changed since `revision`."""
        page = get_object_or_404(self.get_object().pages, number=int(number))
        body = s.LineInsertSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        after = None
        if data["after"] is not None:
            after = page.lines.filter(pk=data["after"]).first()
            if after is None:
                raise serializers.ValidationError({"after": [ERROR_NO_SUCH_LINE_ON_PAGE.format(
                    page=page.number, line_id=data["after"])]})
        revisions.line_insert(user=request.user, note=page.note, page=page, after=after,
                              text=data["text"], polygon=data["polygon"],
                              base_revision=data["revision"])
        return page_lines_response(page, code=status.HTTP_201_CREATED)

    @extend_schema(responses=JPEG_RESPONSE)
    @action(detail=True, url_path=r"pages/(?P<number>\d+)/image", url_name="page-image",
            renderer_classes=[JSONRenderer, PassthroughRenderer])
    def page_image(self, request, pk=None, number=None):
        page = get_object_or_404(self.get_object().pages, number=int(number))
        return file_response(page.image.name)


# Lines and jobs --------------------------------------------------------------------------------

@extend_schema(tags=["lines"])
class LineViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A line: correct its text or region, delete, split, merge or move it."""

    queryset = Line.objects.none()
    serializer_class = s.LineSerializer
    http_method_names = ["get", "patch", "post", "delete", "head", "options"]
    error_responses = {"partial_update": [409], "destroy": [409], "split": [409],
                       "merge": [409], "move": [409]}

    def get_queryset(self):
        return Line.objects.filter(page__note__owner=self.request.user).select_related(
            "page__note")

    def _body(self, serializer_class, data=None) -> dict:
        body = serializer_class(data=self.request.data if data is None else data)
        body.is_valid(raise_exception=True)
        return body.validated_data

    @extend_schema(request=s.LineUpdateSerializer, responses=s.LineSerializer)
    def partial_update(self, request, pk=None):
        """Correct a line's text, or its region (`polygon`; then the line counts as
        corrected). Send the note revision you read: if the line changed since, 409 with its
        current text (nothing is overwritten); merge and send again."""
        line = self.get_object()
        data = self._body(s.LineUpdateSerializer)
        if "polygon" in data:
            revisions.line_region_set(user=request.user, note=line.page.note, line=line,
                                      polygon=data["polygon"], base_revision=data["revision"])
        else:
            revisions.lines_update(user=request.user, note=line.page.note,
                                   edits={line.pk: data["text"]},
                                   base_revision=data["revision"])
        return Response(s.LineSerializer(self.get_queryset().get(pk=line.pk)).data)

    @extend_schema(request=s.BaseRevisionSerializer, responses={200: s.PageLinesSerializer},
                   parameters=[OpenApiParameter("revision", int, description=(
                       "The note revision you read (or {\"revision\": N} as the body)."))])
    def destroy(self, request, pk=None):
        """Delete a line (dust read as text, say); answers its page's lines. 409 when the
        page's lines changed since `revision` (added, removed, moved, or this one edited)."""
        line = self.get_object()
        data = self._body(s.BaseRevisionSerializer, request.data or request.query_params)
        revisions.line_delete(user=request.user, note=line.page.note, line=line,
                              base_revision=data["revision"])
        return page_lines_response(line.page)

    @extend_schema(request=s.LineSplitSerializer, responses=s.PageLinesSerializer)
    @action(detail=True, methods=["post"])
    def split(self, request, pk=None):
        """Split a line in two before character `at` (its region too, across its baseline);
        answers its page's lines. 409 when the page's lines changed since `revision`."""
        line = self.get_object()
        data = self._body(s.LineSplitSerializer)
        revisions.line_split(user=request.user, note=line.page.note, line=line, at=data["at"],
                             base_revision=data["revision"])
        return page_lines_response(line.page)

    @extend_schema(request=s.LineMergeSerializer, responses=s.PageLinesSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge a line with the one just before or after it on its page; answers the page's
        lines. 409 when the page's lines changed since `revision`."""
        line = self.get_object()
        data = self._body(s.LineMergeSerializer)
        other = Line.objects.filter(pk=data["with"], page__note=line.page.note).first()
        if other is None:
            raise serializers.ValidationError({"with": [ERROR_NO_SUCH_LINE.format(
                line_id=data["with"])]})
        revisions.line_merge(user=request.user, note=line.page.note, line=line,
                             with_line=other, base_revision=data["revision"])
        return page_lines_response(line.page)

    @extend_schema(request=s.LineMoveSerializer, responses=s.PageLinesSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move a line to place `to` (from 0) of its page's reading order; answers the page's
        lines. 409 when the page's lines changed since `revision`."""
        line = self.get_object()
        data = self._body(s.LineMoveSerializer)
        revisions.line_move(user=request.user, note=line.page.note, line=line,
                            to_index=data["to"], base_revision=data["revision"])
        return page_lines_response(line.page)


@extend_schema(tags=["jobs"])
class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Recognition jobs, for polling an upload until its note is done or failed."""

    queryset = RecognitionJob.objects.none()
    serializer_class = s.JobSerializer

    def get_queryset(self):
        return RecognitionJob.objects.filter(note__owner=self.request.user).select_related(
            "note").order_by("-created")


# Instant recognition ---------------------------------------------------------------------------

class RecognizeRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="One photo or scan of a page (not a PDF).",
                                 allow_empty_file=True)


class RecognizedLineSerializer(serializers.Serializer):
    text = serializers.CharField()
    confidence = serializers.FloatField()
    read = serializers.BooleanField(help_text=(
        "False: located, but the page's reading time ran out before it was read (no text)."))
    polygon = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))


class RecognizeResultSerializer(serializers.Serializer):
    text = serializers.CharField()
    partial = serializers.BooleanField(help_text=(
        "Only partly read: the page's reading time ran out (NOTES_PAGE_SECONDS), so some lines "
        "were located but not read; `text` lacks them."))
    unread_lines = serializers.IntegerField(help_text="How many lines were located but not read.")
    lines = RecognizedLineSerializer(many=True, required=False,
                                     help_text="With ?detail=1 only.")


@extend_schema(tags=["recognize"])
class RecognizeView(APIView):
    """One image in, its text out, synchronously; nothing is stored. Read with the model that
    reads the user's notes: their personal model when they use one, else the standard one."""

    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [ClientRateThrottle]
    throttle_scope = "recognize"
    error_responses = {"post": [413, 415, 503]}

    @extend_schema(
        request={"multipart/form-data": RecognizeRequestSerializer},
        parameters=[OpenApiParameter("detail", bool, description="Also return the lines.")],
        responses={200: RecognizeResultSerializer},
    )
    def post(self, request):
        body = RecognizeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        checked = check_upload(upload)
        if checked.kind != "image":
            raise UploadError(ERROR_RECOGNIZE_PDF, code="unsupported_type")
        detail = request.query_params.get("detail") in ("1", "true", "yes")
        return Response(instant.image_recognize(user=request.user, upload=upload, check=checked,
                                                detail=detail))
