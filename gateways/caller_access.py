"""Who may call an inbound webservice: source-address allowlist behind trusted
proxies, and HTTP Basic credentials. No Odoo imports."""

import base64
import binascii
import hmac
import ipaddress


def parse_networks(text):
    """`"200.14.0.0/16, 203.0.113.7"` → networks; a wrong entry raises ValueError."""
    networks = []
    for entry in (text or "").replace(";", ",").split(","):
        entry = entry.strip()
        if entry:
            networks.append(ipaddress.ip_network(entry, strict=False))
    return networks


def _address(text):
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def client_address(remote_addr, forwarded_for, trusted_proxies):
    """The caller's address: the peer, unless the peer is a trusted proxy; then the
    nearest address in X-Forwarded-For that is not itself a trusted proxy."""
    peer = _address(remote_addr)
    proxies = parse_networks(trusted_proxies)

    def trusted(address):
        return address is not None and any(address in network for network in proxies)

    if not trusted(peer) or not forwarded_for:
        return peer
    for hop in reversed([part for part in forwarded_for.split(",") if part.strip()]):
        address = _address(hop)
        if address is None:
            return None  # a forged or broken header: no address is believed
        if not trusted(address):
            return address
    return peer


def address_allowed(address, allowed):
    """Empty allowlist: anyone. Otherwise the address must be in one of the networks."""
    networks = parse_networks(allowed)
    if not networks:
        return True
    return address is not None and any(address in network for network in networks)


def basic_auth_matches(header, user, password):
    """Whether an `Authorization: Basic …` header carries exactly `user`:`password`."""
    if not header or not header.startswith("Basic "):
        return False
    try:
        given = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    given_user, _, given_password = given.partition(":")
    # Both compared in full, in constant time: no early exit tells which was wrong.
    user_ok = hmac.compare_digest(given_user.encode(), (user or "").encode())
    password_ok = hmac.compare_digest(given_password.encode(), (password or "").encode())
    return user_ok and password_ok
