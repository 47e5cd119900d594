"""A body's content codings as a provider, or a proxy in front of it, applies them.

``Encoder("gzip, gzip")`` encodes each piece it is given in each coding of the list, in
turn, for real, and flushes each so that a piece of an event stream arrives when it is
sent; ``finish()`` ends every coding. A coding but gzip (x-gzip) and deflate (br, zstd, a
made-up one) is only named: its bytes go as they are, as a proxy that mislabels sends them.
"""

from __future__ import annotations

import zlib

__all__ = ["Encoder"]

_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class Encoder:
    def __init__(self, codings: str, *, real: bool = True) -> None:
        """``real=False``: every coding only named (a body labelled gzip that is not)."""
        self.label = codings
        names = [name.strip().lower() for name in codings.split(",")] if real else []
        self._coders = [zlib.compressobj(9, zlib.DEFLATED, _WBITS[n]) for n in names if n in _WBITS]

    @classmethod
    def of(cls, codings: str | None, *, garbled: str | None) -> Encoder | None:
        """The encoder of real ``codings``, else of ``garbled`` ones (named only), if any."""
        if codings is not None:
            return cls(codings)
        return None if garbled is None else cls(garbled, real=False)

    def __call__(self, piece: bytes) -> bytes:
        for coder in self._coders:
            piece = coder.compress(piece) + coder.flush(zlib.Z_SYNC_FLUSH)
        return piece

    def finish(self) -> bytes:
        tail = b""
        for coder in self._coders:
            tail = coder.compress(tail) + coder.flush()
        return tail

    def whole(self, body: bytes) -> bytes:
        """``body`` encoded at once, as a body that is not a stream is sent."""
        return self(body) + self.finish()
