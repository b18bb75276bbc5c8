"""What crosses the sandbox boundary: plain values as JSON, in framed datagrams.

Both sides import this module; it needs only the standard library and NumPy.
Nothing here ever unpickles or evaluates: a value is JSON whose only
non-JSON leaves are tagged objects,

- ``{"$nd": [dtype, shape, base64]}`` a numeric or boolean array (raw bytes),
- ``{"$np": [dtype, base64]}`` a NumPy scalar,
- ``{"$t": [...]}`` a tuple, ``{"$d": {...}}`` a dict (string keys only),
- ``{"$err": [kind, message]}`` what a call raised instead of returning,

and ``decode`` checks every tag, dtype, shape and byte count before it builds
an array. Messages travel over an ``AF_UNIX`` ``SOCK_SEQPACKET`` socket in
chunks of at most ``CHUNK`` bytes; each datagram carries its sender's pid, so
a message cut short by a killed sender is dropped whole, never half-read.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct

import numpy as np

from .bounds import (
    MAX_ARRAY_DIMS,
    MAX_ARRAY_ITEMS,
    MAX_DATAGRAMS,
    MAX_MESSAGE_BYTES,
    MAX_SENDERS,
    MAX_WIRE_BYTES,
)

CHUNK = 60_000
_HEADER = struct.Struct("!4sIB")  # magic, sender pid, last-chunk flag
_MAGIC = b"RGW1"
#: dtype kinds an array may have on the wire: bool, signed, unsigned, float.
KINDS = "biuf"


class WireError(ValueError):
    """Data from the other side is malformed or exceeds a limit."""


class Fault:
    """What a call raised instead of returning (the wire form of ``CallError``)."""

    __slots__ = ("kind", "message")

    def __init__(self, kind: str, message: str):
        self.kind, self.message = str(kind)[:100], str(message)[:300]

    def __eq__(self, other):
        return isinstance(other, Fault) and (self.kind, self.message) == (other.kind, other.message)

    def __repr__(self):
        return f"Fault({self.kind!r}, {self.message!r})"


# ------------------------------------------------------------------- values


def to_plain(value, depth: int = 0):
    """Copy a returned value into plain data: float, bool/number arrays, tuples, str-keyed dicts.

    Anything else (a custom object that could lie about equality, a lambda,
    a generator) is refused, so a verdict never runs code the submission made.
    """
    if depth > 3:
        raise TypeError("the returned value is nested too deeply")
    if isinstance(value, bool | int | float | np.number | np.bool_):
        return float(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"an array of dtype {value.dtype} was returned; expected numbers")
        return np.array(value, copy=True)
    if isinstance(value, tuple | list):
        return tuple(to_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("a dictionary with non-string keys was returned")
        return {k: to_plain(v, depth + 1) for k, v in value.items()}
    raise TypeError(f"a {type(value).__name__} was returned; expected numbers or arrays")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encode(value, depth: int = 0):
    """A JSON-ready tree for ``value`` (numbers, strings, arrays, tuples, lists, str-keyed dicts)."""
    if depth > 8:
        raise WireError("value nested too deeply")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.generic):  # before float: np.float64 is a float too
        if value.dtype.kind not in KINDS:
            raise WireError(f"NumPy scalar of dtype {value.dtype} cannot cross the wire")
        return {"$np": [value.dtype.str, _b64(value.tobytes())]}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in KINDS or value.dtype.fields is not None:
            raise WireError(f"array of dtype {value.dtype} cannot cross the wire")
        array = value if value.flags.c_contiguous else value.copy(order="C")
        return {"$nd": [array.dtype.str, list(array.shape), _b64(array.tobytes())]}
    if isinstance(value, tuple):
        return {"$t": [encode(v, depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise WireError("dict keys must be strings")
        return {"$d": {k: encode(v, depth + 1) for k, v in value.items()}}
    if isinstance(value, Fault):
        return {"$err": [value.kind, value.message]}
    raise WireError(f"a {type(value).__name__} cannot cross the wire")


def _dtype(text) -> np.dtype:
    if not isinstance(text, str) or len(text) > 8:
        raise WireError("bad dtype")
    try:
        dtype = np.dtype(text)
    except TypeError as exc:
        raise WireError(f"bad dtype {text!r}") from exc
    if dtype.kind not in KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"dtype {text!r} is not allowed")
    return dtype


def _bytes(text) -> bytes:
    if not isinstance(text, str):
        raise WireError("array data must be base64 text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise WireError("bad base64 data") from exc


def _count(shape) -> int:
    """Elements of an array of ``shape``; WireError for a shape no real array has."""
    if not isinstance(shape, list) or len(shape) > MAX_ARRAY_DIMS:
        raise WireError("bad array shape")
    count = 1
    for n in shape:
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_ARRAY_ITEMS:
            raise WireError("bad array shape")
        count *= n  # exact (Python ints): an absurd shape cannot overflow into a small count
    return count


def decode(tree, depth: int = 0, max_items: int = MAX_ARRAY_ITEMS):
    """The value ``encode`` made ``tree`` from; WireError for anything unexpected."""
    if depth > 10:
        raise WireError("value nested too deeply")
    if tree is None or isinstance(tree, bool | str | float):
        return tree
    if isinstance(tree, int):
        return tree
    if isinstance(tree, list):
        return [decode(v, depth + 1, max_items) for v in tree]
    if not isinstance(tree, dict) or len(tree) != 1:
        raise WireError("unexpected object on the wire")
    ((tag, body),) = tree.items()
    if tag == "$nd":
        if not (isinstance(body, list) and len(body) == 3):
            raise WireError("bad array")
        dtype, shape = _dtype(body[0]), body[1]
        count = _count(shape)
        data = _bytes(body[2])
        if count > max_items or count * dtype.itemsize != len(data):
            raise WireError("array data does not match its shape")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if tag == "$np":
        if not (isinstance(body, list) and len(body) == 2):
            raise WireError("bad scalar")
        dtype, data = _dtype(body[0]), _bytes(body[1])
        if len(data) != dtype.itemsize:
            raise WireError("bad scalar size")
        return np.frombuffer(data, dtype=dtype)[0]
    if tag == "$t":
        if not isinstance(body, list):
            raise WireError("bad tuple")
        return tuple(decode(v, depth + 1, max_items) for v in body)
    if tag == "$d":
        if not isinstance(body, dict):
            raise WireError("bad dict")
        return {str(k): decode(v, depth + 1, max_items) for k, v in body.items()}
    if tag == "$err":
        if not (isinstance(body, list) and len(body) == 2 and all(isinstance(s, str) for s in body)):
            raise WireError("bad error record")
        return Fault(body[0], body[1])
    raise WireError(f"unknown tag {tag!r}")


# ----------------------------------------------------------------- messages


def dumps(message) -> bytes:
    """A message (a dict of JSON-ready values), or any JSON-ready value, as compact bytes."""
    return json.dumps(message, separators=(",", ":")).encode("utf-8")


def send(sock: socket.socket, message: dict | bytes) -> None:
    """Send one message as a sequence of datagrams tagged with this process's pid."""
    data = message if isinstance(message, bytes) else dumps(message)
    pid = os.getpid()
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
    for number, chunk in enumerate(chunks, 1):
        sock.sendall(_HEADER.pack(_MAGIC, pid, number == len(chunks)) + chunk)


