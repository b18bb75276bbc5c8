"""The sandbox boundary's data format: faithful for plain values, closed to everything else."""

from __future__ import annotations

import json
import socket
import threading

import numpy as np
import pytest

from autograder.grader import harness, wire
from autograder.grader.judge import Calls, plain_output
from autograder.hidden_checks import CHECKS, CallError, to_plain


def same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
        )
    if isinstance(a, tuple | list):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and (a == b or (a != a and b != b))


def test_every_hidden_call_crosses_the_wire_unchanged():
    for gid, check in CHECKS.items():
        for call in check.calls():
            assert same(wire.decode(wire.encode(tuple(call.args))), tuple(call.args)), gid
            assert same(wire.decode(wire.encode(dict(call.kwargs))), dict(call.kwargs)), gid


@pytest.mark.parametrize(
    "value",
    [1.5, float("nan"), -0.0, 3, True, None, "text", np.float64(2.5), np.bool_(True), np.int32(7),
     np.arange(6, dtype=np.int16).reshape(2, 3), np.array([[True, False]]), np.zeros((0, 4)),
     np.float32(1.25), (1.0, {"a": np.ones(3)}), [1.0, 2.0], np.array(5.0)],
)  # fmt: skip
def test_plain_values_round_trip(value):
    assert same(wire.decode(wire.encode(value)), value)


@pytest.mark.parametrize(
    "value",
    [np.array(["a"]), np.array([1 + 2j]), np.array([object()], dtype=object), {1: 2.0}, object(), set()],
)
def test_values_that_are_not_plain_numbers_are_refused(value):
    with pytest.raises(wire.WireError):
        wire.encode(value)


@pytest.mark.parametrize(
    "tree",
    [
        {"$nd": ["|O", [1], "AAAAAAAAAAA="]},  # object dtype
        {"$nd": ["<c16", [1], "A" * 24]},  # complex
        {"$nd": ["<f8", [2], "AAAAAAAAAAA="]},  # 8 bytes for 2 floats
        {"$nd": ["<f8", [-1], ""]},
        {"$nd": ["<f8", [1], "not base64!"]},
        {"$nd": [[("a", "<f8")], [1], "AAAAAAAAAAA="]},  # structured dtype
        {"$np": ["<f8", "AAAA"]},
        {"$pickle": "gASVAAAAAAAAAAA="},
        {"$t": "no list"},
        {"a": 1, "b": 2},
        {"$err": [1, 2]},
    ],
)
def test_malformed_wire_data_is_rejected(tree):
    with pytest.raises(wire.WireError):
        wire.decode(tree)


def test_deep_nesting_is_rejected():
    tree = 1.0
    for _ in range(20):
        tree = {"$t": [tree]}
    with pytest.raises(wire.WireError):
        wire.decode(tree)


def test_sandbox_and_hidden_checks_share_one_to_plain():
    """What may cross from student code is defined once, in wire, for both sides."""
    assert to_plain is wire.to_plain
    assert same(to_plain((1, [2, 3])), (1.0, (2.0, 3.0)))
    assert same(to_plain({"a": np.arange(3)}), {"a": np.arange(3)})
    for bad in (np.array(["x"]), {1: 2}, "text", None, ((((((1,),),),),),)):
        with pytest.raises(TypeError):
            to_plain(bad)


def test_a_returned_object_that_lies_becomes_an_error_not_a_value():
    class Liar(float):
        def __eq__(self, other):
            return True

    class Weird:
        def __array__(self, *args, **kwargs):
            return np.ones(3)

    namespace = {"f": lambda *a, **k: Liar(2.0), "g": lambda *a, **k: Weird(), "h": lambda *a, **k: 1 / 0}
    calls = Calls.build()
    call = calls.wire_form["l2_cost_fixture"][0]
    liar = plain_output(json.loads(harness.perform({**call, "f": "f"}, namespace)))
    assert type(liar) is float
    assert liar == 2.0
    assert isinstance(plain_output(json.loads(harness.perform({**call, "f": "g"}, namespace))), CallError)
    error = plain_output(json.loads(harness.perform({**call, "f": "h"}, namespace)))
    assert error == CallError("ZeroDivisionError", "division by zero")
    assert plain_output(json.loads(harness.perform({**call, "f": "missing"}, namespace))).kind == "NameError"


def test_messages_are_reassembled_and_a_cut_message_is_dropped():
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with ours, theirs:
        big = {"t": "check", "outputs": [wire.encode(np.arange(30_000.0))]}
        sender = threading.Thread(target=wire.send, args=(theirs, big))
        sender.start()
        receiver = wire.Receiver()
        messages = []
        while len(messages) < 1:
            message = receiver.feed(ours.recv(wire.CHUNK + 64))
            if message:
                messages.append(message)
        sender.join()
        assert same(wire.decode(messages[0]["outputs"][0]), np.arange(30_000.0))
        # a sender killed midway leaves chunks without the last one: never delivered
        partial = wire._HEADER.pack(wire._MAGIC, 4242, False) + b'{"t": "check"'
        assert receiver.feed(partial) is None
        with pytest.raises(wire.WireError):
            receiver.feed(b"junk")
        with pytest.raises(wire.WireError):
            wire.Receiver(max_total=10).feed(wire._HEADER.pack(wire._MAGIC, 1, True) + b"x" * 20)


def test_made_up_senders_cannot_grow_the_receiver():
    """A pid in a header is the sender's claim: the unfinished messages kept are bounded, not the pids."""
    receiver = wire.Receiver(max_senders=16)
    for pid in range(1, 17):
        receiver.feed(wire._HEADER.pack(wire._MAGIC, pid, False) + b"x")
    with pytest.raises(wire.WireError, match="more than 16 processes"):
        receiver.feed(wire._HEADER.pack(wire._MAGIC, 17, False) + b"x")
    assert len(receiver._partial) == 16


def test_a_flood_of_tiny_datagrams_is_cut_off():
    receiver = wire.Receiver(max_datagrams=1000)
    datagram = wire._HEADER.pack(wire._MAGIC, 1, True) + b'{"t": "x"}'
    for _ in range(1000):
        assert receiver.feed(datagram) == {"t": "x"}
    with pytest.raises(wire.WireError, match="more than 1000 datagrams"):
        receiver.feed(datagram)


@pytest.mark.parametrize("shape", [[10**30], [2**32, 2**32, 2**32], [-1], [1.5], [True], "3", [1] * 9])
def test_absurd_shapes_are_refused_without_overflow(shape):
    with pytest.raises(wire.WireError):
        wire.decode({"$nd": ["<f8", shape, ""]})
