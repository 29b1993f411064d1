"""The folder listing's JSON, dumped from plain dicts for speed, is NodeOut's JSON exactly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import TypeAdapter

from sfs.services.files.nodes import NodeView
from sfs.web.api.routes_files import NODE_LIST, NodeJson, node_json
from sfs.web.api.schemas_files import NodeOut


def test_node_json_has_node_out_fields_in_order() -> None:
    assert list(NodeJson.__annotations__) == list(NodeOut.model_fields)


def test_the_listing_dumps_what_node_out_would() -> None:
    views = [
        NodeView(
            id=uuid.uuid4(),
            name='båt "1"',
            path='/docs/båt "1"',
            kind="file",
            size=3,
            modified_at=datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
            version=2,
            content_digest="ab" * 32,
        ),
        NodeView(
            id=uuid.uuid4(),
            name="sub",
            path="/docs/sub",
            kind="folder",
            size=0,
            modified_at=datetime(2024, 1, 2, tzinfo=UTC),
            version=None,
            content_digest=None,
        ),
    ]
    fast = NODE_LIST.dump_json([node_json(v) for v in views])
    assert fast == TypeAdapter(list[NodeOut]).dump_json([NodeOut.of(v) for v in views])
