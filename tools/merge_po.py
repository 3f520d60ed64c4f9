"""Merge a .pot template into a .po file: keep translations, add new terms, drop gone ones.

Usage: merge_po.py TEMPLATE.pot LANG.po — prints the terms still untranslated.
"""

import sys

import polib


def merge(pot_path, po_path):
    template = polib.pofile(pot_path)
    try:
        translations = polib.pofile(po_path)
    except OSError:
        translations = polib.POFile()
        translations.metadata = dict(template.metadata)
    translations.metadata["Language"] = "es"
    translations.merge(template)
    # polib keeps removed terms as obsolete entries; the file carries only live ones.
    for entry in [entry for entry in translations if entry.obsolete]:
        translations.remove(entry)
    translations.save(po_path)
    missing = [entry.msgid for entry in translations if not entry.msgstr or entry.fuzzy]
    for msgid in missing:
        print(f"untranslated: {msgid!r}")
    return missing


if __name__ == "__main__":
    merge(sys.argv[1], sys.argv[2])
