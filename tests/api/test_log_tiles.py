"""The log as C2SP tlog-tiles, read without a token by a client written here from the spec.

The client below knows only c2sp.org/tlog-tiles and RFC 6962: it fetches the checkpoint,
the tiles that checkpoint's size implies, computes an inclusion proof from tiles alone, and
the test compares it with the vault's own proof (``/v1/log/proof/inclusion``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import struct
from collections.abc import Callable

from sqlalchemy.orm import Session

from tests.api.conftest import Api
from vault.log.append import append_event
from vault.log.keys import load_log_key

N_ENTRIES = 600  # two full level-0 tiles and a partial one; a partial level-1 tile of 2


def _append(session: Session, n: int) -> None:
    for i in range(n):
        append_event(session=session, event_type="license.read", payload={"n": i})


# --- a tiles client, from the text of the spec ------------------------------------------------


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class TilesClient:
    """Fetches tiles under ``/log`` for a tree of ``size`` and answers MTH and PATH."""

    def __init__(self, get: Callable[[str], bytes], size: int) -> None:
        self.get, self.size = get, size
        self.fetched: list[str] = []

    @staticmethod
    def index_path(n: int) -> str:
        # "zero-padded 3-digit path elements. All but the last path element MUST begin with x"
        digits = str(n).zfill(3)
        digits = digits.zfill(-(-len(digits) // 3) * 3)
        parts = [digits[i : i + 3] for i in range(0, len(digits), 3)]
        return "/".join(["x" + p for p in parts[:-1]] + [parts[-1]])

    @functools.cache  # noqa: B019 - one client per test
    def tile(self, level: int, n: int) -> list[bytes]:
        full = (n + 1) * 256 ** (level + 1) <= self.size
        width = 256 if full else (self.size // 256**level) % 256
        path = f"/log/tile/{level}/{self.index_path(n)}" + ("" if full else f".p/{width}")
        self.fetched.append(path)
        data = self.get(path)
        assert len(data) == 32 * width
        return [data[i : i + 32] for i in range(0, len(data), 32)]

    def perfect(self, height: int, k: int) -> bytes:
        """Hash of leaves [k * 2**height, (k + 1) * 2**height), from one tile."""
        level, below = divmod(height, 8)
        first = k << below  # the tile-level hashes this node covers
        row = self.tile(level, first // 256)[first % 256 : first % 256 + (1 << below)]
        while len(row) > 1:
            row = [_node(row[i], row[i + 1]) for i in range(0, len(row), 2)]
        return row[0]

    def mth(self, start: int, end: int) -> bytes:
        """RFC 6962 2.1 MTH(D[start:end])."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return self.perfect(n.bit_length() - 1, start // n)
        k = 1 << ((n - 1).bit_length() - 1)
        return _node(self.mth(start, start + k), self.mth(start + k, end))

    def path(self, m: int, start: int, end: int) -> list[bytes]:
        """RFC 6962 2.1.1 PATH(m, D[start:end])."""
        n = end - start
        if n == 1:
            return []
        k = 1 << ((n - 1).bit_length() - 1)
        if m < k:
            return [*self.path(m, start, start + k), self.mth(start + k, end)]
        return [*self.path(m - k, start + k, end), self.mth(start, start + k)]


# --- the tests --------------------------------------------------------------------------------


def _ok(api: Api, path: str, headers: dict[str, str] | None = None) -> bytes:
    answer = api.client.get(path, headers=headers or {})
    assert answer.status_code == 200, (path, answer.text)
    return answer.content


def test_inclusion_proofs_from_tiles_alone_match_the_vaults(api_sqlite: Api) -> None:
    api = api_sqlite
    with api.ctx.sessions() as session:
        _append(session, N_ENTRIES)
        session.commit()
    note = api.client.get("/log/checkpoint")  # no token
    assert note.status_code == 200 and note.headers["cache-control"] == "no-cache"
    assert note.headers["content-type"] == "text/plain; charset=utf-8"
    verifier = load_log_key(api.ctx.settings).verifier()
    cp = verifier.verify(note.text, origin="testserver/log").checkpoint
    assert cp.size == N_ENTRIES
    client = TilesClient(lambda p: _ok(api, p), cp.size)
    assert client.mth(0, cp.size) == cp.root_hash
    for index in (0, 255, 256, 300, 599):
        mine = client.path(index, 0, cp.size)
        theirs = api.client.get(
            f"/v1/log/proof/inclusion?index={index}&size={cp.size}", headers=api.dept("audit")
        ).json()
        assert [base64.b64encode(h).decode() for h in mine] == theirs["hashes"], index
    assert sorted(set(client.fetched)) == [
        "/log/tile/0/000",
        "/log/tile/0/001",
        "/log/tile/0/002.p/88",
        "/log/tile/1/000.p/2",
    ]


