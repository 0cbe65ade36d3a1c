from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET
from django.views.static import serve

from videohost.storage import public_storage

# Stored bytes are media, never a page of this origin: should a browser ever render one as a
# document (a polyglot opened directly, say), it runs no script and has no origin. The same
# header as nginx's media locations (deploy/nginx/videohost.conf).
MEDIA_CONTENT_SECURITY_POLICY = "default-src 'none'; sandbox"


@require_GET
def serve_public_media(request, path: str) -> FileResponse:
    """Serve a file from the public media root (development and single-machine set-ups).

    django.views.static.serve refuses `..` and absolute paths, so nothing outside the public
    root, and in particular no video original, can be reached through this URL.
    """
    root = public_storage().location
    if not root:
        raise Http404("Not found")
    try:
        response = serve(request, path, document_root=root)
    except (OSError, ValueError):
        # A name the filesystem refuses (too long, a NUL byte) names no file of ours either;
        # without this it would be a 500.
        raise Http404("Not found") from None
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CONTENT_SECURITY_POLICY
    response["Cache-Control"] = "public, max-age=3600"
    return response
