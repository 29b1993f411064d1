"""Log lines of `sfs serve`: plain text, or one JSON object a line (SFS_LOG_FORMAT=json) for a
log shipper. Every line carries the id of the request it belongs to ("-" outside requests)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from sfs.observability.request_ids import current_request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def logging_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the whole process, uvicorn's loggers included."""
    formatter: dict[str, Any] = (
        {"()": JsonLines} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    handler = {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": "sfs",
        "filters": ["request_id"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"sfs": formatter},
        "handlers": {"sfs": handler},
        "root": {"handlers": ["sfs"], "level": level},
        "loggers": {
            # uvicorn's own loggers: through our handler, not theirs (one format for all).
            name: {"handlers": [], "level": level, "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        }
        # Alembic tells of its dialect each time /readyz reads the schema revision.
        | {"alembic": {"level": "WARNING"}},
    }
