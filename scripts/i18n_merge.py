"""`bin/workbench i18n`: clean the template Odoo exported, merge it into fr.po keeping every
existing translation, and list the terms still to translate (written by hand in fr.po, in
INGENEO's wording; the test suite fails while one is missing)."""

import sys

import polib


def main(pot_path, po_path):
    pot = polib.pofile(pot_path)
    for header in ("POT-Creation-Date", "PO-Revision-Date"):
        pot.metadata.pop(header, None)
    pot.save(pot_path)
    previous = {entry.msgid: entry.msgstr for entry in polib.pofile(po_path) if entry.msgstr}
    po = polib.pofile(pot_path)
    po.metadata.update({"Language-Team": "French", "Language": "fr", "Plural-Forms": "nplurals=2; plural=(n > 1);"})
    po.header = "French translation of ingeneo_powens (INGENEO wording)."
    missing = []
    for entry in po:
        entry.msgstr = previous.get(entry.msgid, "")
        if not entry.msgstr:
            missing.append(entry.msgid)
    po.save(po_path)
    print(f"{len(po)} terms, {len(missing)} without French translation")
    for msgid in missing:
        print("  " + " ".join(msgid.split()))


if __name__ == "__main__":
    main(*sys.argv[1:])
