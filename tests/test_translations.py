"""Every message the pages and services show has a Chinese translation (the default language)."""

from babel.messages.pofile import read_po

from app.i18n_catalogs import LOCALE, catalogue_dirs, extract_pot


def _read(path):
    with open(path, "rb") as f:
        return read_po(f)


def test_every_message_is_translated_to_chinese(tmp_path):
    translated = set()
    for translations in catalogue_dirs():
        po = translations / LOCALE / "LC_MESSAGES" / "messages.po"
        assert po.exists(), f"{translations} has no {LOCALE} catalogue"
        translated |= {
            m.id if isinstance(m.id, str) else m.id[0]
            for m in _read(po)
            if m.id and m.string and "fuzzy" not in m.flags
        }
    missing = {}
    for index, translations in enumerate(catalogue_dirs()):
        pot = tmp_path / f"{index}.pot"
        extract_pot(translations, pot)
        used = {m.id if isinstance(m.id, str) else m.id[0] for m in _read(pot) if m.id}
        if used - translated:
            missing[str(translations)] = sorted(used - translated)
    assert missing == {}, "run `make messages`, then translate these"
