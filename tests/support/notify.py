"""systemd's end of sd_notify(3): an AF_UNIX datagram socket with SO_PASSCRED.

The kernel attaches the sender's credentials to each datagram, so a test can check a message
came from the daemon's main pid, as NotifyAccess=main requires.
"""

from __future__ import annotations

import socket
import struct

UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


def bind_notify_socket(address: str | bytes, timeout: float = 10.0) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    sock.bind(address)
    sock.settimeout(timeout)
    return sock


def receive(sock: socket.socket) -> tuple[str, int]:
    """The next datagram's text and the sender's pid (socket.timeout when none comes)."""
    data, ancillary, _flags, _addr = sock.recvmsg(4096, socket.CMSG_SPACE(UCRED.size))
    pids = [UCRED.unpack(cdata[:UCRED.size])[0] for level, kind, cdata in ancillary
            if (level, kind) == (socket.SOL_SOCKET, socket.SCM_CREDENTIALS)]
    assert len(pids) == 1
    return data.decode(), pids[0]
