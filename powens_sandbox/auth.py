"""Users, permanent/temporary access tokens and 30-minute temporary codes, all timed on the sandbox clock."""

import datetime as dt
import secrets

from .clock import format_datetime, parse_datetime

TEMPORARY_LIFETIME = dt.timedelta(minutes=30)


class AuthService:
    def __init__(self, store, clock, notifier):
        self.store = store
        self.clock = clock
        self.notifier = notifier

    def create_user(self, permanent: bool) -> tuple[dict, str]:
        user = {
            "id": self.store.next_id("users"),
            "signin": self.clock.now_text(),
            "platform": "sharedAccess",
            "_permanent": False,
            "_pending_events": [],
        }
        self.store.users[user["id"]] = user
        return user, self.issue_token(user, permanent)

    def issue_token(self, user: dict, permanent: bool) -> str:
        token = secrets.token_urlsafe(32)
        expires = None if permanent else format_datetime(self.clock.now() + TEMPORARY_LIFETIME)
        self.store.tokens[token] = {"id_user": user["id"], "permanent": permanent, "expires": expires}
        if permanent and not user["_permanent"]:
            user["_permanent"] = True
            self.notifier.release_pending(user)
        return token

    def issue_code(self, user: dict, single_use: bool) -> dict:
        code = secrets.token_urlsafe(24)
        self.store.codes[code] = {
            "id_user": user["id"],
            "single_use": single_use,
            "expires": format_datetime(self.clock.now() + TEMPORARY_LIFETIME),
        }
        return {
            "code": code,
            "type": "temporary",
            "access": "single" if single_use else "standard",
            "expires_in": int(TEMPORARY_LIFETIME.total_seconds()),
        }

    def user_for_token(self, token: str) -> dict | None:
        record = self.store.tokens.get(token)
        if record is None or self._expired(record):
            return None
        return self.store.users.get(record["id_user"])

    def redeem_code(self, code: str) -> dict | None:
        """The user a temporary code belongs to, or None when unknown/expired; single-use codes are consumed."""
        record = self.store.codes.get(code or "")
        if record is None or self._expired(record):
            return None
        if record["single_use"]:
            del self.store.codes[code]
        return self.store.users.get(record["id_user"])

    def revoke(self, token: str) -> None:
        self.store.tokens.pop(token, None)

    def forget_user(self, id_user: int) -> None:
        self.store.users.pop(id_user, None)
        for table in (self.store.tokens, self.store.codes):
            for key in [key for key, record in table.items() if record["id_user"] == id_user]:
                del table[key]

    def _expired(self, record: dict) -> bool:
        return record["expires"] is not None and self.clock.now() >= parse_datetime(record["expires"])
