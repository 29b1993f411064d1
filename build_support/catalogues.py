"""Build hook: compile the portal's message catalogues (.po) into the package (.mo).

The .mo files are build output and never committed (`make translations` makes them for a work
tree); this hook makes them for every built wheel, so `pip install .` yields the Dutch portal too.
"""

from __future__ import annotations

from pathlib import Path

from setuptools.command.build_py import build_py

LOCALE = Path("sfs", "web", "portal", "locale")


class BuildPyWithCatalogues(build_py):
    """`build_py`, then each `LANG/LC_MESSAGES/*.po` compiled beside its copy in the build."""

    def run(self) -> None:
        super().run()
        if self.dry_run:
            return
        from babel.messages.mofile import write_mo  # a build requirement (pyproject.toml)
        from babel.messages.pofile import read_po

        source = Path(self.get_package_dir("sfs")).parent / LOCALE
        for po_path in sorted(source.glob("*/LC_MESSAGES/*.po")):
            target = Path(self.build_lib) / LOCALE / po_path.relative_to(source)
            target = target.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as po_file:
                catalogue = read_po(po_file, locale=po_path.parent.parent.name)
            with target.open("wb") as mo_file:
                write_mo(mo_file, catalogue, use_fuzzy=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        source = Path(self.get_package_dir("sfs")).parent / LOCALE
        compiled = [
            str((Path(self.build_lib) / LOCALE / p.relative_to(source)).with_suffix(".mo"))
            for p in source.glob("*/LC_MESSAGES/*.po")
        ]
        return sorted({*super().get_outputs(include_bytecode), *compiled})
