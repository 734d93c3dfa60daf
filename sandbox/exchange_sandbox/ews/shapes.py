"""Item and folder shapes of EWS requests (sandbox, a test double): which properties to answer with."""

from __future__ import annotations

from dataclasses import dataclass, field

from exchange_sandbox.ews.fields import property_key
from exchange_sandbox.ews.kinds import DEFAULT_SHAPE, KIND_ORDER, NOT_IN_ALL_PROPERTIES
from exchange_sandbox.ews.xml import Element, boolean, t, text_of
from exchange_sandbox.store import PropertyKey


@dataclass
class Shape:
    base: str = "Default"
    names: set[str] = field(default_factory=set)
    extended: list[PropertyKey] = field(default_factory=list)
    include_mime: bool = False
    body_type: str = "Best"
    uris: list[str] = field(default_factory=list)
    """The FieldURIs of AdditionalProperties as requested (``meeting:IsOutOfDate``)."""


def parse_shape(el: Element | None) -> Shape:
    shape = Shape()
    if el is None:
        return shape
    shape.base = text_of(el, t("BaseShape")) or "Default"
    shape.include_mime = boolean(text_of(el, t("IncludeMimeContent")))
    shape.body_type = text_of(el, t("BodyType")) or "Best"
    props = el.find(t("AdditionalProperties"))
    if props is not None:
        for child in props:
            if child.tag == t("ExtendedFieldURI"):
                shape.extended.append(property_key(child))
            elif child.tag in (t("FieldURI"), t("IndexedFieldURI")):
                uri = child.get("FieldURI", "")
                shape.names.add(uri.split(":", 1)[-1])
                shape.uris.append(uri)
    if shape.include_mime:
        shape.names.add("MimeContent")
    return shape


def wanted(shape: Shape, kind: str) -> set[str]:
    names = set(shape.names)
    if shape.base == "AllProperties":
        names |= set(KIND_ORDER[kind]) - NOT_IN_ALL_PROPERTIES
    elif shape.base == "Default":
        names |= DEFAULT_SHAPE.get(kind, DEFAULT_SHAPE["Message"])
    names.add("ItemId")
    return names


FOLDER_DEFAULT_SHAPE = {"DisplayName", "TotalCount", "ChildFolderCount", "UnreadCount"}
"""The folder properties of BaseShape Default (Microsoft's GetFolder/FindFolder examples)."""
FOLDER_ALL_PROPERTIES = {"ParentFolderId", "FolderClass"} | FOLDER_DEFAULT_SHAPE


@dataclass
class FolderShape:
    """A FolderShape: its BaseShape and the folder:* properties named in AdditionalProperties."""

    base: str = "Default"
    names: set[str] = field(default_factory=set)

    def wanted(self) -> set[str]:
        if self.base == "AllProperties":
            return self.names | FOLDER_ALL_PROPERTIES
        if self.base == "Default":
            return self.names | FOLDER_DEFAULT_SHAPE
        return set(self.names)


def parse_folder_shape(el: Element | None) -> FolderShape:
    if el is None:
        return FolderShape()
    shape = FolderShape(base=text_of(el, t("BaseShape")) or "Default")
    props = el.find(t("AdditionalProperties"))
    if props is not None:
        for child in props:
            if child.tag == t("FieldURI"):
                shape.names.add(child.get("FieldURI", "").split(":", 1)[-1])
    return shape
