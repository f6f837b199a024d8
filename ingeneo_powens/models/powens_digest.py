from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import format_date

from ..const import CONSENT_EXPIRY_HORIZON_DAYS, REQUEST_OPEN_STATES, SETUP_GROUP

DIGEST_TEMPLATE = "ingeneo_powens.mail_template_powens_weekly_digest"
# The cockpit, on the banks of one company that need someone (cids: the company, in the URL).
DIGEST_COCKPIT_PATH = "/odoo/action-ingeneo_powens.action_powens_cockpit_needing_someone"
# A bank in error this long has been retried by Powens for two days: someone must look.
ERROR_ATTENTION_DELAY = timedelta(hours=48)


class PowensDigest(models.AbstractModel):
    """The weekly digest: to each holder of the right who asked for it, the banks of their
    companies that need someone (action required, consent ending, lasting error, expired
    connection request), per company, with a link to the cockpit on them. No mail when none."""

    _name = "powens.digest"
    _description = "Weekly digest of the POWENS banks that need someone"

    @api.model
    def _cron_send_weekly_digest(self):
        """The scheduled job's entry point (``ir_cron_powens_weekly_digest``)."""
        sent = self._send_weekly_digest()
        self.env["ir.cron"]._commit_progress(sent)

    @api.model
    def _send_weekly_digest(self):
        """E-mail the digest to each opted-in holder of the right who has an address and
        banks to look after; return how many were sent. As superuser: the job reads every
        company's banks once, each user is shown their own companies only."""
        recipients = (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("powens_weekly_digest", "=", True),
                    ("share", "=", False),
                    ("email", "!=", False),
                    ("all_group_ids", "in", self.env.ref(SETUP_GROUP).ids),
                ]
            )
        )
        needing = self.sudo()._banks_needing_someone(recipients.company_ids)
        template = self.env.ref(DIGEST_TEMPLATE).sudo()
        sent = 0
        for user in recipients:
            sections = self.with_context(lang=user.lang)._digest_sections(user, needing)
            if sections:
                template.with_context(lang=user.lang, powens_digest_sections=sections).send_mail(user.id)
                sent += 1
        return sent

    @api.model
    def _banks_needing_someone(self, companies):
        """{company: [(bank, reason, date)]} for the banks of ``companies`` that need someone;
        ``reason`` is one of "action_required", "consent_ending", "error", "request_expired",
        ``date`` the consent's end, the error's start, the request's expiry (none for the first).
        A fixed number of queries, whatever the number of banks."""
        now = fields.Datetime.now()
        journals = self.env["account.journal"].search(
            [
                ("company_id", "in", companies.ids),
                ("type", "=", "bank"),
                ("powens_account_id", "!=", False),
                "|",
                ("powens_state", "in", ("action_required", "error")),
                ("powens_connection_id.consent_expires_at", "<=", now + timedelta(days=CONSENT_EXPIRY_HORIZON_DAYS)),
            ]
        )
        error_since = self._error_since(journals.filtered(lambda journal: journal.powens_state == "error"))
        needing = defaultdict(list)
        for journal in journals:
            if journal.powens_state == "action_required":
                needing[journal.company_id].append((journal, "action_required", False))
            elif journal.powens_state == "error":
                since = error_since.get(journal)
                if since and since <= now - ERROR_ATTENTION_DELAY:
                    needing[journal.company_id].append((journal, "error", since))
            else:
                needing[journal.company_id].append((journal, "consent_ending", journal.powens_consent_expires_at))
        for request in self._expired_requests(companies):
            needing[request.company_id].append((request.journal_id, "request_expired", request.expires_at))
        return needing

    @api.model
    def _error_since(self, journals):
        """{bank: its first failed retrieval since its last successful one}, in one query;
        banks without a failed retrieval are left out."""
        self.env["powens.sync.log"].flush_model(["journal_id", "started_at", "error"])
        self.env.cr.execute(
            """
            SELECT failed.journal_id, MIN(failed.started_at)
              FROM powens_sync_log failed
             WHERE failed.journal_id = ANY(%s)
               AND failed.error IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM powens_sync_log success
                                WHERE success.journal_id = failed.journal_id
                                  AND success.error IS NULL
                                  AND success.started_at > failed.started_at)
             GROUP BY failed.journal_id
            """,
            [journals.ids],
        )
        return {journals.browse(journal_id): since for journal_id, since in self.env.cr.fetchall()}

    @api.model
    def _expired_requests(self, companies):
        """The expired connection requests that are the last one of a bank still not connected."""
        requests = self.env["powens.connection.request"]
        expired_banks = requests.search(
            [
                ("company_id", "in", companies.ids),
                "|",
                ("state", "=", "expired"),
                "&",
                ("state", "in", REQUEST_OPEN_STATES),
                ("expires_at", "<", fields.Datetime.now()),
            ]
        ).journal_id.filtered(lambda journal: not journal.powens_account_id)
        last_by_bank = {}
        for request in requests.search([("journal_id", "in", expired_banks.ids)]):  # the newest first
            last_by_bank.setdefault(request.journal_id, request)
        return [
            request
            for request in last_by_bank.values()
            if request.state == "expired" or request.expires_at < fields.Datetime.now()
        ]

    @api.model
    def _digest_sections(self, user, needing):
        """What ``user`` reads: per company of theirs with banks to look after, the banks and
        why, in their language (this environment's), and the link to the cockpit on them."""
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        sections = []
        for company in user.company_ids.sorted("name"):
            banks = sorted(needing.get(company, []), key=lambda item: item[0].name)
            if banks:
                sections.append(
                    {
                        "company": company.name,
                        "banks": [
                            {"name": bank.name, "reason": self._reason_text(kind, date)} for bank, kind, date in banks
                        ],
                        "url": f"{base_url}{DIGEST_COCKPIT_PATH}?cids={company.id}",
                    }
                )
        return sections

    def _reason_text(self, kind, date):
        if kind == "action_required":
            return self.env._("Action required: the bank asks the account holder to reconnect it.")
        day = format_date(self.env, date)
        if kind == "error":
            return self.env._("In error since %(date)s.", date=day)
        if kind == "consent_ending":
            return self.env._("The consent ends on %(date)s: renew it.", date=day)
        return self.env._("The connection request expired on %(date)s: send it again.", date=day)

    @api.model
    def _cockpit_action(self):
        """The cockpit on the banks of the current company (the link's ``cids``) that need
        someone: the digest's link, for a holder of the right in that company."""
        company = self.env.company
        company._powens_check_setup_right()
        banks = [bank for bank, _kind, _date in self.sudo()._banks_needing_someone(company).get(company, [])]
        action = self.env["ir.actions.act_window"]._for_xml_id("ingeneo_powens.action_powens_cockpit")
        action["domain"] = [("id", "in", [bank.id for bank in banks])]
        action["name"] = self.env._("Banks that need someone")
        return action
