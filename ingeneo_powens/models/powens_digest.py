from collections import defaultdict

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import format_date

from ..const import COCKPIT_ROUTE, REQUEST_OPEN_STATES, SETUP_GROUP

DIGEST_TEMPLATE = "ingeneo_powens.mail_template_powens_weekly_digest"
# The cockpit, on the banks of one company that need someone: the route ticks that company
# first in the switcher, which a URL of the web client cannot do.
DIGEST_COCKPIT_PATH = f"{COCKPIT_ROUTE}?needing=1&company_id="


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
        The cockpit's own alerts ("Consent expiring within 14 days", "In error for more than
        48 h"): a bank in error for less has its retrievals retried, nobody need look yet.
        A fixed number of queries, whatever the number of banks."""
        journals = self.env["account.journal"].search(
            Domain("company_id", "in", companies.ids)
            & Domain("type", "=", "bank")
            & (
                Domain("powens_state", "=", "action_required")
                | Domain("powens_in_error_48h", "=", True)
                | Domain("powens_consent_expiring", "=", True)
            )
        )
        in_error = journals.search(Domain("id", "in", journals.ids) & Domain("powens_in_error_48h", "=", True))
        needing = defaultdict(list)
        for journal in journals:
            if journal.powens_state == "action_required":
                needing[journal.company_id].append((journal, "action_required", False))
            elif journal in in_error:
                needing[journal.company_id].append((journal, "error", journal.powens_error_since))
            else:
                needing[journal.company_id].append((journal, "consent_ending", journal.powens_consent_expires_at))
        for request in self._expired_requests(companies):
            needing[request.company_id].append((request.journal_id, "request_expired", request.expires_at))
        return needing

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
                        "url": f"{base_url}{DIGEST_COCKPIT_PATH}{company.id}",
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
        """The cockpit on the banks of the current company (the link's company, ticked first) that need
        someone: the digest's link, for a holder of the right in that company."""
        company = self.env.company
        company._powens_check_setup_right()
        banks = [bank for bank, _kind, _date in self.sudo()._banks_needing_someone(company).get(company, [])]
        action = self.env["ir.actions.act_window"]._for_xml_id("ingeneo_powens.action_powens_cockpit")
        action["domain"] = [("id", "in", [bank.id for bank in banks])]
        action["name"] = self.env._("Banks that need someone")
        return action
