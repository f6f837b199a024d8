"""Counterparties recognised at import (issue 16 §3): a movement gets the partner whose bank
account is the counterparty's IBAN, else the partner the accountant already tied to the
counterparty's name in the company; only when exactly one partner fits, and never in place of
a partner the accountant chose. Each case that expects no partner also imports a movement that
does get one, so that it fails without the recognition."""

from odoo import Command
from odoo.tests import TransactionCase, tagged

from powens_sandbox.iban import french_iban

from .test_powens_sync import ConnectedBankCase


def an_iban(number):
    """A valid French IBAN, one per ``number``, that no sandbox counterparty uses."""
    return french_iban("99999", "00001", f"{number:011d}")


@tagged("post_install", "-at_install")
class TestCounterparties(ConnectedBankCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "Filiale"})
        cls.env["account.chart.template"].try_loading("generic_coa", company=cls.other_company, install_demo=False)
        cls.other_bank = (
            cls.env["account.journal"]
            .with_company(cls.other_company)
            .create({"name": "Banque de la filiale", "type": "bank", "company_id": cls.other_company.id})
        )
        cls.supplier = cls.partner("Fournil Dupont SARL", an_iban(1))

    @classmethod
    def partner(cls, name, iban=None, company=None):
        """A partner, shared by the companies unless ``company`` is given, with ``iban`` as its
        bank account, written as an accountant would (grouped by four, lower case)."""
        return cls.partners([(name, iban)], company)

    @classmethod
    def partners(cls, names_and_ibans, company=None):
        """The partners of ``partner``, created at once."""
        values = []
        for name, iban in names_and_ibans:
            values.append({"name": name, "is_company": True, "company_id": company.id if company else False})
            if iban:
                spaced = " ".join(iban[start : start + 4] for start in range(0, len(iban), 4))
                values[-1]["bank_ids"] = [Command.create({"acc_number": spaced.lower()})]
        return cls.env["res.partner"].create(values)

    def movement(self, label, iban=None):
        """A new movement at Powens whose counterparty is ``label`` and, if given, ``iban``;
        deleted after the case, so that the next cases' pulls leave it aside."""
        powens_id = self.sandbox.control(
            "POST", f"/_sandbox/accounts/{self.account.powens_id}/transactions", {"count": 1}
        )["ids"][0]
        self.addCleanup(self.sandbox.control, "POST", f"/_sandbox/transactions/{powens_id}/delete")
        self.edit(powens_id, label, iban)
        return powens_id

    def edit(self, powens_id, label, iban=None):
        counterparty = {
            "label": label,
            "account_scheme_name": "iban" if iban else None,
            "account_identification": iban,
            "type": "creditor",
        }
        self.sandbox.control("POST", f"/_sandbox/transactions/{powens_id}/edit", {"counterparty": counterparty})

    def sync(self):
        self.env["powens.retrieval"]._retrieve(self.bank, "cron")

    def line_of(self, powens_id):
        line = self.env["account.bank.statement.line"].search(
            [("journal_id", "=", self.bank.id), ("powens_transaction_id", "=", str(powens_id))]
        )
        self.assertEqual(len(line), 1, "the movement is imported")
        return line

    def partner_of(self, powens_id):
        return self.line_of(powens_id).partner_id

    def tie(self, name, partner, journal=None):
        """An earlier line of ``journal`` on which the accountant tied ``name`` to ``partner``."""
        return self.ties([(name, partner)], journal)

    def ties(self, names_and_partners, journal=None):
        """The lines of ``tie``, created at once."""
        journal = journal or self.bank
        values = {"journal_id": journal.id, "date": "2026-01-05", "amount": -12.5, "payment_ref": "Saisie manuelle"}
        return (
            self.env["account.bank.statement.line"]
            .with_company(journal.company_id)
            .create([dict(values, partner_name=name, partner_id=partner.id) for name, partner in names_and_partners])
        )

    def test_iban_of_exactly_one_partner_gives_that_partner(self):
        contact = self.env["res.partner"].create({"name": "Jean Dupont", "parent_id": self.supplier.id})
        self.env["res.partner.bank"].create({"acc_number": an_iban(2), "partner_id": contact.id})
        by_account = self.movement("FOURNIL DUPONT", an_iban(1))
        by_contact_account = self.movement("M. JEAN DUPONT", an_iban(2))
        unknown = self.movement("INCONNU SA", an_iban(3))
        self.sync()
        self.assertEqual(self.partner_of(by_account), self.supplier)
        self.assertEqual(self.partner_of(by_contact_account), self.supplier, "a contact's account is its company's")
        self.assertFalse(self.partner_of(unknown))
        self.assertEqual(self.line_of(by_account).account_number, an_iban(1))

    def test_iban_shared_by_two_partners_gives_none(self):
        self.partner("Fournil Dupont (ancienne fiche)", an_iban(1))
        self.partner("Minoterie Leroy", an_iban(4))
        shared = self.movement("FOURNIL DUPONT", an_iban(1))
        single = self.movement("MINOTERIE LEROY", an_iban(4))
        self.sync()
        self.assertFalse(self.partner_of(shared), "two partners hold this account: the accountant chooses")
        self.assertTrue(self.partner_of(single))

    def test_iban_of_a_partner_of_another_company_gives_none(self):
        self.partner("Minoterie de la filiale", an_iban(5), company=self.other_company)
        own = self.partner("Minoterie Leroy", an_iban(4), company=self.company)
        elsewhere = self.movement("MINOTERIE FILIALE", an_iban(5))
        here = self.movement("MINOTERIE LEROY", an_iban(4))
        self.sync()
        self.assertFalse(self.partner_of(elsewhere))
        self.assertEqual(self.partner_of(here), own)

    def test_name_the_accountant_tied_to_a_partner_gives_that_partner(self):
        first = self.movement("ÉPICERIE  Martin ")
        self.sync()
        self.assertFalse(self.partner_of(first), "nothing learned yet, no IBAN")
        grocer = self.partner("Épicerie Martin")
        self.line_of(first).partner_id = grocer
        again = self.movement("épicerie martin")
        other = self.movement("ÉPICERIE MARTINEZ")
        self.sync()
        self.assertEqual(self.partner_of(again), grocer, "learned whatever the case and the spacing")
        self.assertFalse(self.partner_of(other))

    def test_name_tied_to_two_partners_gives_none(self):
        self.tie("TRAITEUR LYONNAIS", self.partner("Traiteur Lyonnais"))
        self.tie("TRAITEUR LYONNAIS", self.partner("Traiteur Lyonnais (Villeurbanne)"))
        mill = self.partner("Moulin Bernard")
        self.tie("MOULIN BERNARD", mill)
        self.tie("MOULIN BERNARD", mill)
        ambiguous = self.movement("TRAITEUR LYONNAIS")
        learned = self.movement("MOULIN BERNARD")
        self.sync()
        self.assertFalse(self.partner_of(ambiguous), "learned, not guessed")
        self.assertEqual(self.partner_of(learned), mill)

    def test_name_learned_in_another_company_gives_none(self):
        self.tie("CAVE DES CANUTS", self.partner("Cave des Canuts"), journal=self.other_bank)
        florist = self.partner("Fleurs de Saône")
        self.tie("FLEURS DE SAONE", florist)
        elsewhere = self.movement("CAVE DES CANUTS")
        here = self.movement("FLEURS DE SAONE")
        self.sync()
        self.assertFalse(self.partner_of(elsewhere))
        self.assertEqual(self.partner_of(here), florist)

    def test_iban_wins_over_a_learned_name(self):
        self.tie("FOURNIL DUPONT", self.partner("Dupont (particulier)"))
        powens_id = self.movement("FOURNIL DUPONT", an_iban(1))
        self.sync()
        self.assertEqual(self.partner_of(powens_id), self.supplier)

    def test_the_accountants_partner_is_never_overwritten(self):
        powens_id = self.movement("FOURNIL DUPONT", an_iban(1))
        self.sync()
        self.assertEqual(self.partner_of(powens_id), self.supplier)
        chosen = self.partner("Boulangerie Dupont père")
        self.line_of(powens_id).partner_id = chosen
        # Powens sends the transaction again, changed: now the IBAN and name of another
        # known partner.
        mill = self.partner("Minoterie Leroy", an_iban(4))
        self.tie("MINOTERIE LEROY", mill)
        self.edit(powens_id, "MINOTERIE LEROY", an_iban(4))
        self.sync()
        self.assertEqual(self.partner_of(powens_id), chosen)

    def test_a_page_is_resolved_in_a_constant_number_of_queries(self):
        tied = self.partners([(f"Client {number}", None) for number in range(100)])
        self.ties([(f"CLIENT {number}", partner) for number, partner in enumerate(tied)])
        known = self.partners([(f"Fournisseur {number}", an_iban(100 + number)) for number in range(100)])

        def queries_for(count):
            """Queries to resolve a page of ``count`` movements by IBAN and ``count`` by name."""
            page = [{"account_number": an_iban(100 + number), "partner_name": "?"} for number in range(count)]
            page += [{"account_number": False, "partner_name": f"CLIENT {number}"} for number in range(count)]
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self.env["powens.counterparty"]._assign_partners(self.company, page)
            queries = self.env.cr.sql_log_count - before
            self.assertEqual([values["partner_id"] for values in page], (known[:count] + tied[:count]).ids)
            return queries

        self.assertEqual(queries_for(10), queries_for(100))
