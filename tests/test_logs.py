"""Log lines an operator's file keeps: structured extras, but no terminal colour codes."""

from __future__ import annotations

import json
import logging

from core.logs import JsonFormatter, KeyValueFormatter


def uvicorn_record() -> logging.LogRecord:
    # uvicorn logs "Started server process [%d]" with a coloured copy as `color_message`.
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started server process [%d]", (4242,), None)
    record.color_message = "Started server process [\x1b[36m%d\x1b[0m]"
    record.station = "depok"
    return record


def test_text_and_json_lines_keep_extras_but_not_uvicorns_colour_codes() -> None:
    text = KeyValueFormatter().format(uvicorn_record())
    assert "Started server process [4242]" in text and "station=depok" in text
    assert "\x1b" not in text and "color_message" not in text
    line = json.loads(JsonFormatter().format(uvicorn_record()))
    assert line["station"] == "depok" and "color_message" not in line
