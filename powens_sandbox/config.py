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
    verbose: bool = False
    autopilot: bool = False
