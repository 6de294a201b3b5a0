"""The translation catalogues: one per feature folder, merged by Flask-Babel at run time.

`python -m app.i18n_catalogs extract` refreshes every catalogue from its sources;
`python -m app.i18n_catalogs fill PO JSON` sets translations from a {msgid: text} file;
`python -m app.i18n_catalogs compile` builds the .mo files (make run / make test do it).
A folder's catalogue covers its own sources, less the sub-folders that keep their own.
"""

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parent.parent
SOURCE_ROOTS = ("app", "referral", "wearables", "telecall")
# Babel parses zh_CN as zh_Hans_CN and looks for that folder name.
LOCALE = "zh_Hans_CN"


def catalogue_dirs() -> list[Path]:
    found = []
    for name in SOURCE_ROOTS:
        base = ROOT / name
        if base.is_dir():
            found += sorted(p for p in base.rglob("translations") if p.is_dir())
    return found


def source_of(translations: Path) -> Path:
    return translations.parent


def ignored_under(source: Path) -> list[str]:
    """Sub-folders of `source` that keep their own catalogue."""
    own = [d.parent for d in catalogue_dirs() if d.parent != source]
    return sorted(p.name for p in own if source in p.parents) + ["translations"]


def _babel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract_pot(translations: Path, pot: Path) -> None:
    """Write the template of every message the catalogue's own sources use."""
    source = source_of(translations)
    ignore = " ".join(ignored_under(source))
    options = [
        "-F",
        str(ROOT / "babel.cfg"),
        "-k",
        "_l",
        "-k",
        "N_",
        "--no-location",
        "--sort-output",
    ]
    _babel("extract", *options, "--ignore-dirs", ignore, "-o", str(pot), str(source))


def extract() -> None:
    for translations in catalogue_dirs():
        pot = translations / "messages.pot"
        extract_pot(translations, pot)
        po = translations / LOCALE / "LC_MESSAGES" / "messages.po"
        if po.exists():
            update = ["update", "--ignore-obsolete", "--no-fuzzy-matching"]
            _babel(*update, "-i", str(pot), "-d", str(translations), "-l", LOCALE, "--no-wrap")
        else:
            _babel("init", "-i", str(pot), "-d", str(translations), "-l", LOCALE, "--no-wrap")
        pot.unlink()


def compile_all() -> None:
    for translations in catalogue_dirs():
        _babel("compile", "-f", "-d", str(translations))


def fill(po_path: str, json_path: str) -> list[str]:
    """Set translations from a JSON object {msgid: translation}; returns what is still empty."""
    import json

    from babel.messages.pofile import read_po, write_po

    with open(po_path, "rb") as f:
        catalogue = read_po(f, locale=LOCALE)
    with open(json_path, encoding="utf-8") as f:
        table = json.load(f)
    missing = []
    for message in catalogue:
        key = message.id if isinstance(message.id, str) else message.id[0]
        if not key:
            continue
        if key in table:
            message.string = table[key]
            message.flags.discard("fuzzy")
        elif not message.string:
            missing.append(key)
    with open(po_path, "wb") as f:
        write_po(f, catalogue, width=0)
    return missing


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "fill":
        print("still untranslated:", fill(*args))
    else:
        {"extract": extract, "compile": compile_all}[command]()
