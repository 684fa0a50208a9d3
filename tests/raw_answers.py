"""Answers read off a raw socket one by one, for tests that pipeline requests by hand."""

from __future__ import annotations

import re
import socket


def read_answers(sock: socket.socket, count: int) -> list[bytes]:
    """`count` whole answers (by Content-Length, or chunked to the last chunk), in the order they came."""
    data, answers = b"", []
    while len(answers) < count:
        end = _answer_end(data)
        if end is not None:
            answers.append(data[:end])
            data = data[end:]
            continue
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed after {len(answers)} of {count} answers"
        data += chunk
    return answers


def _answer_end(data: bytes) -> int | None:
    """Where the first answer in `data` ends, or None while it has not all come."""
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    length = re.search(rb"Content-Length: (\d+)", data[:head_end])
    if length is None:  # chunked: up to the last, empty chunk
        last = data.find(b"\r\n0\r\n\r\n", head_end)
        return None if last < 0 else last + 7
    end = head_end + 4 + int(length.group(1))
    return end if len(data) >= end else None
