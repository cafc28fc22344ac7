"""Form bodies without an event loop: urlencoded (1.5.x) and multipart/form-data (3.x, direct upload),
the latter parsed by python-multipart, Starlette's own form parser, through its synchronous API."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import parse_qsl

from python_multipart import parse_form as parse_multipart
from python_multipart.exceptions import FormParserError

from ..engine._errors import InvalidRequest

# A malformed body is the client's mistake, answered with a 400: without a handler of its own the
# parser's log line would go to stderr through logging's last resort on every such request.
logging.getLogger("python_multipart").addHandler(logging.NullHandler())


@dataclass
class UploadedPart:
    filename: str
    content: bytes


def parse_form(content_type: str | None, body: BinaryIO, size: int) -> tuple[dict[str, str], dict[str, UploadedPart]]:
    """(text fields, file parts) of a form body of `size` bytes, read from `body` as a stream: a
    file part goes through a temporary file (python-multipart spills it to disk past 1 MiB) and is
    read into memory once, so a large upload is never held twice."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        return _multipart(content_type or "", body, size)
    if kind in ("application/x-www-form-urlencoded", "") or not size:
        try:
            text = body.read().decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest("The form body is not valid UTF-8.") from None
        return dict(parse_qsl(text, keep_blank_values=True)), {}
    raise InvalidRequest(
        f"Unsupported Content-Type '{kind}': send application/x-www-form-urlencoded or multipart/form-data."
    )


def _text(value: bytes | None) -> str:
    return (value or b"").decode("utf-8", errors="replace")


def _multipart(content_type: str, body: BinaryIO, size: int) -> tuple[dict[str, str], dict[str, UploadedPart]]:
    fields: dict[str, str] = {}
    files: dict[str, UploadedPart] = {}

    def on_field(field) -> None:  # type: ignore[no-untyped-def]
        fields[_text(field.field_name)] = _text(field.value)

    def on_file(file) -> None:  # type: ignore[no-untyped-def]
        file.file_object.seek(0)
        files[_text(file.field_name)] = UploadedPart(filename=_text(file.file_name), content=file.file_object.read())
        file.close()

    headers = {"Content-Type": content_type.encode("latin-1"), "Content-Length": str(size).encode()}
    try:
        parse_multipart(headers, body, on_field, on_file)
    except (FormParserError, ValueError) as exc:
        raise InvalidRequest(f"The multipart/form-data body could not be parsed ({exc}).") from None
    return fields, files
