"""Point the database's Powens contract at the local sandbox of `make run`: every company of
the demo uses it.

Run through `bin/odoo shell -d DB < scripts/configure_sandbox.py` (the shell provides `env`);
idempotent. SANDBOX_URL defaults to the port `make run` serves the sandbox on; ODOO_URL, when
given, becomes the database's web.base.url, from which the redirect URI the webview sends the
browser back to is made (Odoo would otherwise keep http://localhost:8069 until an
administrator logs in, and the accountant's browser session lives on 127.0.0.1).
"""

import os

sandbox_url = os.environ.get("SANDBOX_URL", "http://127.0.0.1:8070")
if os.environ.get("ODOO_URL"):
    env["ir.config_parameter"].set_param("web.base.url", os.environ["ODOO_URL"])  # noqa: F821
contract = env["powens.contract"]._powens_database()  # noqa: F821 - provided by odoo shell
contract.write(
    {
        "powens_domain": "sandbox",
        "powens_client_id": "10000001",
        "powens_client_secret": "sandbox-secret",
        "powens_webhook_secret": "sandbox-webhook-secret",
    }
)
contract.write({"powens_api_url": f"{sandbox_url}/2.0", "powens_webview_url": sandbox_url})
env.cr.commit()  # noqa: F821
print(f"The database's Powens contract points at the sandbox {sandbox_url}")
