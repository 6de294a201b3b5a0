from datetime import date

import pytest

from app import idcard

# The worked example of GB 11643-1999 and a number with X as its check character.
VALID = ["11010519491231002X", "440524188001010014"]


@pytest.mark.parametrize("number", VALID)
def test_published_examples_pass(number):
    assert idcard.normalise(number) == number


def test_lowercase_x_is_normalised():
    assert idcard.normalise("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "check digit"),
        ("11010519491231002", "18 characters"),
        ("1101051949123100AX", "17 digits"),
        (idcard.make("11010519491331002"), "birth date"),
        ("110105491231002", "15-digit ID numbers"),
    ],
)
def test_bad_numbers_say_why(number, reason):
    with pytest.raises(idcard.InvalidIdNumber, match=reason):
        idcard.normalise(number)


def test_mask_keeps_four_and_four():
    assert idcard.mask("31011519480312012X") == "3101**********012X"


def test_birth_date():
    assert idcard.birth_date("11010519491231002X") == date(1949, 12, 31)
