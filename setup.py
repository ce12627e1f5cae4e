"""Only a build hook: compile the translation catalogues (.po -> .mo) when the package is built
or installed. Only the .po files are committed; `pip install -e .` runs build_py too (setuptools
calls it for editable wheels), so a fresh clone gets working catalogues either way."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CATALOGUES = Path(__file__).resolve().parent / "web" / "translations"


class BuildPyWithCatalogues(build_py):
    def run(self) -> None:
        compile_catalogues(CATALOGUES)
        super().run()


def compile_catalogues(root: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in sorted(root.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        with po.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)  # a fuzzy entry is not a translation yet


setup(cmdclass={"build_py": BuildPyWithCatalogues})
