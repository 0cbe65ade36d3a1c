from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """knox tokens (hashed, expiring) under the contract's `Authorization: Bearer` header.

    knox already refuses tokens of inactive users; the header prefix comes from REST_KNOX.
    """


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "videohost.api.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Token from /api/auth/login"}
