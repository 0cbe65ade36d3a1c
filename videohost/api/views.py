from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from videohost.api.errors import error_response


# Exempt: nothing is there to protect, and a POST to a mistyped path must be the 404 it is, not
# a 403 "CSRF cookie not set" (DRF's own views are exempt the same way).
@csrf_exempt
def unknown_api_path(request, *args, **kwargs) -> JsonResponse:
    return error_response(404, f"No API endpoint at {request.path}.")
