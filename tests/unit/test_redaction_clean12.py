"""Layer 5's mechanisms added while tuning on the round 12 clean-text corpus (tuning12c): per technique, own
look-alikes that must stay unchanged and the real values next to them that must still be redacted."""

import pytest

from level5.safety.redaction import Redactor

REDACTOR = Redactor(b"test-clean12")


def _redacted(text: str) -> str:
    return REDACTOR.redact(text).text


@pytest.mark.parametrize(
    "text",
    [
        # A server's address beside its host name, and the same address elsewhere in the output.
        "*   Trying 198.41.0.4:53...\n* Connected to a.root-servers.net (198.41.0.4) port 53",
        "PING debian.org (130.89.148.77) 56(84) bytes of data.\nReply from 130.89.148.77: time=9ms",
        "www.python.org has address 151.101.128.223",
        "python.org.\t\t600\tIN\tA\t151.101.192.223",
        "Name:\tpython.org\nAddress: 151.101.64.223",
        "* Host docs.rs:443 was resolved.\n* IPv6: (none)\n* IPv4: 18.239.69.43, 18.239.69.97\n",
        # A router on a traceroute's hop line, not the last.
        " 1  gw.isp.example (62.40.98.1)  1.204 ms  1.110 ms\n 2  core.example.org (203.0.113.9)  5.1 ms",
        # Networks written with their prefix length.
        'allowed_ips = ["52.16.0.0/14", "10.40.0.0/16"]',
        # Addresses under a key or a column that names a machine's role.
        "Ingress Gateway:  18.185.12.40",
        'egress_nat_ips = [\n  "3.120.14.9",\n  "3.120.14.10",\n]',
        "NAME     TYPE           EXTERNAL-IP    PORT(S)\nweb      LoadBalancer   20.54.117.8    443/TCP",
        "Node:         pool-b-7/10.2.0.14",
        # Random-looking tokens the output writes as identifiers.
        "correlation_id=9c1d5e7a2b4f48e6a0d3c8b1e5f70a92 status=ok",
        "ssh-keygen -lf key.pub\n256 SHA256:pV3qT8mZr2kX9wLb4nYc7dF1gH6jK0sA5eU2iO8yR3t host (ED25519)",
        "endpoint: https://9F8E7D6C5B4A39281706F5E4D3C2B1A0.yl4.us-east-2.eks.amazonaws.com",
        "git fetch origin +3c9d2e1f0a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d:refs/remotes/origin/release",
        "deployment.apps/Checkout-7f9c6b5d4e rolled out",
        # Digit groups that are not phone numbers by their notation or place.
        " 4  ae1.core.example.net (80.249.208.1)  11.402 ms",
        "FR\t+4852+00220\tEurope/Paris",
        "Copyright (c) 2011-2025 Example Authors",
        # Running names glued to a tz id or a path; firms and regions; a brand; a header row.
        "AU\t-3455+13835\tAustralia/Adelaide\tSouth Australia",
        "Distributor: Paramount Pictures; market: Asia Pacific",
        "CPU: Intel(R) Core(TM) i7-1185G7",
        "Name          Summary       Homepage\nrich          Terminal      https://github.com/Textualize/rich",
        # Quantities with a thousands separator; a street word in a table's other cell.
        "Downloaded 7,512 kB in 3s (2,504 kB/s)",
        "12d ago      view-refresh.timer",
        # Role and list mailboxes.
        "Reply-To: postmaster@example.org\nList-Post: <mailto:dev@lists.example.org>",
    ],
)
def test_look_alike_stays(text: str) -> None:
    assert _redacted(text) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        # A client's address on the same output as a named server stays personal.
        (
            "84.157.203.46",
            "Connected to api.example.com (93.184.215.14)\nclient 84.157.203.46 sent 12 requests",
        ),
        # A reverse-DNS name that spells the address is a home connection's.
        ("84.157.203.46", "connection from p54-157-203-46.dip0.t-ipconnect.de (84.157.203.46)"),
        ("84.157.203.46", "PING 84-157-203-46.dyn.example.net (84.157.203.46) 56(84) bytes"),
        # The last hop of a traceroute is its destination.
        (
            "198.51.100.77",
            " 1  gw.isp.example (62.40.98.1)  1.2 ms\n 2  198.51.100.77 (198.51.100.77)  9.1 ms",
        ),
        # Each route's: a second traceroute later in the output, or a numbered line far below, leaves the
        # first route's destination its own.
        (
            "198.51.100.77",
            " 1  gw.isp.example (62.40.98.1)  1.2 ms\n 2  198.51.100.77 (198.51.100.77)  9.1 ms\n"
            "done\n 1  gw.isp.example (62.40.98.1)  1.3 ms\n 2  192.0.2.200 (192.0.2.200)  8.7 ms",
        ),
        (
            "198.51.100.77",
            " 1  gw.isp.example (62.40.98.1)  1.2 ms\n 2  198.51.100.77 (198.51.100.77)  9.1 ms\n\n"
            "Steps:\n 3  retry the upload",
        ),
        # A private address outside a listing, and a host address written with a prefix (not a network).
        ("10.20.30.41", "Accepted password for ops from 10.20.30.41 port 50022 ssh2"),
        ("203.0.113.7", "peer 203.0.113.7/24 up"),
        # A key naming a person's side is no machine's role.
        ("81.2.69.160", "client_ip: 81.2.69.160"),
        # A session id and a secret id grant access.
        ("Zq8vN3kL1xW7mR4tY9bC2dF6", "session_id=Zq8vN3kL1xW7mR4tY9bC2dF6"),
        ("Vt5Kp2Qz8Lm3Xr7Nw1Cy4Bh9", "secret_id: Vt5Kp2Qz8Lm3Xr7Nw1Cy4Bh9"),
        # A random token mixes cases inside its pieces.
        ("aB3dE5fG7hJ9-kL2mN4pQ6rS8", "token aB3dE5fG7hJ9-kL2mN4pQ6rS8"),
        # A phone number written in dotted groups holds no valid address; a range of years is no notice's.
        ("044.668.18.00", "Tel. 044.668.18.00"),
        ("+44 20 7946 0958", "Office   +44 20 7946 0958   London"),
        # A person is named near a firm's and a region's words.
        ("Olivia Hartmann", "Account manager: Olivia Hartmann (Asia Pacific)"),
        # A personal mailbox at a domain with a lists host.
        ("maria.lopez@example.org", "From: maria.lopez@example.org\nList-Id: <dev.lists.example.org>"),
    ],
)
def test_real_value_nearby_is_still_redacted(value: str, text: str) -> None:
    assert value not in _redacted(text)
