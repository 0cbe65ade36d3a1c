from django.conf import settings


def site(request) -> dict:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "MAX_UPLOAD_SIZE": settings.MAX_UPLOAD_SIZE,
        "RESUMABLE_UPLOAD_THRESHOLD": settings.RESUMABLE_UPLOAD_THRESHOLD,
        "UPLOAD_CHUNK_SIZE": settings.UPLOAD_CHUNK_SIZE,
    }
