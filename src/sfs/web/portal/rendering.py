"""Jinja2 templates, with gettext wired in so the portal can speak English and Dutch."""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from sfs.auth.password_policy import password_rules
from sfs.domain.roles import Role
from sfs.domain.user_agents import readable
from sfs.i18n import DEFAULT_LANGUAGE, localize, negotiate, translations
from sfs.services.identity.web_sessions import ActiveSession
from sfs.web.portal.session import services_of

TEMPLATES = Path(__file__).parent / "templates"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    extensions=["jinja2.ext.i18n"],
)
# The language of the page being rendered; templates are rendered synchronously inside render().
_page_language: ContextVar[str] = ContextVar("page_language", default=DEFAULT_LANGUAGE)


def _gettext(message: str) -> str:
    # A service's Message carries its own msgid and values; a plain msgid is looked up.
    return localize(message, translations(_page_language.get()))


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_page_language.get()).ngettext(singular, plural, n)


_environment.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
templates = Jinja2Templates(env=_environment)
# For text that arrives as a value (an error message, a label defined in code): translated when
# the catalogue has it, shown as it is otherwise, and never %-formatted the way `_` is.
templates.env.globals["translate"] = _gettext
templates.env.globals["role_label"] = lambda role: _gettext(Role(role).label)
# The rules a new password must meet, shown on every form that sets one (before any refusal).
templates.env.globals["password_rules"] = password_rules
# "Chrome 120 on Linux" rather than the raw User-Agent header (which is kept in a tooltip).
templates.env.globals["user_agent_label"] = lambda user_agent: readable(user_agent, _gettext)


def page_language(request: Request, context: dict[str, Any]) -> str:
    """The signed-in user's choice, else the browser's preference, else English."""
    session = context.get("session")
    if isinstance(session, ActiveSession):
        chosen = services_of(request).languages.chosen_by(session.actor)
        if chosen is not None:
            return chosen
    return negotiate(request.headers.get("accept-language")) or DEFAULT_LANGUAGE


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    context = dict(context or {})
    language = page_language(request, context)
    context["lang"] = language
    token = _page_language.set(language)
    try:
        response = templates.TemplateResponse(request, template, context, status_code=status_code)
    finally:
        _page_language.reset(token)
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response
