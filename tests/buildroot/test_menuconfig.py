"""What a menu changed, as a fragment: skiffbuild.buildroot.menuconfig and handedits."""

from __future__ import annotations

from skiffbuild.buildroot.handedits import parse_dotconfig
from skiffbuild.buildroot.menuconfig import Change, changes, fragment_text


def test_changes_are_the_new_values_that_differ() -> None:
    old = {"BR2_A": "y", "BR2_B": "n", "BR2_GONE": "y", "BR2_S": '"x"'}
    new = {"BR2_A": "y", "BR2_B": "y", "BR2_NEW": "n", "BR2_S": '"x y"'}
    assert changes(old, new) == [Change("BR2_B", "n", "y"), Change("BR2_NEW", None, "n"),
                                 Change("BR2_S", '"x"', '"x y"')]


def test_a_new_fragment_has_the_header() -> None:
    text = fragment_text(None, [Change("BR2_A", "n", "y"), Change("BR2_B", "y", "n")],
                         ["first", "second"])
    assert text == "# first\n# second\nBR2_A=y\n# BR2_B is not set\n"


def test_a_save_updates_in_place_and_keeps_the_rest() -> None:
    existing = ("# mine\nBR2_A=y\n\n# why B is off\n# BR2_B is not set\nBR2_KEEP=1\n"
                "BR2_AB=y\n")
    text = fragment_text(existing, [Change("BR2_B", "n", '"on"'), Change("BR2_A", "y", "n"),
                                    Change("BR2_C", None, "3")], ["unused"])
    assert text == ('# mine\n# BR2_A is not set\n\n# why B is off\nBR2_B="on"\nBR2_KEEP=1\n'
                    "BR2_AB=y\nBR2_C=3\n")


def test_parse_dotconfig_by_prefix() -> None:
    text = '#\n# BR2_X is not set\nBR2_Y="a b"\nCONFIG_Z=m\n# CONFIG_W is not set\n'
    assert parse_dotconfig(text) == {"BR2_X": "n", "BR2_Y": '"a b"'}
    assert parse_dotconfig(text, "CONFIG_") == {"CONFIG_Z": "m", "CONFIG_W": "n"}
