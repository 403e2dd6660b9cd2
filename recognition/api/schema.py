"""OpenAPI schema details: every operation documents the errors it can answer with."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable: invalid, not_found, conflict, ...")
    message = serializers.CharField(help_text="For people: shown as is.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text="Per input field, what is wrong with it.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class NotesAutoSchema(AutoSchema):
    """Adds the shared error responses to each operation, from what the view does.

    A view may list more per action in `error_responses`, e.g. {"partial_update": [409]}.
    """

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        codes = set()
        if not any(issubclass(p, AllowAny) for p in self.view.permission_classes):
            codes |= {401, 403}
        if "{" in self.path:
            codes.add(404)
        if self.method in ("POST", "PUT", "PATCH") or getattr(self.view, "filterset_class", None):
            codes.add(400)
        if self.view.get_throttles():
            codes.add(429)
        if self._is_list_view() and self.view.paginator is not None:
            codes.add(404)  # a page number past the end
        extra = getattr(self.view, "error_responses", {})
        codes |= set(extra.get(getattr(self.view, "action", None) or self.method.lower(), []))
        for code in sorted(codes):
            bodies.setdefault(str(code), self._get_response_for_code(ErrorSerializer, str(code)))
        return bodies
