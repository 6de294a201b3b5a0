"""Mainland resident identity card numbers (GB 11643-1999): check digit, birth date, masking."""

from datetime import date

from app.errors import N_

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


class InvalidIdNumber(ValueError):
    pass


def check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalise(number: str) -> str:
    """Return the 18-character number in canonical form, or raise InvalidIdNumber."""
    number = (number or "").strip().upper()
    if len(number) == 15:
        raise InvalidIdNumber(
            N_(
                "15-digit ID numbers (issued before 1999) are no longer valid; use the 18-digit number"  # noqa: E501
            )
        )
    if len(number) != 18:
        raise InvalidIdNumber(N_("must be 18 characters"))
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidIdNumber(N_("must be 17 digits followed by a digit or X"))
    if check_char(number[:17]) != number[17]:
        raise InvalidIdNumber(N_("check digit does not match (GB 11643)"))
    birth_date(number)
    return number


def birth_date(number: str) -> date:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(N_("birth date inside the number is not a real date")) from None


def mask(number: str) -> str:
    """3101**********123X: enough to tell two records apart, not enough to use."""
    return number[:4] + "*" * 10 + number[-4:]


def make(first17: str) -> str:
    """Complete a 17-digit prefix with its check character (demo data and tests)."""
    return first17 + check_char(first17)
