"""Red team round 12, r12-09 (low): the copy maker raised KeyError, not SealingError, for a
sealed original whose Document.xml names an Attachments list the package lacks.

The original verifies (a missing part is a note; intake refuses it as incomplete), and
``OfdCopyMaker._added_parts`` read ``parts[existing]`` for the list ``list_parts`` names.
Now the maker refuses an original naming parts it lacks, as intake does, and whatever
else goes wrong on a hostile original is a :class:`SealingError` with a reason: the cases
below name each kind of part missing (the lists, custom tags, outlines, resource files,
pages, templates, fonts and images) or present only as a case twin.
"""

from __future__ import annotations

import pytest

from signing.errors import SealingError
from signing.ofd import copy as copy_module
from signing.ofd.writer import sample_ofd, write_package
from tests.attacks.ofd_copy_forge import annotation, vault_maker
from tests.attacks.ofd_forge import GENUINE_LINES, market_sealer
from tests.helpers.ofd import ofd_parts

DOC = "Doc_0/Document.xml"
PAGE = "Doc_0/Pages/Page_0/Content.xml"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
NS = "http://www.ofdspec.org/2016"


def _sealed(edit: dict[str, tuple[str, str]], extra: dict[str, bytes] | None = None) -> bytes:
    """The license with each part's text ``old`` replaced by ``new`` (``edit``: part ->
    (old, new)) and ``extra`` parts added, sealed by the market regulator over all of it."""
    parts = ofd_parts(sample_ofd("食品经营许可证", GENUINE_LINES))
    for path, (old, new) in edit.items():
        text = parts[path].decode()
        assert old in text, (path, old)
        parts[path] = text.replace(old, new, 1).encode()
    parts.update(extra or {})
    return market_sealer().seal_ofd(write_package(parts))


_END = "</ofd:Document>"
_CASES = {
    "attachments list": {
        DOC: (_END, "<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>" + _END)
    },
    "annotations list": {
        DOC: (_END, "<ofd:Annotations>Annots/Annotations.xml</ofd:Annotations>" + _END)
    },
    "custom tags list": {
        DOC: (_END, "<ofd:CustomTags>Tags/CustomTags.xml</ofd:CustomTags>" + _END)
    },
    "outlines": {
        DOC: (
            _END,
            '<ofd:Outlines><ofd:OutlineElem Title="x"><ofd:Actions><ofd:Action Event="CLICK">'
            '<ofd:Goto><ofd:Dest Type="XYZ" PageID="99"/></ofd:Goto></ofd:Action>'
            "</ofd:Actions></ofd:OutlineElem></ofd:Outlines>" + _END,
        )
    },
    "public res": {DOC: ("<ofd:PublicRes>PublicRes.xml", "<ofd:PublicRes>Gone.xml")},
    "document res": {DOC: ("<ofd:DocumentRes>DocumentRes.xml", "<ofd:DocumentRes>Gone.xml")},
    "page res": {PAGE: ("<ofd:Content>", "<ofd:PageRes>PageRes.xml</ofd:PageRes><ofd:Content>")},
    "page": {
        DOC: ("</ofd:Pages>", '<ofd:Page ID="5" BaseLoc="Pages/Page_9/Content.xml"/></ofd:Pages>')
    },
    "template": {
        DOC: (
            "</ofd:CommonData>",
            '<ofd:TemplatePage ID="6" BaseLoc="Tpls/T.xml"/></ofd:CommonData>',
        ),
        PAGE: ("<ofd:Content>", '<ofd:Template TemplateID="6"/><ofd:Content>'),
    },
    "font file": {
        "Doc_0/PublicRes.xml": (
            'FamilyName="宋体"/>',
            'FamilyName="宋体"><ofd:FontFile>f.ttf</ofd:FontFile></ofd:Font>',
        )
    },
    "image": {
        "Doc_0/DocumentRes.xml": (
            'BaseLoc="Res">',
            'BaseLoc="Res"><ofd:MultiMedias><ofd:MultiMedia ID="3" Type="Image" Format="PNG">'
            "<ofd:MediaFile>gone.png</ofd:MediaFile></ofd:MultiMedia></ofd:MultiMedias>",
        ),
        PAGE: (
            '<ofd:Layer ID="8">',
            '<ofd:Layer ID="8"><ofd:ImageObject ID="9" ResourceID="3" Boundary="150 200 10 10" '
            'CTM="10 0 0 10 0 0"/>',
        ),
    },
}


_SHOWN = {"annotations list", "attachments list", "custom tags list", "font file", "image"}
_SHOWN |= {"page", "template"}
"""The cases naming a part a reader shows (intake refuses them: ``missing_parts``); the
others (outlines to a page that is not there, an empty resource list left out, as ofdrw
writes) may be copied."""


@pytest.mark.parametrize("case", sorted(_CASES))
def test_an_original_naming_a_missing_part_is_refused_with_a_sealing_error(case: str) -> None:
    original = _sealed(_CASES[case])
    if case in _SHOWN:
        with pytest.raises(SealingError, match=r"it names parts it lacks|is missing"):
            vault_maker().make(original, annotation())
        return
    try:
        vault_maker().make(original, annotation())
    except SealingError as exc:
        assert "cannot be copied" in str(exc), exc


def test_the_red_team_original_names_a_missing_attachments_list() -> None:
    original = _sealed(_CASES["attachments list"])
    with pytest.raises(SealingError, match=r"Attachments\.xml"):
        vault_maker().make(original, annotation())


def test_an_attachments_list_present_only_as_a_case_twin_is_refused() -> None:
    twin = f'{HEAD}<ofd:Attachments xmlns:ofd="{NS}"></ofd:Attachments>'.encode()
    original = _sealed(_CASES["attachments list"], {"Doc_0/attachs/attachments.xml": twin})
    with pytest.raises(SealingError, match=r"Attachments\.xml"):
        vault_maker().make(original, annotation())


def test_an_unexpected_failure_is_a_sealing_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Last resort: a bug the hostile original reaches is reported as the maker's error,
    naming the exception, never leaking it to the caller."""

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("Doc_0/Attachs/Attachments.xml")

    monkeypatch.setattr(copy_module, "_attachment_files", broken)
    original = _sealed({})
    with pytest.raises(SealingError, match="KeyError"):
        vault_maker().make(original, annotation())
