import re
from pathlib import Path

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

FRENCH_PO = Path(__file__).resolve().parent.parent / "i18n" / "fr.po"

# Python and QWeb placeholders: a translation that drops or renames one breaks the message
# (or raises) at run time.
PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\{\{[^}]*\}\}|t-out=\"[^\"]*\"|t-att-href=\"[^\"]*\"")

# INGENEO's documentation wording, as its users read it in the other screens of the ERP.
INGENEO_WORDING = {
    "Accounting referential": "Référentiel comptable",
    "Bank": "Banque",
    "Add": "Ajouter",
    "Save": "Enregistrer",
    "Allow access to accounting setup": "Autoriser l'accès au paramétrage de la comptabilité",
    "Connect POWENS": "Connecter POWENS",
    "Manage the automatic retrieval": "Gérer la récupération automatique",
    "Send the connection request to a user": "Envoyer la requête de connexion à un utilisateur",
    "Reconnect": "Reconnecter",
    "Disconnect": "Déconnecter",
    "Synchronise now": "Synchroniser maintenant",
    "Is my bank compatible?": "Ma banque est-elle compatible ?",
    "Choose the bank account": "Choisir le compte bancaire",
    "Continue to POWENS": "Continuer vers POWENS",
    "I consent": "Je consens",
    "Movements": "Mouvements",
    "Action required": "Action requise",
    "Waiting for the first retrieval": "En attente de la première récupération",
    "Connection request": "Requête de connexion",
}


@tagged("post_install", "-at_install")
class TestFrenchTranslation(TransactionCase):
    """INGENEO's users read French: every term the add-on shows must have its translation.
    The terms come from the installed code itself, not from a .pot that could be stale."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.po = polib.pofile(str(FRENCH_PO))

    def test_every_term_has_a_french_translation(self):
        terms = {
            source
            for module, _type, _name, _res_id, source, _value, _comments in TranslationModuleReader(
                self.env.cr, ["ingeneo_powens"]
            )
            if module == "ingeneo_powens"
        }
        translated = {entry.msgid for entry in self.po if entry.translated()}
        missing = sorted(terms - translated)
        self.assertFalse(missing, "terms without French translation (run bin/workbench i18n):\n" + "\n".join(missing))

    def test_nothing_fuzzy_nor_obsolete(self):
        self.assertFalse([entry.msgid for entry in self.po.fuzzy_entries()], "fuzzy translations to review")
        self.assertFalse([entry.msgid for entry in self.po.obsolete_entries()], "obsolete translations to remove")

    def test_translations_keep_their_placeholders(self):
        broken = [
            entry.msgid
            for entry in self.po.translated_entries()
            if sorted(PLACEHOLDER.findall(entry.msgid)) != sorted(PLACEHOLDER.findall(entry.msgstr))
        ]
        self.assertFalse(broken, "translations whose placeholders differ from the English:\n" + "\n".join(broken))

    def test_ingeneo_wording(self):
        french = {entry.msgid: entry.msgstr for entry in self.po}
        self.assertEqual({msgid: french.get(msgid) for msgid in INGENEO_WORDING}, INGENEO_WORDING)

    def test_powens_is_written_in_capitals(self):
        """INGENEO writes the aggregator's name POWENS in its French screens."""
        self.assertFalse([entry.msgstr for entry in self.po if "Powens" in entry.msgstr])
