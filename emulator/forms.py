"""Form bodies without an event loop: urlencoded (1.5.x) and multipart/form-data (3.x, direct upload)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl

from .errors import InvalidRequest


@dataclass
class UploadedPart:
    filename: str
    content: bytes


def parse_form(content_type: str | None, body: bytes) -> tuple[dict[str, str], dict[str, UploadedPart]]:
    """(text fields, file parts) of a form body."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        return _multipart(content_type or "", body)
    if kind in ("application/x-www-form-urlencoded", "") or not body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest("The form body is not valid UTF-8.") from None
        return dict(parse_qsl(text, keep_blank_values=True)), {}
    raise InvalidRequest(f"Unsupported Content-Type '{kind}': send application/x-www-form-urlencoded or "
                         "multipart/form-data.")


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, UploadedPart]]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body)
    if not message.is_multipart():
        raise InvalidRequest("The multipart/form-data body could not be parsed (check the boundary).")
    fields: dict[str, str] = {}
    files: dict[str, UploadedPart] = {}
    for part in message.iter_parts():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = UploadedPart(filename=filename, content=data)
        else:
            fields[name] = data.decode("utf-8", errors="replace")
    return fields, files
