"""The suite is offline: a test that reaches past 127.0.0.1 fails."""

import socket

import pytest

from tests.conftest import OutgoingConnectionBlocked, _violations


@pytest.mark.allow_blocked_network
def test_a_connection_to_another_host_is_refused_and_recorded():
    with (
        pytest.raises(OutgoingConnectionBlocked),
        socket.create_connection(("203.0.113.7", 80), timeout=1),
    ):
        pass
    assert any("203.0.113.7" in v for v in _violations)


@pytest.mark.allow_blocked_network
def test_a_dns_lookup_of_a_public_name_is_refused():
    with pytest.raises(OutgoingConnectionBlocked):
        socket.getaddrinfo("eutils.ncbi.nlm.nih.gov", 443)


def test_connections_to_this_machine_are_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    with server, socket.create_connection(server.getsockname(), timeout=1):
        conn, _ = server.accept()
        conn.close()
