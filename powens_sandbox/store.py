"""In-memory tables of the simulated Powens domain, id counters, and their atomic persistence to a JSON file.

Records are plain dicts shaped like the public objects; keys starting with "_" are internal and never served.
Callers hold `lock` while reading or changing anything.
"""

import os
import tempfile
import threading

from . import jsonio

ID_TABLES = ("users", "connections", "accounts", "transactions", "webhooks")
KEY_TABLES = ("tokens", "codes")
FIRST_IDS = {
    "users": 1001,
    "connections": 4501,
    "accounts": 12001,
    "transactions": 56001,
    "webhooks": 1,
    "sources": 701,
    "webhook_data": 998001,
    "requests": 1,
}


class SandboxStore:
    def __init__(self):
        self.lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        self.users: dict[int, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.codes: dict[str, dict] = {}
        self.connections: dict[int, dict] = {}
        self.accounts: dict[int, dict] = {}
        self.transactions: dict[int, dict] = {}
        self.webhooks: dict[int, dict] = {}
        self.counters: dict[str, int] = dict(FIRST_IDS)

    def next_id(self, kind: str) -> int:
        value = self.counters[kind]
        self.counters[kind] = value + 1
        return value

    def user_connections(self, id_user: int) -> list[dict]:
        return [conn for conn in self.connections.values() if conn["id_user"] == id_user]

    def connection_accounts(self, id_connection: int) -> list[dict]:
        return [account for account in self.accounts.values() if account["id_connection"] == id_connection]

    def user_accounts(self, id_user: int) -> list[dict]:
        return [account for account in self.accounts.values() if account["id_user"] == id_user]

    def account_transactions(self, id_account: int) -> list[dict]:
        return [tx for tx in self.transactions.values() if tx["id_account"] == id_account]

    def permanent_token(self, id_user: int) -> str | None:
        return next(
            (token for token, record in self.tokens.items() if record["id_user"] == id_user and record["permanent"]),
            None,
        )

    def to_document(self, clock_offset: float) -> dict:
        document = {name: list(getattr(self, name).items()) for name in ID_TABLES + KEY_TABLES}
        document["counters"] = self.counters
        document["clock_offset"] = clock_offset
        return document

    def load_document(self, document: dict) -> float:
        """Restores the tables and returns the saved clock offset."""
        self.clear()
        for name in ID_TABLES:
            setattr(self, name, {int(key): record for key, record in document.get(name, [])})
        for name in KEY_TABLES:
            setattr(self, name, dict(document.get(name, [])))
        self.counters.update(document.get("counters", {}))
        return float(document.get("clock_offset", 0))

    def save(self, path: str, clock_offset: float) -> None:
        """Write-then-rename, so a crash never leaves a half-written state file."""
        text = jsonio.dumps(self.to_document(clock_offset))
        directory = os.path.dirname(os.path.abspath(path))
        handle, temporary = tempfile.mkstemp(prefix=".sandbox-state-", dir=directory)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)

    def load(self, path: str) -> float:
        with open(path, encoding="utf-8") as stream:
            return self.load_document(jsonio.loads(stream.read()))
