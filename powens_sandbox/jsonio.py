"""JSON with exact money: Decimal amounts are written as JSON numbers with their own digits, never via float."""

import json
from decimal import Decimal


def dumps(value) -> str:
    parts: list[str] = []
    _encode(value, parts)
    return "".join(parts)


def loads(text: str | bytes):
    return json.loads(text, parse_float=Decimal)


def _encode(value, out: list[str]) -> None:
    if isinstance(value, Decimal):
        out.append(format(value, "f"))
    elif value is None or isinstance(value, (bool, int, float, str)):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(", ")
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(": ")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(", ")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")
