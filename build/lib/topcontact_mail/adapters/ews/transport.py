"""The HTTP layer under exchangelib: responses are parsed from large chunks, not byte by byte.

exchangelib hands `response.iter_content()` to its XML parser; requests'
default chunk size there is one byte, which costs about a third of the CPU
time of a big sync. exchangelib lets a program choose its HTTP adapter class,
so ours builds responses whose default chunk is 64 KiB for answers already
read (streamed answers keep the small chunks their parser needs).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter

CHUNK_BYTES = 64 * 1024


class _LargeChunkResponse(requests.Response):
    def iter_content(
        self, chunk_size: int | None = CHUNK_BYTES, decode_unicode: bool = False
    ) -> Iterator[Any]:
        if self._is_event_stream():
            # GetStreamingEvents: exchangelib looks for each document's end byte by byte as
            # it arrives; a bigger chunk would wait for bytes that may never come.
            chunk_size = 1
        return super().iter_content(chunk_size=chunk_size, decode_unicode=decode_unicode)

    def _is_event_stream(self) -> bool:
        body = self.request.body if self.request is not None else None
        return isinstance(body, bytes) and b"GetStreamingEvents" in body


class LargeChunkAdapter(requests.adapters.HTTPAdapter):
    def build_response(self, req: Any, resp: Any) -> requests.Response:
        response = super().build_response(req, resp)
        response.__class__ = _LargeChunkResponse
        return response


class LargeChunkNoVerifyAdapter(NoVerifyHTTPAdapter):  # type: ignore[misc]  # exchangelib is untyped
    """The same, for a test server without a trusted certificate (verify_tls = false)."""

    def build_response(self, req: Any, resp: Any) -> requests.Response:
        response: requests.Response = super().build_response(req, resp)
        response.__class__ = _LargeChunkResponse
        return response


def use_large_chunks(verify_tls: bool) -> None:
    """Install the adapter for every exchangelib protocol this process opens."""
    BaseProtocol.HTTP_ADAPTER_CLS = LargeChunkAdapter if verify_tls else LargeChunkNoVerifyAdapter
