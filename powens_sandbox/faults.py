"""Injected failures for the next Powens-API calls (5xx, 429, stalls, truncated JSON, dropped connections)."""

import threading

from .errors import invalid_value

KINDS = ("500", "503", "429", "timeout", "malformed", "drop")


class FaultBoard:
    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[dict] = []

    def add(self, spec: dict) -> dict:
        kind = str(spec.get("kind"))
        if kind not in KINDS:
            raise invalid_value(f"kind must be one of {', '.join(KINDS)}")
        fault = {
            "kind": kind,
            "count": int(spec.get("count", 1)),
            "path": spec.get("path"),
            "retry_after": int(spec.get("retry_after", 1)),
            "timeout_seconds": float(spec.get("timeout_seconds", 5)),
        }
        with self._lock:
            self._faults.append(fault)
        return dict(fault)

    def take(self, path: str) -> dict | None:
        """Consumes one use of the first pending fault matching the path."""
        with self._lock:
            for fault in self._faults:
                if not fault["path"] or fault["path"] in path:
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self._faults.remove(fault)
                    return dict(fault)
        return None

    def pending(self) -> list[dict]:
        with self._lock:
            return [dict(fault) for fault in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
