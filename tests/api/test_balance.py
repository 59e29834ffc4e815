"""The accept rule that splits connections evenly over workers sharing a socket
(``api/balance.py``), in one process: a real socket, a real event loop, the board in
shared memory; the other worker's slot is written as its worker would."""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import time
from collections.abc import Iterator

import pytest

from api.balance import Acceptor, Board, counted_protocol


def _board() -> Board:
    return Board(multiprocessing.get_context("spawn"), 2)


def test_a_worker_accepts_only_while_it_holds_the_fewest() -> None:
    board = _board()
    assert board.counts() == [-1, -1]
    board.join(0)
    assert board.may_accept(0)  # alone
    board.add(0, 1)
    board.join(1)
    assert board.counts() == [1, 0]
    assert not board.may_accept(0)
    assert board.may_accept(1)
    board.add(1, 1)
    assert board.may_accept(0) and board.may_accept(1)  # even: either
    board.add(1, 1)
    board.leave(1)  # its worker died: its connections with it
    assert board.may_accept(0)


class _Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[attr-defined]


async def _echoed(port: int, payload: bytes) -> tuple[asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    return writer, await asyncio.wait_for(reader.readexactly(len(payload)), 30)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock


def _acceptor(sock: socket.socket, board: Board, grace: float) -> Acceptor:
    closes: list[Acceptor] = []
    protocol = counted_protocol(_Echo, lambda: closes[0].closed())
    acceptor = Acceptor(sock, protocol, board=board, slot=0, tick=0.01, grace=grace)
    closes.append(acceptor)
    return acceptor


def test_connections_wait_for_the_worker_with_fewer_and_count_down_on_close(
    listener: socket.socket,
) -> None:
    board = _board()
    board.join(1)  # another worker, alive, holding no connection (it accepts elsewhere)

    async def scenario() -> None:
        acceptor = _acceptor(listener, board, grace=60.0)
        acceptor.start()
        port = listener.getsockname()[1]
        first, echoed = await _echoed(port, b"one")  # 0 and 0: ours to take
        assert echoed == b"one"
        assert board.counts() == [1, 0]
        # 1 against 0: the next connection is the other worker's; it stays in the queue.
        reader, second = await asyncio.open_connection("127.0.0.1", port)
        second.write(b"two")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.readexactly(3), 0.3)
        assert acceptor.accepted == 1
        first.close()  # ours closes: 0 and 0 again, and we take the waiting one
        assert await asyncio.wait_for(reader.readexactly(3), 30) == b"two"
        assert board.counts() == [1, 0]
        second.close()
        acceptor.stop()
        assert board.counts() == [-1, 0]

    asyncio.run(scenario())


def test_a_worker_that_does_not_accept_holds_nobody_back_longer_than_the_grace(
    listener: socket.socket,
) -> None:
    board = _board()
    board.join(1)  # alive but stuck: it never accepts

    async def scenario() -> None:
        acceptor = _acceptor(listener, board, grace=0.2)
        acceptor.start()
        port = listener.getsockname()[1]
        first, _ = await _echoed(port, b"one")
        started = time.monotonic()
        second, echoed = await _echoed(port, b"two")  # waited the grace, then ours
        assert echoed == b"two"
        assert time.monotonic() - started >= 0.2
        assert acceptor.accepted == 2
        assert board.counts() == [2, 0]
        first.close()
        second.close()
        acceptor.stop()

    asyncio.run(scenario())
