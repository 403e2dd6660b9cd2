"""`/api/v1/personal-models/`: a user's fine-tuned recognizers, for API clients."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from recognition.models import PersonalModel
from recognition.personal import services


class PersonalModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = PersonalModel
        fields = ["id", "status", "active", "reason", "parent", "base_version", "train_lines",
                  "held_out_lines", "cer_before", "cer_after", "training_seconds", "message",
                  "created", "started", "finished"]
        read_only_fields = fields


class PersonalModelSummarySerializer(serializers.Serializer):
    active = PersonalModelSerializer(allow_null=True, help_text="None: the site's model.")
    corrected_lines = serializers.IntegerField()
    lines_needed = serializers.IntegerField()


class RereadSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Notes queued to be read again.")


@extend_schema(tags=["personal models"])
class PersonalModelViewSet(viewsets.ReadOnlyModelViewSet):
    """Your recognizer, fine-tuned on the lines you corrected: its versions (newest first),
    starting a fine-tune, and choosing which version reads your next notes."""

    queryset = PersonalModel.objects.none()
    serializer_class = PersonalModelSerializer

    def get_queryset(self):
        return services.personal_model_list(user=self.request.user)

    @extend_schema(responses=PersonalModelSummarySerializer)
    @action(detail=False, methods=["get"])
    def current(self, request):
        """The version that reads your notes (null: the site's model) and your lines."""
        return Response(PersonalModelSummarySerializer(services.personal_model_summary(
            user=request.user)).data)

    @extend_schema(request=None, responses={202: PersonalModelSerializer})
    @action(detail=False, methods=["post"])
    def train(self, request):
        """Start a fine-tune now (409 while one runs, 400 with too few corrected lines)."""
        model = services.personal_model_train(user=request.user)
        return Response(PersonalModelSerializer(model).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: RereadSerializer})
    @action(detail=False, methods=["post"])
    def reread(self, request):
        """Queue your notes read by another model, to be read with your own (corrected lines
        keep their text); 400 when you have none."""
        queued = services.personal_model_reread(user=request.user)
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=PersonalModelSerializer)
    @action(detail=True, methods=["post"])
    def use(self, request, pk=None):
        """Read your next notes with this version (one that came out better); a rollback."""
        model = services.personal_model_use(user=request.user, model=self.get_object())
        return Response(PersonalModelSerializer(model).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=False, methods=["post"], url_path="use-standard")
    def use_standard(self, request):
        """Read your next notes with the site's model again."""
        services.personal_model_use(user=request.user, model=None)
        return Response(status=status.HTTP_204_NO_CONTENT)
