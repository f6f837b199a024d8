"""Connection life cycle on the simulated bank side: creation, synchronisation, consent, states, bookings.

One place decides what a sync does, whoever asks (webview, PUT/POST, control API, background ticker).
"""

import dataclasses
import datetime as dt
import random
from decimal import Decimal

from . import bank_data
from .clock import format_datetime, parse_datetime
from .connectors import Connector

CONSENT_LIFETIME = dt.timedelta(days=180)
AMOUNT_FIELDS = ("value", "gross_value", "original_value", "original_gross_value", "commission")
SYNC_PERIOD = dt.timedelta(hours=24)
OPENAPI_SOURCE = "openapi"
DEFAULT_SOURCES = (OPENAPI_SOURCE,)
USER_ACTION_STATES = {
    "SCARequired",
    "webauthRequired",
    "additionalInformationNeeded",
    "decoupled",
    "validating",
    "wrongpass",
    "passwordExpired",
    "actionNeeded",
    "notSupported",
}
STATE_MESSAGES = {
    "SCARequired": "Le consentement DSP2 a expiré : une authentification forte est nécessaire.",
    "decoupled": "Validez l'opération dans votre application bancaire.",
    "wrongpass": "Identifiant ou mot de passe incorrect.",
    "actionNeeded": "Veuillez accepter les nouvelles conditions générales sur le site de votre banque.",
    "passwordExpired": "Votre mot de passe a expiré, veuillez le changer sur le site de votre banque.",
    "websiteUnavailable": "Le site de la banque est momentanément indisponible.",
}
STATE_FIELDS = {
    "wrongpass": [{"name": "password", "type": "password", "label": "Mot de passe", "required": True}],
    "additionalInformationNeeded": [{"name": "otp", "type": "text", "label": "Code reçu par SMS", "required": True}],
}


