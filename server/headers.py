"""Security headers on every response, and Secure cookies when the site is served over HTTPS.

One policy per part of the site: the cadres' app and the admin run no inline script and load nothing
from other origins; API answers are data, never a page. The admin's stylesheet rules allow inline
style (piccolo-admin's Vue screens and the office pages set styles), never inline script. /schema
serves the OpenAPI description as JSON only, under the API's policy.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"SAMEORIGIN"),  # for browsers older than frame-ancestors
]
_PAGE = ("default-src 'self'; script-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
         "worker-src 'self'; manifest-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; "
         "form-action 'self'; frame-ancestors 'none'")
CSP_PWA = "style-src 'self'; " + _PAGE
CSP_ADMIN = "style-src 'self' 'unsafe-inline'; " + _PAGE
CSP_API = "default-src 'none'; frame-ancestors 'none'; sandbox"
HSTS = b"max-age=31536000"


def policy_for(path: str) -> str:
    if path.startswith("/api/") or path == "/schema" or path.startswith("/schema/"):
        return CSP_API
    if path.startswith(("/admin", "/dasbor")):
        return CSP_ADMIN
    return CSP_PWA


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https  # the public address is https (KADER_PUBLIC_URL)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = policy_for(scope.get("root_path", "") + scope["path"])
        secure = self.https or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, _secure_cookie(v) if secure and k.lower() == b"set-cookie" else v)
                           for k, v in message.get("headers", [])]
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in COMMON if k not in present]
                if csp and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", csp.encode()))
                if secure:
                    headers.append((b"strict-transport-security", HSTS))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _secure_cookie(value: bytes) -> bytes:
    """Add ``Secure`` and a ``SameSite`` to a Set-Cookie value that lacks them (HttpOnly is the
    setter's choice: the CSRF cookie must stay readable by the admin's script)."""
    attributes = {part.strip().split(b"=", 1)[0].lower() for part in value.split(b";")[1:]}
    if b"secure" not in attributes:
        value += b"; Secure"
    if b"samesite" not in attributes:
        value += b"; SameSite=Lax"
    return value
