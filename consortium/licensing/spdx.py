"""SPDX licence expressions, validated offline with the license-expression package.

Pure logic, no database: `normalise_expression` turns `cc-by-4.0 and cc-by-sa-4.0` into
`CC-BY-4.0 AND CC-BY-SA-4.0` and refuses unknown keys such as `Foo-1.0`. A consortium's own
agreement is named `LicenseRef-<name>` (SPDX's syntax for licences outside the list).
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from license_expression import ExpressionError, ExpressionParseError, Licensing, get_license_index

# SPDX idstring: letters, digits, "." and "-".
LICENSE_REF = re.compile(r"^LicenseRef-[A-Za-z0-9.\-]+$")
SCANCODE_PREFIX = "LicenseRef-scancode-"


class InvalidExpression(ValueError):
    """The expression is not a valid SPDX licence expression; the message says why."""


@lru_cache(maxsize=1)
def _index() -> tuple[dict, ...]:
    return tuple(get_license_index())


@lru_cache(maxsize=1)
def spdx_licensing() -> Licensing:
    from license_expression import build_spdx_licensing

    return build_spdx_licensing(list(_index()))


def normalise_expression(expression: str) -> str:
    """The normalised form of a valid expression; raises InvalidExpression with a readable reason."""
    text = " ".join((expression or "").split())
    if not text:
        raise InvalidExpression("Enter a licence expression, for example CC-BY-4.0.")
    licensing = spdx_licensing()
    try:
        parsed = licensing.parse(text, validate=False, strict=True)
    except (ExpressionParseError, ExpressionError) as exc:
        raise InvalidExpression(f"“{text}” is not a valid SPDX licence expression: {str(exc).rstrip('.')}.") from exc
    if parsed is None:
        raise InvalidExpression("Enter a licence expression, for example CC-BY-4.0.")
    unknown = [
        key
        for key in licensing.unknown_license_keys(parsed)
        if not (LICENSE_REF.match(key) and not key.startswith(SCANCODE_PREFIX))
    ]
    if unknown:
        raise InvalidExpression(
            f"Unknown licence identifier{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
            "Use an identifier from the SPDX licence list (e.g. CC-BY-4.0, Apache-2.0) "
            "or LicenseRef-<name> for a consortium agreement."
        )
    return parsed.render()


def licence_keys(expression: str) -> list[str]:
    """The licence identifiers in a valid expression, in order."""
    licensing = spdx_licensing()
    return licensing.license_keys(licensing.parse(expression, strict=True))


@dataclass(frozen=True)
class CatalogueEntry:
    key: str
    category: str
    is_deprecated: bool
    attribution: bool
    share_alike: bool
    non_commercial: bool


# A few human names for the licences datasets use most; the rest show their identifier.
KNOWN_NAMES = {
    "CC-BY-4.0": "Creative Commons Attribution 4.0 International",
    "CC-BY-SA-4.0": "Creative Commons Attribution-ShareAlike 4.0 International",
    "CC-BY-NC-4.0": "Creative Commons Attribution-NonCommercial 4.0 International",
    "CC-BY-NC-SA-4.0": "Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International",
    "CC-BY-ND-4.0": "Creative Commons Attribution-NoDerivatives 4.0 International",
    "CC0-1.0": "Creative Commons Zero v1.0 Universal",
    "CC-BY-3.0": "Creative Commons Attribution 3.0 Unported",
    "Apache-2.0": "Apache License 2.0",
    "MIT": "MIT License",
    "BSD-3-Clause": 'BSD 3-Clause "New" or "Revised" License',
    "ODC-By-1.0": "Open Data Commons Attribution License v1.0",
    "ODbL-1.0": "Open Data Commons Open Database License v1.0",
    "PDDL-1.0": "Open Data Commons Public Domain Dedication & License 1.0",
    "CDLA-Permissive-2.0": "Community Data License Agreement Permissive 2.0",
    "CDLA-Sharing-1.0": "Community Data License Agreement Sharing 1.0",
}


def catalogue_entries() -> list[CatalogueEntry]:
    """Every licence (not exception) of the SPDX list shipped offline with license-expression.

    Obligations are inferred only where the identifier states them (Creative Commons BY/SA/NC,
    CDLA-Sharing, ODbL); admins refine the rest.
    """
    entries = []
    for row in _index():
        key = row.get("spdx_license_key") or ""
        if not key or key.startswith("LicenseRef-") or row.get("is_exception"):
            continue
        upper = key.upper()
        parts = set(upper.split("-"))
        creative_commons = upper.startswith("CC-BY")
        entries.append(
            CatalogueEntry(
                key=key,
                category=row.get("category", ""),
                is_deprecated=bool(row.get("is_deprecated")),
                attribution=creative_commons or key in ("ODC-By-1.0", "ODbL-1.0", "CDLA-Permissive-2.0"),
                share_alike=(creative_commons and "SA" in parts) or key in ("ODbL-1.0", "CDLA-Sharing-1.0"),
                non_commercial=creative_commons and "NC" in parts,
            )
        )
    return entries
