"""19.0.1.1.0: one Powens user per bank.

Until 19.0.1.0.0 each company had a single Powens user (``res_company.powens_user_id`` and
its encrypted token ``res_company.powens_user_token_encrypted``) holding every bank. It becomes
the company's ``powens.user`` without a bank, holding the connections it made: those banks keep
retrieving without being connected again, while every bank connected from now on gets a user
of its own. The token is moved as it is (same key), then the old columns are dropped, so that
no token is left where the neutralization does not look."""

import logging

from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not column_exists(cr, "res_company", "powens_user_token_encrypted"):
        return
    cr.execute("""
        INSERT INTO powens_user (company_id, powens_id, token_encrypted, api_url, active,
                                 create_uid, write_uid, create_date, write_date)
        SELECT DISTINCT ON (powens_user_id) id, powens_user_id, powens_user_token_encrypted, powens_api_url,
               true, 1, 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
          FROM res_company
         WHERE powens_user_id IS NOT NULL AND powens_user_id <> 0
         ORDER BY powens_user_id, id
        RETURNING company_id, id
    """)
    users = dict(cr.fetchall())
    # One Powens user named by two companies (possible before the settings were locked): the
    # first company keeps it; the other's banks are to be connected again.
    for company_id, user_id in users.items():
        cr.execute(
            "UPDATE powens_connection SET user_id = %s WHERE company_id = %s AND user_id IS NULL", [user_id, company_id]
        )
    cr.execute("ALTER TABLE res_company DROP COLUMN powens_user_token_encrypted")
    if column_exists(cr, "res_company", "powens_user_id"):
        cr.execute("ALTER TABLE res_company DROP COLUMN powens_user_id")
    _logger.info("Powens: the single user of %s company(ies) now holds their existing connections", len(users))
