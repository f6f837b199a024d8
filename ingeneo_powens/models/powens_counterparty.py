from odoo import api, models
from odoo.tools import SQL

from odoo.addons.base.models.res_bank import sanitize_account_number


def normalised_name(column):
    """A counterparty name compared without case or spacing differences ("ACME  sarl " is
    "acme sarl"). Written once for the lookup and the index that serves it: PostgreSQL uses
    the index only for the very same expression."""
    return SQL("lower(btrim(regexp_replace(%s, '\\s+', ' ', 'g')))", column)


class PowensCounterparty(models.AbstractModel):
    """Recognises the partner behind a movement's counterparty, as Odoo Community does not:
    first by its IBAN among the partners' bank accounts, then by a name the accountant has
    already tied to a partner. Only a single candidate counts: an ambiguous case stays empty
    for the accountant rather than being guessed."""

    _name = "powens.counterparty"
    _description = "Recognition of the counterparties of movements (Powens)"

    @api.model
    def _assign_partners(self, company, line_values):
        """Set ``partner_id`` in the values of new statement lines of ``company`` whose
        counterparty is recognised; values that already name a partner are left as they are.
        A constant number of queries whatever the number of lines."""
        unassigned = [values for values in line_values if not values.get("partner_id")]
        ibans = {sanitize_account_number(values.get("account_number")) for values in unassigned}
        by_iban = self._partners_by_iban(company, ibans - {False})
        for values in unassigned:
            values["partner_id"] = by_iban.get(sanitize_account_number(values.get("account_number")), False)
        unassigned = [values for values in unassigned if not values["partner_id"]]
        names = {values.get("partner_name") for values in unassigned}
        by_name = self._partners_by_learned_name(company, names - {False, None, ""})
        for values in unassigned:
            values["partner_id"] = by_name.get(values.get("partner_name"), False)

    @api.model
    def _partners_by_iban(self, company, ibans):
        """{sanitized IBAN: partner id} for the IBANs that are the bank account of exactly one
        partner usable by ``company`` (its own or shared; contacts count as their company)."""
        if not ibans:
            return {}
        # sudo: the retrieval runs for the cron or a webhook as well as for the accountant;
        # the companies are filtered here, explicitly, whoever triggered it.
        bank_accounts = (
            self.env["res.partner.bank"]
            .sudo()
            .search_fetch(
                [
                    ("sanitized_acc_number", "in", list(ibans)),
                    ("partner_id.commercial_partner_id.company_id", "in", [False, company.id]),
                    ("partner_id.commercial_partner_id.active", "=", True),
                ],
                ["sanitized_acc_number", "partner_id"],
            )
        )
        candidates = {}
        for bank_account in bank_accounts:
            candidates.setdefault(bank_account.sanitized_acc_number, set()).add(
                bank_account.partner_id.commercial_partner_id.id
            )
        return {iban: partners.pop() for iban, partners in candidates.items() if len(partners) == 1}

    @api.model
    def _partners_by_learned_name(self, company, names):
        """{name: partner id} for the names that the statement lines of ``company`` already
        tie to exactly one partner (commercial entity), compared by :func:`normalised_name`."""
        if not names:
            return {}
        self.env["account.bank.statement.line"].flush_model(["company_id", "partner_id", "partner_name"])
        self.env["res.partner"].flush_model(["active", "commercial_partner_id", "company_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT page.name, array_agg(DISTINCT partner.commercial_partner_id)
                  FROM unnest(%(names)s::varchar[]) AS page(name)
                  JOIN account_bank_statement_line line
                    ON line.company_id = %(company)s
                   AND line.partner_id IS NOT NULL
                   AND %(line_name)s = %(page_name)s
                  JOIN res_partner partner ON partner.id = line.partner_id
                  JOIN res_partner commercial ON commercial.id = partner.commercial_partner_id
                 WHERE commercial.active
                   AND (commercial.company_id IS NULL OR commercial.company_id = %(company)s)
                 GROUP BY page.name
                """,
                names=list(names),
                company=company.id,
                line_name=normalised_name(SQL.identifier("line", "partner_name")),
                page_name=normalised_name(SQL.identifier("page", "name")),
            )
        )
        return {name: partners[0] for name, partners in self.env.cr.fetchall() if len(partners) == 1}
