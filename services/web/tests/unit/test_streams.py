from __future__ import annotations

import json

from services.web.domain.streams import Piece, json_stream, progress, text_stream


def lines(*objs: object) -> list[bytes]:
    return [json.dumps(o).encode() + b"\n" for o in objs]


def test_json_stream_concatenates_messages_and_ends_ok() -> None:
    chunks = lines({"Message": "a"}, {"Message": "b\n"})
    # A line split across chunks, and a keep-alive.
    raw = b"".join(chunks)
    pieces = list(json_stream([raw[:5], raw[5:], b"\n"]))
    assert [p.text for p in pieces if not p.done] == ["a", "b\n"]
    assert pieces[-1] == Piece(done=True)


def test_json_stream_error_line_fails_the_operation() -> None:
    pieces = list(json_stream(lines({"Message": "x"}, {"Message": "", "Error": "boom"})))
    assert pieces[-1] == Piece(done=True, error="boom")


def test_deploy_text_ends_with_ok_or_the_error() -> None:
    ok = list(text_stream([b"building\n", b"please wait...\n", b"\nOK\n"]))
    assert [p.text for p in ok if not p.done] == ["building\n", "\n", "OK\n"]
    assert ok[-1] == Piece(done=True)
    failed = list(text_stream([b"x\n---- ERROR during deploy: ----\n", b"exit status 1\n"]))
    assert failed[-1] == Piece(done=True, error="exit status 1")
    # An error the API appended raw after the output: the last line is the cause.
    raw = list(text_stream([b" ---> Unpacking the archive\n", b"invalid archive: bad header\n"]))
    assert raw[-1] == Piece(done=True, error="invalid archive: bad header")
    assert list(text_stream([]))[-1].error == "the operation ended without any output"


def test_progress_picks_the_format_by_content_type() -> None:
    assert (
        list(progress("application/x-json-stream; charset=utf-8", lines({"Message": "m"})))[0].text
        == "m"
    )
    assert list(progress("text", [b"OK\n"]))[-1] == Piece(done=True)
