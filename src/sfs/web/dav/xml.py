"""XML in and out of the WebDAV door.

Bodies from clients are parsed with defusedxml: no DTD at all (so no entity expansion, no
billion laughs, no external entities), and at most `MAX_XML_BYTES` (the body guard also caps
them). Answers are built as text with fixed prefixes, which is several times faster than a tree
for a folder of thousands of entries; values are escaped here and nowhere else.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from sfs.domain.errors import InvalidInput

DAV = "DAV:"
OC = "http://owncloud.org/ns"
NC = "http://nextcloud.org/ns"
PREFIXES = {DAV: "d", OC: "oc", NC: "nc"}
MAX_XML_BYTES = 1024 * 1024
XML_CONTENT_TYPE = "application/xml; charset=utf-8"
DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
NAMESPACES = " ".join(f'xmlns:{prefix}="{uri}"' for uri, prefix in PREFIXES.items())

Name = tuple[str, str]  # (namespace, local name); "" for no namespace


def parse(body: bytes) -> ET.Element | None:
    """The document's root element; None for an empty body; InvalidInput for anything else
    than one well-formed XML document without a DTD."""
    if not body.strip():
        return None
    if len(body) > MAX_XML_BYTES:
        raise InvalidInput(f"An XML body may be at most {MAX_XML_BYTES} bytes.", field="body")
    try:
        root: ET.Element = fromstring(body, forbid_dtd=True)
    except DefusedXmlException:
        raise InvalidInput("XML with a DTD or entities is refused.", field="body") from None
    except (ParseError, ValueError) as exc:
        raise InvalidInput(f"The body is not well-formed XML: {exc}", field="body") from None
    return root


def name_of(element: ET.Element) -> Name:
    tag = element.tag
    if isinstance(tag, str) and tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", str(tag)


def is_dav(element: ET.Element, local: str) -> bool:
    return name_of(element) == (DAV, local)


def serialise(element: ET.Element) -> str:
    """An element as self-contained XML (its namespace declarations on it), without the text
    that follows it in its parent."""
    tail, element.tail = element.tail, None
    try:
        return ET.tostring(element, encoding="unicode")
    finally:
        element.tail = tail


def inner_xml(element: ET.Element) -> str:
    """What is inside an element: its text and children, serialised."""
    parts = [escape(element.text or "")]
    for child in element:
        parts.append(serialise(child) + escape(child.tail or ""))
    return "".join(parts)


def tag(name: Name) -> str:
    """How an element of this name opens in an answer (a declaration if its prefix is not fixed)."""
    namespace, local = name
    prefix = PREFIXES.get(namespace)
    if prefix is not None:
        return f"{prefix}:{local}"
    if namespace == "":
        return f'{local} xmlns=""'
    return f"x:{local} xmlns:x={quoteattr(namespace)}"


def closing(name: Name) -> str:
    namespace, local = name
    prefix = PREFIXES.get(namespace)
    if prefix is not None:
        return f"{prefix}:{local}"
    return local if namespace == "" else f"x:{local}"


def element(name: Name, content: str = "") -> str:
    """`content` is XML already (escape text with `text`)."""
    if not content:
        return f"<{tag(name)}/>"
    return f"<{tag(name)}>{content}</{closing(name)}>"


def text(value: str) -> str:
    return escape(value)


def multistatus(responses: Iterable[str]) -> bytes:
    return (
        DECLARATION + f"<d:multistatus {NAMESPACES}>" + "".join(responses) + "</d:multistatus>"
    ).encode()


def response(href: str, propstats: Iterable[tuple[str, str]]) -> str:
    """One resource's answer: (status line, props XML) pairs; empty groups are left out."""
    groups = "".join(
        f"<d:propstat><d:prop>{props}</d:prop><d:status>HTTP/1.1 {status}</d:status></d:propstat>"
        for status, props in propstats
        if props
    )
    return f"<d:response><d:href>{escape(href)}</d:href>{groups}</d:response>"


def error_document(condition: str | None, message: str, exception: str) -> bytes:
    """An error body: the RFC 4918 precondition if there is one, and the message in the form
    Nextcloud clients show (Sabre's `s:exception` / `s:message`)."""
    inner = f"<d:{condition}/>" if condition else ""
    return (
        DECLARATION
        + '<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">'
        + inner
        + f"<s:exception>{escape(exception)}</s:exception>"
        + f"<s:message>{escape(message)}</s:message>"
        + "</d:error>"
    ).encode()
