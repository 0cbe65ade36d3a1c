from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


def strip_optional_slash(endpoints, **kwargs):
    """Document each path as the contract writes it: without the trailing slash.

    Routes accept both forms (`/?`); drf-spectacular would render them with the slash.
    """
    cleaned = []
    for path, path_regex, method, callback in endpoints:
        if path.endswith("/") and path != "/":
            path = path[:-1]
        cleaned.append((path, path_regex, method, callback))
    return cleaned


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    """The error envelope every endpoint answers with."""

    error = ErrorDetailSerializer()


def errors(**described: str) -> dict[int, OpenApiResponse]:
    """Envelope responses for the schema: errors(e403="Not the owner") → {403: ...}."""
    return {
        int(key[1:]): OpenApiResponse(ErrorSerializer, description=text)
        for key, text in described.items()
    }


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus the errors that every view of a kind answers and none
    declares by itself (found by videohost/tests/test_api_schema_fuzzing.py):

    - 401 wherever a Bearer token is read: a revoked or expired one is refused even where
      anonymous callers are welcome (a client must log in again, not be silently demoted);
    - 404 on every paginated list, for a `?page=` past the last page or not a positive whole
      number (DRF's "Invalid page.");
    - 415 wherever a body is read, for one in a type the operation does not take (or none).
    """

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        implied = {}
        if any(requirement for requirement in operation.get("security", [])):
            implied.update(errors(e401="Invalid or expired token."))
        if self.method == "GET" and self._get_paginator() is not None and self._is_list_view():
            implied.update(errors(e404="No such page."))
        if "requestBody" in operation:
            implied.update(errors(e415="The body is in a type this operation does not take."))
        for code, response in implied.items():
            # `_get_response_for_code` is private, but it is what registers the Error component.
            responses.setdefault(str(code), self._get_response_for_code(response, str(code)))
        operation["responses"] = dict(sorted(responses.items()))
        return operation
