"""Money is Decimal, never float. A month is 730 hours, the AWS Pricing Calculator convention."""

from decimal import ROUND_HALF_UP, Decimal

HOURS_PER_MONTH = Decimal(730)
CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    """Coerce a number to Decimal without going through float."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def quantize_money(value: Decimal, places: Decimal = CENT) -> Decimal:
    """Round half-up to cents for display and for the JSON report."""
    return value.quantize(places, rounding=ROUND_HALF_UP)


def money_str(value: Decimal | None) -> str | None:
    """Format money for the JSON report as a decimal string with cents."""
    return None if value is None else str(quantize_money(value))


def format_usd(value: Decimal | None, *, sign: bool = False, missing: str = "-") -> str:
    """`$1,234.56`; `-$3.10` for negatives, `+$3.10` with `sign`; `missing` for None."""
    if value is None:
        return missing
    amount = quantize_money(value)
    text = f"${abs(amount):,.2f}"
    if amount < 0:
        return "-" + text
    return ("+" + text) if sign and amount > 0 else text