def test_tiles_are_immutable_and_bundles_are_for_auditors(api_sqlite: Api) -> None:
    api = api_sqlite
    with api.ctx.sessions() as session:
        _append(session, 300)
        session.commit()
    assert api.client.get("/log/checkpoint").status_code == 200
    full = api.client.get("/log/tile/0/000")
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert full.headers["content-type"] == "application/octet-stream"
    assert api.client.get("/log/tile/entries/000").status_code == 401
    bundle = _ok(api, "/log/tile/entries/000", api.dept("audit"))
    entries, at = [], 0
    while at < len(bundle):
        (length,) = struct.unpack(">H", bundle[at : at + 2])
        entries.append(bundle[at + 2 : at + 2 + length])
        at += 2 + length
    assert [hashlib.sha256(b"\x00" + e).digest() for e in entries] == [
        full.content[i : i + 32] for i in range(0, 8192, 32)
    ]
    partial = _ok(api, "/log/tile/entries/001.p/44", api.dept("audit"))
    assert partial.count(b'"type":"license.read"') == 44
    older = api.client.get("/log/tile/0/001.p/43")  # a smaller tree's partial tile
    assert older.content == _ok(api, "/log/tile/0/001.p/44")[: 43 * 32]
    for missing in ("/log/tile/0/001", "/log/tile/0/001.p/45", "/log/tile/1/000", "/log/tile/0/1"):
        answer = api.client.get(missing)
        assert answer.status_code == 404, missing
        assert answer.headers["content-type"] == "application/problem+json"
    assert "x001/x234/067 form" in api.client.get("/log/tile/0/1").json()["detail"]


def _parse_tlog_proof(text: str) -> tuple[bytes, int, list[bytes], str]:
    """c2sp.org/tlog-proof, read from the spec: (extra, index, proof hashes, checkpoint)."""
    head, _, checkpoint = text.partition("\n\n")
    lines = head.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert lines[1].startswith("extra ") and lines[2].startswith("index ")
    extra = base64.b64decode(lines[1][6:], validate=True)
    return extra, int(lines[2][6:]), [base64.b64decode(h) for h in lines[3:]], checkpoint


def test_a_copys_tlog_proof_matches_the_tiles(api_sqlite: Api) -> None:
    from signing.copies.log_proof import check_copy_log_proof, read_embedded_tlog_proof

    api = api_sqlite
    license_id = api.push(1).json()["license"]["id"]
    use = {"purpose": "住房保障资格审核", "case_no": "ZJ-2026-000124"}
    made = api.client.post(
        f"/v1/licenses/{license_id}/copies", headers=api.dept("housing"), json=use
    )
    copy_id = made.json()["id"]
    pdf = api.client.get(f"/v1/copies/{copy_id}/pdf", headers=api.dept("housing")).content
    raw = read_embedded_tlog_proof(pdf)
    assert raw is not None
    leaf, index, hashes, note = _parse_tlog_proof(raw.decode("utf-8"))
    assert f'"copy":"{copy_id}"'.encode() in leaf
    verifier = load_log_key(api.ctx.settings).verifier()
    cp = verifier.verify(note).checkpoint
    with api.ctx.sessions() as session:  # the log grows on; the copy's checkpoint stays older
        _append(session, 40)
        session.commit()
    assert api.client.get("/log/checkpoint").status_code == 200
    client = TilesClient(lambda p: _ok(api, p), cp.size)  # no token
    assert client.mth(0, cp.size) == cp.root_hash
    assert client.path(index, 0, cp.size) == hashes
    assert client.tile(0, 0)[index] == hashlib.sha256(b"\x00" + leaf).digest()
    check = check_copy_log_proof(pdf, verifier)
    assert check.verified and check.reason.endswith("(JSON and C2SP tlog-proof)"), check.reason
