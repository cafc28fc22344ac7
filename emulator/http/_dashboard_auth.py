"""Who may use the dashboard, and which of its form posts are genuine (docs/dashboard.md#the-admin-token).

A browser cannot send a header when it follows a link, so the dashboard takes the admin token
once, in a form, and keeps a session cookie: its value is derived from the token (an HMAC, so the
cookie is not the token itself, and every worker of `serve --workers N` derives the same one), it
is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends it) and scoped
to `/_emulator/ui` (the JSON control plane still takes the token in a header only). A request with
the token in a header (`Authorization: Bearer`, `X-Emulator-Token`) is let in as on the control plane.

A form post that changes the state must come from the dashboard itself: its `Origin` (or, when a
browser sends none, its `Sec-Fetch-Site`) names this server, and it carries the form token the page
gave it, derived from the admin token like the cookie. The origin check also holds with no admin
token, when the dashboard is open like the control plane: a page of another local server (another
port of `localhost` is the same *site* for a cookie, not the same *origin*) cannot post to it.
"""

from __future__ import annotations

import hashlib
import hmac
from http.cookies import CookieError, SimpleCookie

from ..engine._config import EmulatorConfig
from ._routing import AdminUnauthorized, check_admin_token, same_origin
from ._transport import ApiRequest

UI_PREFIX = "/_emulator/ui"
COOKIE = "emulator_dashboard"
CSRF_FIELD = "csrf"
NO_TOKEN_CSRF = "open"  # the form token of a dashboard without an admin token: only the origin check applies


def _derived(token: str, purpose: str) -> str:
    return hmac.new(token.encode(), f"together-eval-emulator dashboard {purpose}".encode(), hashlib.sha256).hexdigest()


def session_value(token: str) -> str:
    """The session cookie's value for an admin token."""
    return _derived(token, "session")


def csrf_token(config: EmulatorConfig) -> str:
    """The token every form of the dashboard carries."""
    return _derived(config.admin_token, "form") if config.admin_token else NO_TOKEN_CSRF


def _cookie(request: ApiRequest) -> str | None:
    raw = request.header("cookie")
    if not raw:
        return None
    try:
        morsel = SimpleCookie(raw).get(COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel is not None else None


def authorized(config: EmulatorConfig, request: ApiRequest) -> bool:
    """Whether the request may see the dashboard: no admin token is set, or it carries the token
    in a header, or the session cookie of the token."""
    token = config.admin_token
    if not token:
        return True
    cookie = _cookie(request)
    if cookie is not None and hmac.compare_digest(cookie.encode(), session_value(token).encode()):
        return True
    if request.header("authorization") or request.header("x-emulator-token"):
        try:
            check_admin_token(token, request)
        except AdminUnauthorized:
            return False
        return True
    return False


def token_matches(config: EmulatorConfig, given: str) -> bool:
    """Whether `given` (typed in the token form) is the admin token."""
    token = config.admin_token or ""
    return hmac.compare_digest(given.encode(), token.encode())


def _secure(request: ApiRequest) -> bool:
    return request.base_url.startswith("https://")


def session_cookie(config: EmulatorConfig, request: ApiRequest) -> str:
    """The `Set-Cookie` value that opens a session (for the browser's session only: no expiry)."""
    secure = "; Secure" if _secure(request) else ""
    return f"{COOKIE}={session_value(config.admin_token or '')}; Path={UI_PREFIX}; HttpOnly; SameSite=Strict{secure}"


def expired_cookie(request: ApiRequest) -> str:
    """The `Set-Cookie` value that ends a session."""
    secure = "; Secure" if _secure(request) else ""
    return f"{COOKIE}=; Path={UI_PREFIX}; Max-Age=0; HttpOnly; SameSite=Strict{secure}"


def csrf_ok(config: EmulatorConfig, request: ApiRequest, given: str | None) -> bool:
    """Whether a form post is genuine: from this server's page, with the page's form token."""
    return same_origin(request) and hmac.compare_digest((given or "").encode(), csrf_token(config).encode())


def safe_next(target: str | None) -> str:
    """Where to go after the token form: a page of the dashboard, never another site."""
    if target and target.startswith(UI_PREFIX) and target.isascii() and target.isprintable() and "\\" not in target:
        return target
    return UI_PREFIX
