"""The OpenAPI generator and the body validation helpers, without a server."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.platform.openapi import Content, Operation, Param, document
from services.platform.validation import field_errors, pointer


class Thing(BaseModel):
    model_config = ConfigDict(strict=True)

    name: str = Field(min_length=1)
    sizes: list[int] = Field(default_factory=list)


class Made(BaseModel):
    id: str
    thing: Thing


OPS = [
    Operation(
        "POST",
        "/things/{thing_id}",
        None,
        "Make a thing",
        ("things",),
        (Param("thing_id", "path", {"type": "string"}),),
        body=Thing,
        responses={201: Content(Made)},
        problems=(404, 422),
        secured=True,
    ),
    Operation("GET", "/page", None, "A page", responses={200: Content(media_type="text/html")}),
]


def test_the_document_refers_to_generated_component_schemas() -> None:
    doc = document(OPS, title="t", version="1", description="d")
    Draft202012Validator.check_schema(doc["components"]["schemas"]["Thing"])
    op = doc["paths"]["/things/{thing_id}"]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Thing"
    }
    made = op["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert doc["components"]["schemas"][made]["required"] == ["id", "thing"]
    assert set(op["responses"]) == {"201", "404", "422"}
    assert op["responses"]["422"]["content"]["application/problem+json"]["schema"]["$ref"].endswith(
        "/Problem"
    )
    assert op["security"] == [{"bearer": []}]
    assert "bearer" in doc["components"]["securitySchemes"]
    assert doc["paths"]["/page"]["get"]["responses"]["200"]["content"] == {"text/html": {}}


@pytest.mark.parametrize(
    ("location", "expected"),
    [((), ""), (("name",), "/name"), (("sizes", 3), "/sizes/3"), (("a/b", "c~d"), "/a~1b/c~0d")],
)
def test_pointers_follow_rfc_6901(location: tuple[int | str, ...], expected: str) -> None:
    assert pointer(location) == expected


def test_each_offending_field_is_named() -> None:
    with pytest.raises(ValidationError) as caught:
        Thing.model_validate_json(b'{"name": "", "sizes": [1, "2", true]}')
    assert [e["pointer"] for e in field_errors(caught.value)] == ["/name", "/sizes/1", "/sizes/2"]
