from pathlib import Path

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

FRENCH_PO = Path(__file__).resolve().parent.parent / "i18n" / "fr.po"


@tagged("post_install", "-at_install")
class TestFrenchTranslation(TransactionCase):
    """INGENEO's users read French: every term the add-on shows must have its translation.
    The terms come from the installed code itself, not from a .pot that could be stale."""

    def test_every_term_has_a_french_translation(self):
        terms = {
            source
            for module, _type, _name, _res_id, source, _value, _comments in TranslationModuleReader(
                self.env.cr, ["ingeneo_powens"])
            if module == "ingeneo_powens"
        }
        translated = {entry.msgid for entry in polib.pofile(str(FRENCH_PO)) if entry.translated()}
        missing = sorted(terms - translated)
        self.assertFalse(missing, "terms without French translation (run bin/workbench i18n):\n" + "\n".join(missing))

    def test_ingeneo_wording(self):
        french = {entry.msgid: entry.msgstr for entry in polib.pofile(str(FRENCH_PO))}
        self.assertEqual(french["Connect POWENS"], "Connecter POWENS")
        self.assertEqual(french["Accounting referential"], "Référentiel comptable")
        self.assertEqual(french["Allow access to accounting setup"], "Autoriser l'accès au paramétrage de la comptabilité")
        self.assertEqual(french["Bank"], "Banque")
        self.assertEqual(french["Add"], "Ajouter")
        self.assertEqual(french["Save"], "Enregistrer")
        self.assertEqual(french["Manage the automatic retrieval"], "Gérer la récupération automatique")
        self.assertEqual(french["Send the connection request to a user"], "Envoyer la requête de connexion à un utilisateur")
