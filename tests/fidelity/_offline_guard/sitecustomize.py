"""Loaded by every Python process of the offline proof (PYTHONPATH points here, so spawned
training processes load it too): pytest-socket refuses every non-Unix socket and every name
lookup, and each attempt is appended to the file named by ACTIVELAB_NET_LOG before it is
refused, so the test can assert that none was even tried."""
import os
import socket
import traceback

from pytest_socket import disable_socket

_LOG = os.environ.get("ACTIVELAB_NET_LOG")


def _record(what: str) -> None:
    if _LOG:
        stack = "".join(traceback.format_stack(limit=12)[:-1])
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"--- pid {os.getpid()}: {what}\n{stack}\n")


if os.environ.get("ACTIVELAB_NET_GUARD_PIDS"):
    with open(os.environ["ACTIVELAB_NET_GUARD_PIDS"], "a", encoding="utf-8") as _fh:
        _fh.write(f"{os.getpid()}\n")

disable_socket(allow_unix_socket=True)
_guarded_socket = socket.socket
_guarded_getaddrinfo = socket.getaddrinfo
_guarded_gethostbyname = socket.gethostbyname


class _RecordingSocket(_guarded_socket):
    def __new__(cls, family=-1, type=-1, proto=-1, fileno=None):
        if family != getattr(socket, "AF_UNIX", None):
            _record(f"socket(family={family}, type={type})")
        return _guarded_socket.__new__(cls, family, type, proto, fileno)


def _getaddrinfo(*args, **kwargs):
    _record(f"getaddrinfo{args!r}")
    return _guarded_getaddrinfo(*args, **kwargs)


def _gethostbyname(*args, **kwargs):
    _record(f"gethostbyname{args!r}")
    return _guarded_gethostbyname(*args, **kwargs)


socket.socket = _RecordingSocket
socket.getaddrinfo = _getaddrinfo
socket.gethostbyname = _gethostbyname
