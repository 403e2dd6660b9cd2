"""API endpoints over the search index, the export formats and the ALTO/PAGE import (their
logic lives in `recognition.search`, `recognition.exports` and `recognition.imports`; these
only translate to and from HTTP)."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from recognition import imports, selectors
from recognition.api.errors import Conflict
from recognition.api.serializers import NoteSerializer, OwnedCollectionField, absolute_url
from recognition.api.views import PassthroughRenderer
from recognition.exports import archive
from recognition.exports.document import note_document
from recognition.exports.registry import FORMATS
from recognition.models import Collection, Line
from recognition.search.crops import line_crop
from recognition.search.query import SearchResults

ERROR_NOTHING_TO_EXPORT = "There is nothing to export yet: no page has been read."


class SearchParamsSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=500, help_text=(
        'Words; "an exact phrase"; prefix*; -excluded. Typos are tolerated both ways, and the '
        "recognizer's alternative readings are searched too (ranked lower), except inside "
        "quotes: a quoted phrase or word is found only as typed (case and punctuation aside)."))
    collection = serializers.IntegerField(required=False, min_value=1)
    tag = serializers.CharField(required=False, max_length=60)
    # "from" is a Python keyword: the field is declared under its URL name below.
    to = serializers.DateField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)
        return fields


class SearchHitSerializer(serializers.Serializer):
    note = serializers.IntegerField(source="note_id")
    note_title = serializers.CharField()
    collection = serializers.IntegerField(source="collection_id")
    collection_name = serializers.CharField()
    note_date = serializers.DateField()
    line = serializers.IntegerField(source="line_id")
    page = serializers.IntegerField(source="page_number")
    text = serializers.CharField()
    snippet = serializers.CharField(help_text="HTML: the escaped text, matches in <mark>.")
    highlights = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=2,
                                    max_length=2),
        help_text="[start, end) offsets of the matches in `text`.")
    match = serializers.ChoiceField(choices=["exact", "fuzzy", "alternative"])
    score = serializers.FloatField()
    region = serializers.SerializerMethodField()
    crop_url = serializers.SerializerMethodField()
    web_url = serializers.SerializerMethodField()

    def get_region(self, hit) -> list[list[int]]:
        return [[round(x), round(y)] for x, y in hit.polygon]

    def get_crop_url(self, hit) -> str | None:
        """The line's image, to check the reading by eye; null for a line typed in."""
        return absolute_url(self, "line-crop", hit.line_id) if hit.polygon else None

    def get_web_url(self, hit) -> str:
        """The note's page in the web app, opened at this line (scrolled to and marked)."""
        path = reverse("recognition:note", args=[hit.note_id]) + f"#line-{hit.line_id}"
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class SearchView(GenericAPIView):
    """Search all of the user's notes, best matches first."""

    queryset = Line.objects.none()  # for the schema: the results come from SearchResults
    serializer_class = SearchHitSerializer
    error_responses = {"get": [400]}

    @extend_schema(
        tags=["search"],
        parameters=[SearchParamsSerializer,
                    OpenApiParameter("from", OpenApiTypes.DATE, description="Notes from this "
                                     "date (the note's date, else its upload date)."),
                    OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=SearchHitSerializer(many=True),
    )
    def get(self, request):
        params = SearchParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        collection = data.get("collection")
        if collection is not None and not Collection.objects.filter(
                pk=collection, owner=request.user).exists():
            raise serializers.ValidationError({"collection": ["No such collection."]})
        results = SearchResults(request.user, data["q"], collection=collection,
                                tag=data.get("tag"), date_from=data.get("from"),
                                date_to=data.get("to"))
        page = self.paginate_queryset(results)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class LineCropView(APIView):
    """The image of one line, cut from its page (JPEG)."""

    renderer_classes = [JSONRenderer, PassthroughRenderer]

    @extend_schema(tags=["lines"], responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        note_pk = Line.objects.filter(pk=pk, page__note__owner=request.user).values_list(
            "page__note_id", flat=True).first()
        jpeg = line_crop(user=request.user, note_pk=note_pk or 0, line_id=pk)
        return HttpResponse(jpeg, content_type="image/jpeg",
                            headers={"Cache-Control": "private, max-age=3600"})


class ExportParamsSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=sorted(FORMATS), help_text=(
        "txt, md, json, pdf (searchable: the page images with an invisible text layer), "
        "docx, alto or page (XML; a zip with the page images when the note has several "
        "pages)."))


EXPORT_RESPONSES = {(200, f.content_type.split(";")[0]): OpenApiTypes.BINARY
                    for f in FORMATS.values()}
EXPORT_RESPONSES[(200, "application/json")] = OpenApiTypes.OBJECT  # the json format
EXPORT_RESPONSES[(200, archive.ZIP_TYPE)] = OpenApiTypes.BINARY


class NoteExportView(APIView):
    """Download a note in an export format."""

    renderer_classes = [JSONRenderer, PassthroughRenderer]
    error_responses = {"get": [400, 409]}

    @extend_schema(tags=["notes"], parameters=[ExportParamsSerializer],
                   responses=EXPORT_RESPONSES)
    def get(self, request, pk: int):
        note = selectors.note_get(user=request.user, pk=pk)
        params = ExportParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        fmt = FORMATS[params.validated_data["format"]]
        document = note_document(note, images=fmt.needs_images)
        if not document.pages:
            raise Conflict(ERROR_NOTHING_TO_EXPORT)
        export = archive.note_export(fmt, document)
        response = HttpResponse(export.data, content_type=export.content_type)
        response["Content-Disposition"] = content_disposition_header(True, export.name)
        response["Cache-Control"] = "private, no-store"
        return response


class NoteImportSerializer(serializers.Serializer):
    xml = serializers.FileField(allow_empty_file=True, help_text=(
        "The ALTO (measured in pixels) or PAGE XML file, without DOCTYPE or entities; by "
        "default at most 5 MB, 5,000 lines and 2,000 characters a line."))
    image = serializers.FileField(allow_empty_file=True, help_text=(
        "The image of the page the XML describes (JPEG, PNG, WebP, TIFF, BMP, HEIC)."))
    collection = OwnedCollectionField(required=False, allow_null=True)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                  help_text="Default: the XML file's name.")


class NoteImportView(APIView):
    """Import a page transcribed elsewhere as a note: no recognition, every line corrected."""

    parser_classes = [MultiPartParser, FormParser]
    # The XML's problems are 400s; the image's size and type answer as uploads do.
    error_responses = {"post": [413, 415]}

    @extend_schema(tags=["notes"], request={"multipart/form-data": NoteImportSerializer},
                   responses={201: NoteSerializer})
    def post(self, request):
        params = NoteImportSerializer(data=request.data, context={"request": request})
        params.is_valid(raise_exception=True)
        data = params.validated_data
        note = imports.note_import(user=request.user, xml_file=data["xml"],
                                   image_file=data["image"], collection=data.get("collection"),
                                   title=data.get("title", ""))
        return Response(NoteSerializer(note, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)
