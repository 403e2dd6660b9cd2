"""`POST /api/v1/notes/capture/`: several photos, one per page, uploaded as ONE note, as the
capture page does (recognition/capture.py), for phone apps of their own."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from recognition import capture, selectors
from recognition.api import serializers as s
from recognition.exceptions import UploadError


class CaptureSerializer(serializers.Serializer):
    page = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), allow_empty=False,
        help_text="The photos, one per page, in page order (repeat the field).")
    rotation = serializers.ListField(
        child=serializers.CharField(allow_blank=True), required=False,
        help_text="Clockwise turn of each page: 0, 90, 180 or 270; one per page, or none.")
    crop = serializers.ListField(
        child=serializers.CharField(allow_blank=True), required=False,
        help_text="Part of each page to keep, after its turn: \"left,top,width,height\" as "
                  "fractions from 0 to 1 (empty: all of it); one per page, or none.")
    collection = s.OwnedCollectionField(required=False, allow_null=True)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    tags = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                 help_text="Comma-separated tag names.")
    note_date = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs):
        try:
            attrs["pages"] = capture.pages_from_lists(
                uploads=attrs["page"], rotations=attrs.get("rotation", []),
                crops=attrs.get("crop", []))
        except UploadError as err:
            raise serializers.ValidationError({"page": err.problems}) from None
        return attrs


class NoteCaptureApi(APIView):
    """Upload the photos of several pages as one note (a PDF of them)."""

    parser_classes = [MultiPartParser, FormParser]
    error_responses = {"post": [413, 415]}

    @extend_schema(request={"multipart/form-data": CaptureSerializer},
                   responses={202: s.UploadResultSerializer})
    def post(self, request):
        """Recognition runs in the background, as for an upload (poll the note's job)."""
        body = CaptureSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        note = capture.note_capture(
            user=request.user, pages=data["pages"], collection=data.get("collection"),
            title=data.get("title", ""), note_date=data.get("note_date"),
            tags=[t for t in data.get("tags", "").split(",") if t.strip()])
        note = selectors.note_list(user=request.user).get(pk=note.pk)
        return Response({"notes": [s.NoteSerializer(note, context={"request": request}).data]},
                        status=status.HTTP_202_ACCEPTED)