class Receiver:
    """Reassembles datagrams into messages, within bounds on everything it keeps.

    The bytes and datagrams of the whole conversation, the size of one message
    and the number of senders with an unfinished message are all capped (see
    ``bounds``): the pid in a header is chosen by the sender, so it must not
    decide how much the grader keeps.
    """

    def __init__(
        self,
        max_message: int = MAX_MESSAGE_BYTES,
        max_total: int = MAX_WIRE_BYTES,
        max_datagrams: int = MAX_DATAGRAMS,
        max_senders: int = MAX_SENDERS,
    ):
        self.max_message, self.max_total = max_message, max_total
        self.max_datagrams, self.max_senders = max_datagrams, max_senders
        self.received = self.datagrams = 0
        self._partial: dict[int, list[bytes]] = {}
        self._sizes: dict[int, int] = {}

    def feed(self, datagram: bytes) -> dict | None:
        """Take one datagram; return the message it completes, if any (WireError if malformed)."""
        self.received += len(datagram)
        self.datagrams += 1
        if self.received > self.max_total:
            raise WireError("the sandbox sent more data than allowed")
        if self.datagrams > self.max_datagrams:
            raise WireError(f"the sandbox sent more than {self.max_datagrams} datagrams")
        if len(datagram) < _HEADER.size:
            raise WireError("short datagram")
        magic, pid, last = _HEADER.unpack_from(datagram)
        if magic != _MAGIC:
            raise WireError("bad datagram header")
        body = datagram[_HEADER.size :]
        if pid not in self._partial and len(self._partial) >= self.max_senders:
            raise WireError(f"more than {self.max_senders} processes sent unfinished messages")
        self._partial.setdefault(pid, []).append(body)
        self._sizes[pid] = self._sizes.get(pid, 0) + len(body)
        if self._sizes[pid] > self.max_message:
            raise WireError("a message exceeds the size limit")
        if not last:
            return None
        data = b"".join(self._partial.pop(pid))
        del self._sizes[pid]
        try:
            message = json.loads(data.decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise WireError("a message is not valid JSON") from exc
        if not isinstance(message, dict) or not isinstance(message.get("t"), str):
            raise WireError("a message lacks its type")
        return message