class BankEngine:
    def __init__(self, store, clock, config, notifier):
        self.store = store
        self.clock = clock
        self.config = config
        self.notifier = notifier

    # --- connections -------------------------------------------------------------------------------------
    def open_connection(
        self,
        id_user: int,
        connector: Connector,
        login: str,
        specs: list,
        enabled_indexes: set[int],
        state: str | None = None,
        months: int | None = None,
        sources: tuple[str, ...] = DEFAULT_SOURCES,
    ) -> dict:
        """Creates the connection, its sources and the discovered accounts (enabled only when the user consented)."""
        now = self.clock.now()
        conn_id = self.store.next_id("connections")
        due = now + dt.timedelta(seconds=self.config.first_sync_delay)
        conn = {
            "id": conn_id,
            "id_user": id_user,
            "id_connector": connector.id,
            "connector_uuid": connector.uuid,
            "state": None,
            "error_message": None,
            "fields": None,
            "last_update": None,
            "created": format_datetime(now),
            "active": True,
            "last_push": None,
            "expire": None,
            "next_try": None,
            "sources": [
                {
                    "id": self.store.next_id("sources"),
                    "id_connection": conn_id,
                    "id_connector_source": connector.id * 10 + index,
                    "name": name,
                    "state": None,
                    "last_update": None,
                    "disabled": None,
                    "created": format_datetime(now),
                    "access_expire": None,
                    "expire": None,
                    "next_try": None,
                }
                for index, name in enumerate(sources)
            ],
            "_login": login,
            "_months": self.config.history_months if months is None else months,
            "_first_sync_due": format_datetime(due),
            "_sync_count": 0,
        }
        self.store.connections[conn_id] = conn
        self.renew_consent(conn)
        account_ids = []
        for index, spec in enumerate(specs):
            parent = account_ids[spec.parent_index] if spec.parent_index is not None else None
            account = self._new_account(conn, spec, parent, enabled=index in enabled_indexes)
            account_ids.append(account["id"])
        if state is not None:
            self.set_state(conn, state, self.state_message(state))
        else:
            self.sync(conn, psu_requested=False)
        return conn

    def _new_account(self, conn: dict, spec, id_parent: int | None, enabled: bool) -> dict:
        now_text = self.clock.now_text()
        account = {
            "id": self.store.next_id("accounts"),
            "id_connection": conn["id"],
            "id_user": conn["id_user"],
            "id_source": conn["sources"][0]["id"],
            "id_parent": id_parent,
            "number": spec.number,
            "webid": spec.webid,
            "original_name": spec.original_name,
            "name": spec.name,
            "type": spec.type,
            "id_type": {"checking": 2, "savings": 1, "card": 4, "deposit": 3}[spec.type],
            "usage": spec.usage,
            "display": True,
            "bookmarked": 0,
            "disabled": None if enabled else now_text,
            "deleted": None,
            "last_update": None,
            "iban": spec.iban,
            "bic": spec.bic,
            "error": None,
            "company_name": None,
            "ownership": "owner",
            "loan": None,
            "_currency": "EUR",
            "_opening_balance": spec.target_balance,
            "_fetched_until": None,
            "_spec": dataclasses.asdict(spec),
        }
        self.store.accounts[account["id"]] = account
        return account

    def renew_consent(self, conn: dict) -> None:
        """What a completed SCA does: every source's consent (`access_expire`) runs 180 days from now."""
        self.set_consent(conn, format_datetime(self.clock.now() + CONSENT_LIFETIME))

    def set_consent(self, conn: dict, access_expire: str, source_name: str | None = None) -> None:
        for source in conn["sources"]:
            if source_name in (None, source["name"]):
                source["access_expire"] = access_expire
        self._derive_expire(conn)

    def _derive_expire(self, conn: dict) -> None:
        """`Connection.expire` is documented as the "highest value among expiration dates of connection
        sources", and a source's `expire` as the purge date of a set-up never finished: by default it is
        derived from those purge dates (null once the set-up finished, as here). --connection-expire consent
        plays the other reading, the highest of the sources' consent dates (`access_expire`)."""
        key = "access_expire" if self.config.connection_expire == "consent" else "expire"
        dates = [source[key] for source in conn["sources"] if source[key]]
        conn["expire"] = max(dates) if dates else None

    def consent_expiry(self, conn: dict) -> str | None:
        """The earliest consent of the sources: the one whose lapse stops the sync."""
        dates = [source["access_expire"] for source in conn["sources"] if source["access_expire"]]
        return min(dates) if dates else None

    def refresh_auth(self, conn: dict) -> None:
        """`refresh_auth: true` renews the PSU's authorisation before it lapses; it "will trigger an SCA" and is
        "only effective for the openapi source" (connections, ConnectionUpdateRequest). The SCA is asked for
        as a banking-app validation: the connection waits in `decoupled` (which state Powens uses is not
        documented)."""
        if any(source["name"] == OPENAPI_SOURCE for source in conn["sources"]):
            self.request_sca(conn)

    @staticmethod
    def state_message(state: str | None) -> str | None:
        return STATE_MESSAGES.get(state)

    def set_state(self, conn: dict, state: str | None, error_message: str | None = None) -> None:
        conn["state"] = state
        conn["error_message"] = error_message
        conn["fields"] = STATE_FIELDS.get(state)
        for source in conn["sources"]:
            source["state"] = state

    def repair(self, conn: dict) -> None:
        """What a successful SCA/reconnect does: consent renewed for 180 days, state cleared, data fetched."""
        self.set_state(conn, None)
        self.renew_consent(conn)
        self.sync(conn, psu_requested=True)

    def resume(self, conn: dict) -> None:
        """The user validated in the bank app: Powens is 'validating' until the next tick completes it."""
        if conn["state"] == "decoupled":
            self.set_state(conn, "validating")

    def request_sca(self, conn: dict) -> None:
        self.set_state(conn, "decoupled", STATE_MESSAGES["decoupled"])

    def sync(self, conn: dict, psu_requested: bool) -> bool:
        """Fetches new data when the connection allows it; returns whether the bank was actually reached."""
        self._lapse_consent_if_due(conn)
        if conn["state"] == "SCARequired" and psu_requested:
            self.request_sca(conn)
            return False
        if conn["state"] in USER_ACTION_STATES:
            return False
        now = self.clock.now()
        if conn["_first_sync_due"] is not None and now < parse_datetime(conn["_first_sync_due"]):
            return False
        self.set_state(conn, None)
        conn["_sync_count"] += 1
        new_rows = {
            account["id"]: self._fetch(conn, account)
            for account in self.store.connection_accounts(conn["id"])
            if account["disabled"] is None
        }
        conn["_first_sync_due"] = None
        conn["last_update"] = format_datetime(now)
        conn["next_try"] = format_datetime(now + SYNC_PERIOD)
        for source in conn["sources"]:
            source["last_update"] = conn["last_update"]
            source["next_try"] = conn["next_try"]
        self.notifier.connection_synced(conn, new_rows)
        return True

    def tick(self) -> bool:
        """Time-driven changes: consent lapses, validations completing, delayed first syncs becoming due."""
        changed = False
        now = self.clock.now()
        for conn in list(self.store.connections.values()):
            changed |= self._lapse_consent_if_due(conn)
            if conn["state"] == "validating":
                self.repair(conn)
                changed = True
            elif (
                conn["state"] is None
                and conn["_first_sync_due"] is not None
                and now >= parse_datetime(conn["_first_sync_due"])
            ):
                changed |= self.sync(conn, psu_requested=False)
        return changed

    def _lapse_consent_if_due(self, conn: dict) -> bool:
        access_expire = self.consent_expiry(conn)
        if (
            access_expire is None
            or conn["state"] in USER_ACTION_STATES
            or self.clock.now() < parse_datetime(access_expire)
        ):
            return False
        self.set_state(conn, "SCARequired", STATE_MESSAGES["SCARequired"])
        return True

    def delete_connection(self, conn: dict, notify: bool = True) -> None:
        """Hard delete (GDPR): the connection, its accounts and their transactions."""
        if notify:
            self.notifier.connection_deleted(conn)
        for account in self.store.connection_accounts(conn["id"]):
            self._drop_transactions(account)
            del self.store.accounts[account["id"]]
        del self.store.connections[conn["id"]]

    # --- accounts ----------------------------------------------------------------------------------------
    def set_account_enabled(self, account: dict, enabled: bool) -> None:
        """Enabling records consent and fetches the history; disabling deletes the account's data (per Powens)."""
        if enabled == (account["disabled"] is None):
            return
        conn = self.store.connections[account["id_connection"]]
        if enabled:
            account["disabled"] = None
            if conn["last_update"] is not None and conn["state"] is None:
                self._fetch(conn, account)
        else:
            account["_opening_balance"] += sum(
                (
                    tx["value"]
                    for tx in self.store.account_transactions(account["id"])
                    if tx["deleted"] is None and not tx["coming"] and tx["value"] is not None
                ),
                Decimal("0.00"),
            )
            self._drop_transactions(account)
            account["_fetched_until"] = None
            account["disabled"] = self.clock.now_text()

    def _drop_transactions(self, account: dict) -> None:
        for tx in self.store.account_transactions(account["id"]):
            del self.store.transactions[tx["id"]]

    # --- transactions ------------------------------------------------------------------------------------
    def _fetch(self, conn: dict, account: dict) -> list[dict]:
        """First fetch: the whole history (opening balance chosen so today's balance is the bank's).
        Later fetches: days not seen yet, matured pending rows booked, sometimes a fresh pending payment."""
        spec = bank_data.AccountSpec(**account["_spec"])
        today = self.clock.today()
        seed = self.config.seed
        if account["_fetched_until"] is None:
            first_day = bank_data.months_before(today, conn["_months"])
            rows = [self._insert(account, op) for op in bank_data.operations_between(seed, spec, first_day, today)]
            booked = sum((row["value"] for row in rows if not row["coming"]), Decimal("0.00"))
            account["_opening_balance"] = spec.target_balance - booked
        else:
            first_day = dt.date.fromisoformat(account["_fetched_until"]) + dt.timedelta(days=1)
            rows = [self._insert(account, op) for op in bank_data.operations_between(seed, spec, first_day, today)]
            rows += self._book_matured(account, today)
            if random.Random(f"{seed}|{account['id']}|sync|{conn['_sync_count']}").random() < 0.5:
                rows.append(
                    self._insert(account, bank_data.extra_card_payment(seed, spec, today, str(conn["_sync_count"])))
                )
        account["_fetched_until"] = today.isoformat()
        account["last_update"] = self.clock.now_text()
        return rows

    def add_transactions(self, account: dict, count: int, coming: bool, day: dt.date | None) -> list[dict]:
        spec = bank_data.AccountSpec(**account["_spec"])
        day = day or self.clock.today()
        rows = []
        for _ in range(count):
            op = bank_data.extra_card_payment(
                self.config.seed, spec, day, f"control-{self.store.counters['transactions']}"
            )
            rows.append(self._insert(account, dict(op, date=day, rdate=day), coming=coming))
        account["last_update"] = self.clock.now_text()
        return rows

    def _insert(self, account: dict, op: dict, coming: bool | None = None) -> dict:
        now_text = self.clock.now_text()
        tx = {
            "id": self.store.next_id("transactions"),
            "id_account": account["id"],
            "webid": None,
            "date": op["date"].isoformat(),
            "datetime": None,
            "rdate": op["rdate"].isoformat(),
            "rdatetime": None,
            "vdate": op["date"].isoformat(),
            "vdatetime": None,
            "bdate": None,
            "bdatetime": None,
            "application_date": op["rdate"].isoformat(),
            "value": op["value"],
            "gross_value": op.get("gross_value", op["value"]),
            "original_value": op["original_value"],
            "original_gross_value": op.get("original_gross_value"),
            "original_currency": op["original_currency"],
            "commission": op["commission"],
            "commission_currency": op.get("commission_currency"),
            "type": op["type"],
            "original_wording": op["original_wording"],
            "simplified_wording": op["simplified_wording"],
            "stemmed_wording": op["simplified_wording"].lower(),
            "wording": op["simplified_wording"],
            "categories": [],
            "id_category": None,
            "date_scraped": now_text,
            "coming": op["date"] > self.clock.today() if coming is None else coming,
            "active": True,
            "id_cluster": None,
            "comment": None,
            "last_update": now_text,
            "deleted": None,
            "country": None,
            "card": op["card"],
            "counterparty": op["counterparty"],
        }
        self.store.transactions[tx["id"]] = tx
        return tx

    def _book_matured(self, account: dict, today: dt.date) -> list[dict]:
        """Pending rows whose booking date has come: booked in place, re-issued under a new id, or cancelled."""
        replacements = []
        for tx in self.store.account_transactions(account["id"]):
            if not tx["coming"] or tx["deleted"] is not None or dt.date.fromisoformat(tx["date"]) > today:
                continue
            draw = random.Random(f"{self.config.seed}|booking|{tx['id']}").random()
            if draw < 0.5:
                self.book(tx, keep_id=True)
            elif draw < 0.9:
                replacements.append(self.book(tx, keep_id=False))
            else:
                self.mark_deleted(tx)
        return replacements

    def book(self, tx: dict, keep_id: bool) -> dict:
        now_text = self.clock.now_text()
        booking_date = min(tx["date"], self.clock.today().isoformat())
        if keep_id:
            tx.update(coming=False, date=booking_date, vdate=booking_date, last_update=now_text)
            return tx
        booked = dict(
            tx,
            id=self.store.next_id("transactions"),
            coming=False,
            date=booking_date,
            vdate=booking_date,
            date_scraped=now_text,
            last_update=now_text,
        )
        self.store.transactions[booked["id"]] = booked
        self.mark_deleted(tx)
        return booked

    def edit(self, tx: dict, changes: dict) -> None:
        """A change Powens makes to a known transaction; it stamps `last_update` unless told otherwise."""
        tx.update(
            {
                field: Decimal(str(value)) if field in AMOUNT_FIELDS and isinstance(value, (int, float)) else value
                for field, value in changes.items()
            }
        )
        if "last_update" not in changes:
            tx["last_update"] = self.clock.now_text()

    def mark_deleted(self, tx: dict) -> None:
        now_text = self.clock.now_text()
        tx.update(deleted=now_text, last_update=now_text)
