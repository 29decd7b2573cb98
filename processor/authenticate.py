"""Authenticate: DKIM (dkimpy) against the utility's sending domains, under policy require | warn | off.

`pass` needs a valid signature whose `d=` is one of the utility's domains (or a subdomain of one). Every
signature on the message is checked, not only the first: bulk senders add their own, often on top, so a
message passes when any valid one is the utility's. The DNS
lookup is a parameter (`dns_txt(name: bytes, timeout=…) -> bytes | None`), so tests resolve the
simulator's generated key from a dict; None uses dkimpy's own resolver (dnspython).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

import dkim

from processor.errors import DkimFailed
from processor.types import DkimResult

DnsTxtLookup = Callable[..., bytes | None]


def _aligned(domain: str, allowed: Sequence[str]) -> bool:
    domain = domain.lower().rstrip(".")
    return any(domain == d.lower() or domain.endswith("." + d.lower()) for d in allowed)


def _has_signature(raw: bytes) -> bool:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].lower()
    return head.startswith(b"dkim-signature:") or b"\ndkim-signature:" in head


def _signatures(verifier: dkim.DKIM) -> int:
    return sum(1 for name, _ in verifier.headers if name.lower() == b"dkim-signature")


_D_TAG = re.compile(rb"(?:^|;)\s*d\s*=\s*([^;\s]+)")


def signers(verifier: dkim.DKIM) -> tuple[str, ...]:
    """The `d=` of every DKIM-Signature header, lower-cased, in order (readable ones only)."""
    found = []
    for name, value in verifier.headers:
        if name.lower() == b"dkim-signature":
            match = _D_TAG.search(re.sub(rb"\s+", b" ", value))
            if match:
                found.append(match.group(1).decode("ascii", "replace").lower().rstrip("."))
    return tuple(found)


def _verify_one(verifier: dkim.DKIM, index: int, domains: Sequence[str],
                dns_txt: DnsTxtLookup | None) -> DkimResult:
    try:
        valid = verifier.verify(idx=index, dnsfunc=dns_txt) if dns_txt is not None else verifier.verify(idx=index)
    except (dkim.DKIMException, ValueError, IndexError) as exc:
        return DkimResult("fail", reason=f"DKIM signature could not be verified: {exc}"[:300])
    domain = verifier.domain.decode("ascii", "replace") if verifier.domain else None
    if not valid:
        return DkimResult("fail", domain, reason=f"DKIM signature of {domain} does not verify")
    if domain is None or not _aligned(domain, domains):
        return DkimResult("fail", domain, reason=f"signed by {domain}, not by the utility's domains {list(domains)}")
    return DkimResult("pass", domain)


def check_dkim(raw: bytes, *, domains: Sequence[str], dns_txt: DnsTxtLookup | None = None) -> DkimResult:
    """The DKIM verdict for a message; never raises for a bad signature.

    Each signature is verified in turn; the first valid one from an allowed domain passes. Otherwise the
    verdict is the first signature's failure, with every signing domain seen named in the reason.
    """
    if not _has_signature(raw):
        return DkimResult("none", reason="the message has no DKIM signature")
    verifier = dkim.DKIM(raw)
    every = signers(verifier)
    results = []
    for index in range(max(_signatures(verifier), 1)):
        result = _verify_one(verifier, index, domains, dns_txt)
        if result.status == "pass":
            return dataclasses.replace(result, signers=every)
        results.append(result)
    if len(results) == 1:
        return dataclasses.replace(results[0], signers=every)
    seen = ", ".join(sorted({r.domain for r in results if r.domain})) or "none readable"
    first = results[0]
    return DkimResult("fail", first.domain,
                      reason=f"none of {len(results)} DKIM signatures is a valid one of the utility's domains "
                             f"{list(domains)} (signed by: {seen}); first: {first.reason}"[:300], signers=every)


def authenticate(raw: bytes, *, domains: Sequence[str], policy: str,
                 dns_txt: DnsTxtLookup | None = None) -> DkimResult:
    """Apply the policy: `off` skips, `warn` records, `require` raises DkimFailed unless the result is pass."""
    if policy == "off":
        return DkimResult("skipped")
    result = check_dkim(raw, domains=domains, dns_txt=dns_txt)
    if result.status != "pass" and policy == "require":
        error = DkimFailed(result.reason or "DKIM did not pass")
        error.dkim = result  # type: ignore[attr-defined]
        raise error
    return result
