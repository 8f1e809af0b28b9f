"""Managed data identifiers: finding sensitive data in text, as SNS message data protection
names it (arn:aws:dataprotection::aws:data-identifier/<Name>).

AWS detects these "by using machine learning and pattern matching"; Lamina only matches
patterns, honestly and conservatively, for the identifiers in DETECTORS:

    EmailAddress        local@domain.tld
    CreditCardNumber    13 to 19 digits (spaces or dashes between groups allowed) with a
                        known issuer prefix (Visa, Mastercard, Amex, Discover, JCB, Diners)
                        that pass the Luhn check
    IpAddress           IPv4 dotted quads (each part 0-255) and IPv6 addresses
    AwsSecretKey        40 base64 characters after a keyword (aws_secret_access_key,
                        SecretAccessKey, secret key...), as AWS's own detector needs one
    OpenSshPrivateKey, PgpPrivateKey, PkcsPrivateKey, PuttyPrivateKey    their armoured blocks
    PhoneNumber-US      (NNN) NNN-NNNN, NNN-NNN-NNNN, NNN.NNN.NNNN, +1 NNN NNN NNNN
    Ssn-US              NNN-NN-NNNN without the numbers never issued (000, 666, 9xx areas;
                        00 group; 0000 serial)
    Address             a US street address: a house number, a street name and a street
                        suffix (Street, St, Avenue, Ave, Road, Rd, Boulevard, Blvd, Lane, Ln,
                        Drive, Dr, Court, Ct, Way, Place, Pl, Terrace, Parkway)
    LatLong             a latitude, longitude pair of decimal degrees
    VehicleIdentificationNumber    17 characters (no I, O, Q) with a valid check digit

Every other managed identifier AWS lists (MANAGED) is accepted in a policy and finds nothing
here. A custom data identifier (a policy's Configuration) is the policy's own regex.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator

ARN_PREFIX = "arn:aws:dataprotection::aws:data-identifier/"

Finder = Callable[[str], Iterator[tuple[int, int]]]


def _regex(pattern: str, flags: int = 0, check: Callable[[str], bool] | None = None, whole: bool = False) -> Finder:
    """Matches of a pattern (its first group, when it has one and not `whole`) that pass check."""
    compiled = re.compile(pattern, flags)
    group = 1 if compiled.groups and not whole else 0

    def find(text: str) -> Iterator[tuple[int, int]]:
        for match in compiled.finditer(text):
            if check is None or check(match.group(group)):
                yield match.start(group), match.end(group)

    return find


def luhn(digits: str) -> bool:
    total = 0
    for place, char in enumerate(reversed(digits)):
        value = int(char)
        if place % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


_CARD_PREFIX = re.compile(r"^(4|5[1-5]|2[2-7]|3[47]|6011|65|64[4-9]|35|30[0-5]|36|38)")


def _card(text: str) -> bool:
    digits = re.sub(r"[ -]", "", text)
    return 13 <= len(digits) <= 19 and bool(_CARD_PREFIX.match(digits)) and luhn(digits)


def _ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _ssn(text: str) -> bool:
    area, group, serial = text.split("-")
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def _vin(text: str) -> bool:
    total = sum(_VIN_VALUES[char] * weight for char, weight in zip(text, _VIN_WEIGHTS, strict=True))
    check = total % 11
    return text[8] == ("X" if check == 10 else str(check))


def _private_key(kind: str) -> Finder:
    return _regex(rf"-----BEGIN {kind}-----[\s\S]+?-----END {kind}-----")


_SUFFIXES = "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy"

DETECTORS: dict[str, Finder] = {
    "EmailAddress": _regex(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
    "CreditCardNumber": _regex(r"(?<![\d-])(\d(?:[ -]?\d){12,18})(?![\d-])", check=_card),
    "IpAddress": lambda text: _merge(
        _regex(r"(?<![\d.])((?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})(?![\d.])")(
            text
        ),
        _regex(r"(?<![0-9A-Fa-f:])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![0-9A-Fa-f:])", check=_ipv6)(text),
    ),
    "AwsSecretKey": _regex(
        r"(?:aws_?secret_?(?:access_?)?key|secret_?access_?key|secret_?key)[\"'\s:=]+([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
        re.IGNORECASE,
    ),
    "OpenSshPrivateKey": _private_key("OPENSSH PRIVATE KEY"),
    "PgpPrivateKey": _private_key("PGP PRIVATE KEY BLOCK"),
    "PkcsPrivateKey": lambda text: _merge(
        _private_key("PRIVATE KEY")(text),
        _private_key("RSA PRIVATE KEY")(text),
        _private_key("EC PRIVATE KEY")(text),
        _private_key("ENCRYPTED PRIVATE KEY")(text),
    ),
    "PuttyPrivateKey": _regex(r"PuTTY-User-Key-File-\d+:[^\n]*\n(?:[^\n]*\n)*?Private-MAC:[^\n]*"),
    "PhoneNumber-US": _regex(
        r"(?<![\w+])((?:\+1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4})(?!\d)",
    ),
    "Ssn-US": _regex(r"(?<![\d-])(\d{3}-\d{2}-\d{4})(?![\d-])", check=_ssn),
    "Address": _regex(rf"\b\d{{1,6}} (?:[A-Z][a-z]+ ){{1,4}}(?:{_SUFFIXES})\b\.?"),
    "LatLong": _regex(
        r"(?<![\d.])(-?(?:[1-8]?\d(?:\.\d{3,})|90(?:\.0{3,})),\s*-?(?:1[0-7]\d|[1-9]?\d)\.\d{3,})(?![\d.])"
    ),
    "VehicleIdentificationNumber": _regex(r"\b([A-HJ-NPR-Z0-9]{17})\b", check=_vin),
}

# AWS's managed data identifiers for SNS (names after ARN_PREFIX): a policy may name any of
# them; DETECTORS says which ones Lamina finds.
MANAGED = frozenset(
    {
        *DETECTORS,
        "Name",
        "DateOfBirth",
        "CreditCardExpiration",
        "CreditCardSecurityCode",
        "BankAccountNumber-DE",
        "BankAccountNumber-ES",
        "BankAccountNumber-FR",
        "BankAccountNumber-GB",
        "BankAccountNumber-IT",
        "BankAccountNumber-US",
        "DriversLicense-US",
        "PassportNumber-US",
        "PassportNumber-GB",
        "PassportNumber-CA",
        "IndividualTaxIdentificationNumber-US",
        "Ssn-ES",
        "NationalInsuranceNumber-GB",
        "SocialInsuranceNumber-CA",
        "HealthInsuranceClaimNumber-US",
        "MedicareBeneficiaryNumber-US",
        "NationalDrugCode-US",
        "NationalProviderId-US",
        "HealthcareProcedureCode-US",
        "PhoneNumber-BR",
        "PhoneNumber-DE",
        "PhoneNumber-ES",
        "PhoneNumber-FR",
        "PhoneNumber-GB",
        "PhoneNumber-IT",
        "ElectoralRollNumber-GB",
        "NhsNumber-GB",
        "TaxId-DE",
        "TaxId-ES",
        "TaxId-FR",
        "TaxId-GB",
        "ZipCode-US",
    }
)


def _merge(*spans: Iterator[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    return iter(sorted(span for found in spans for span in found))


def find(name: str, text: str) -> list[tuple[int, int]]:
    """The (start, end) spans of a managed identifier in text; [] for one Lamina cannot find."""
    detector = DETECTORS.get(name)
    return list(detector(text)) if detector is not None else []


def custom(regex: str) -> Finder:
    """A custom data identifier's finder; raises re.error for a regex that does not compile."""
    return _regex(regex, whole=True)
