"""What every administrative portal page checks first: a signed-in browser, a fresh form."""

from __future__ import annotations

from fastapi.responses import RedirectResponse

from sfs.domain.errors import PermissionDenied
from sfs.i18n import N_
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.portal.session import tokens_match


def to_login() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


def require_fresh_form(active: ActiveSession, submitted: str) -> None:
    """Every POST carries the session's CSRF token; anything else changes nothing."""
    if not tokens_match(active.csrf_token, submitted):
        raise PermissionDenied(N_("Your form expired. Please reload the page and try again."))
