"""Read a multipart upload part by part, spooling each file to a temporary file on disk.

A multipart part does not announce its length, and the container must be told how many
bytes to read, so each file goes to an anonymous temporary file (deleted on close) first;
memory holds one chunk at a time.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import BinaryIO, Iterator
from urllib.parse import unquote

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, File, MultipartDecoder, NeedData

from ..errors import BadRequest
from ..kube.transfer import check_relative
from .limits import TooLarge


@dataclass
class Part:
    """One uploaded file: its relative path, size and spooled content (rewound)."""

    relpath: str
    size: int
    body: BinaryIO


def relative_name(filename: str) -> str:
    """The part's filename, percent-decoded (browsers encode `"`, CR and LF), as a safe relative path."""
    return check_relative(unquote(filename, errors="strict"))


def parts(stream: BinaryIO, boundary: bytes, chunk: int, max_bytes: int, max_parts: int,
          tmpdir: str | None) -> Iterator[Part]:
    """Yield each file part once it has been received whole; other fields are ignored."""
    # The decoder buffers headers, fields and a partial boundary only: a few chunks at most.
    decoder = MultipartDecoder(boundary, max_form_memory_size=2 * chunk + 64 * 1024, max_parts=max_parts)
    current: Part | None = None
    done = False
    while not done:
        try:
            event = decoder.next_event()
        except ValueError as e:
            raise BadRequest(f"malformed multipart upload: {e}") from None
        if isinstance(event, NeedData):
            if decoder.complete:
                raise BadRequest("the multipart upload ended early")
            try:
                decoder.receive_data(stream.read(chunk) or None)
            except RequestEntityTooLarge:
                raise TooLarge("a form field or part header of the upload is too large") from None
        elif isinstance(event, File):
            try:
                name = relative_name(event.filename or "")
            except UnicodeDecodeError:
                raise BadRequest("a file name in the upload is not valid UTF-8") from None
            current = Part(name, 0, tempfile.TemporaryFile(dir=tmpdir))
        elif isinstance(event, Data) and current is not None:
            current.size += len(event.data)
            if current.size > max_bytes:
                current.body.close()
                raise TooLarge(f"'{current.relpath}' is larger than the limit of {max_bytes} bytes")
            current.body.write(event.data)
            if not event.more_data:
                current.body.seek(0)
                try:
                    yield current
                finally:
                    current.body.close()
                    current = None
        elif isinstance(event, Epilogue):
            done = True


def read_chunks(body: BinaryIO, chunk: int) -> Iterator[bytes]:
    while True:
        data = body.read(chunk)
        if not data:
            return
        yield data
