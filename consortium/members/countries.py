"""Country names for the ISO 3166-1 alpha-2 codes organisations are stored with."""

from functools import cache

import pycountry

# Short names where the standard's full name is not what people say.
COMMON = {"TW": "Taiwan"}


@cache
def country_name(code: str) -> str:
    """ "CH" → "Switzerland"; an unknown code is shown as it is."""
    if not code:
        return ""
    code = code.upper()
    if code in COMMON:
        return COMMON[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name
