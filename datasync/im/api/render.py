"""The IM API's JSON renderer: DRF's ``JSONRenderer`` through ``json_bytes`` (datasync/jsonbytes.py), so
the DRF viewsets and the ASGI read lane write the same bytes for a body."""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from datasync.jsonbytes import RawJSON, json_bytes

__all__ = ["ImJSONRenderer", "json_bytes"]


class _Encoder(JSONEncoder):
    """DRF's encoder that also writes pre-rendered values (the browsable API's indented JSON)."""

    def default(self, obj: Any) -> Any:
        if type(obj) is RawJSON:
            return obj.value()
        return super().default(obj)


class ImJSONRenderer(JSONRenderer):
    """DRF's JSON renderer through ``json_bytes`` (an ``indent`` asked for in Accept keeps DRF's own)."""

    encoder_class = _Encoder

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        return json_bytes(data)
