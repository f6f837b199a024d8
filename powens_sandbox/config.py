"""Process settings shared by every part of the sandbox (one client application per process)."""

import dataclasses


@dataclasses.dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    port: int = 8070
    state_file: str | None = None
    seed: int = 42
    client_id: str = "10000001"
    client_secret: str = "sandbox-secret"
    webhook_secret: str = "sandbox-webhook-secret"
    first_sync_delay: float = 0.0
    # What the documentation leaves open (README, "Consent dates"): which dates `connection.expire` is derived
    # from ("purge" or "consent"), and whether a reconnect on a healthy connection renews the consent.
    connection_expire: str = "purge"
    reconnect_renews_consent: bool = False
    # Months of history a connection made in the webview brings (the control API names its own).
    history_months: int = 6
    verbose: bool = False
    autopilot: bool = False
    # The process (a test run) whose end stops the sandbox: a sandbox it started never outlives it.
    stop_with: int | None = None
    # Switches where Powens' documentation is silent or contradicted (README, "Behaviours the
    # documentation leaves open"); the control API changes them at run time.
    naive_timezone: str = "Europe/Paris"
    webview_requires_language: bool = True


# The settings `POST /_sandbox/settings` may change, and `POST /_sandbox/reset` restores.
RUNTIME_SETTINGS = ("first_sync_delay", "naive_timezone", "webview_requires_language")
NAIVE_TIMEZONES = ("Europe/Paris", "UTC")
