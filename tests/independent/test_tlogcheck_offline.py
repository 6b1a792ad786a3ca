#!/usr/bin/env python3
"""Offline tests for tlogcheck.py: published vectors (RFC 8032, RFC 6962 /
9162, Go's sumdb/note), mangling tests, the project's golden files in
fixtures/vectors/tlog/ (the cross-implementation check), and the CLI end
to end against a small fake log served from this process.

Run:  python3 tests/independent/test_tlogcheck_offline.py
  or  python3 -m unittest discover -s tests/independent -p 'test_*.py'
Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import os
import sys
import threading
import unittest
import urllib.parse
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # leave no __pycache__ in the tree

import tlogcheck as t  # noqa: E402

REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
VECTORS = os.path.join(REPO, "fixtures", "vectors", "tlog")


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def flips(data: bytes):
    """Every single-bit flip of `data`."""
    for i in range(len(data)):
        for bit in range(8):
            m = bytearray(data)
            m[i] ^= 1 << bit
            yield bytes(m)


# --- A test-only Ed25519 signer (to build fixtures; the verifier under test
# --- never signs).  RFC 8032 section 5.1.6.


def _encode(pt) -> bytes:
    x, y, z, _ = pt
    zi = t._inv(z)
    x, y = x * zi % t._P, y * zi % t._P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def ed_public(seed: bytes) -> bytes:
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return _encode(t._mul(a, t._B))


def ed_sign(seed: bytes, msg: bytes) -> bytes:
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    pub = _encode(t._mul(a, t._B))
    r = int.from_bytes(hashlib.sha512(h[32:] + msg).digest(), "little") % t._L
    rb = _encode(t._mul(r, t._B))
    k = int.from_bytes(hashlib.sha512(rb + pub + msg).digest(), "little") % t._L
    s = (r + k * a) % t._L
    return rb + s.to_bytes(32, "little")


def vkey(name: str, typ: int, pub: bytes) -> str:
    return f"{name}+{t.key_id(name, typ, pub).hex()}+{b64(bytes([typ]) + pub)}"


# --- A naive RFC 9162 proof generator, straight from sections 2.1.3.1 and
# --- 2.1.4.1, over leaf hashes.


def naive_path(m: int, hashes: list[bytes]) -> list[bytes]:
    n = len(hashes)
    if n == 1:
        return []
    k = t._split(n)
    if m < k:
        return naive_path(m, hashes[:k]) + [t.mth(hashes[k:])]
    return naive_path(m - k, hashes[k:]) + [t.mth(hashes[:k])]


def naive_subproof(m: int, hashes: list[bytes], b: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if b else [t.mth(hashes)]
    k = t._split(n)
    if m <= k:
        return naive_subproof(m, hashes[:k], b) + [t.mth(hashes[k:])]
    return naive_subproof(m - k, hashes[k:], False) + [t.mth(hashes[:k])]


def naive_consistency(m: int, hashes: list[bytes]) -> list[bytes]:
    if m == 0 or m == len(hashes):
        return []
    return naive_subproof(m, hashes, True)


CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]


class Ed25519Vectors(unittest.TestCase):
    # RFC 8032 section 7.1, TEST 1 to TEST 3: (secret, public, message, sig).
    VECTORS = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
            "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
            "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
    ]

    def test_rfc8032_vectors_verify(self):
        for sk, pk, msg, sig in self.VECTORS:
            pk, msg, sig = bytes.fromhex(pk), bytes.fromhex(msg), bytes.fromhex(sig)
            self.assertTrue(t.ed25519_verify(pk, msg, sig), pk.hex())
            # The test-only signer reproduces the vector too, so the fixtures
            # built with it below are ordinary Ed25519.
            self.assertEqual(ed_public(bytes.fromhex(sk)), pk)
            self.assertEqual(ed_sign(bytes.fromhex(sk), msg), sig)

    def test_rfc8032_vectors_reject_mangling(self):
        for _, pk, msg, sig in self.VECTORS:
            pk, msg, sig = bytes.fromhex(pk), bytes.fromhex(msg), bytes.fromhex(sig)
            for bad in flips(sig):
                self.assertFalse(t.ed25519_verify(pk, msg, bad))
            for bad in list(flips(pk))[::7]:
                self.assertFalse(t.ed25519_verify(bad, msg, sig))
            for bad in flips(msg):
                self.assertFalse(t.ed25519_verify(pk, bad, sig))
            self.assertFalse(t.ed25519_verify(pk, msg + b"x", sig))
            self.assertFalse(t.ed25519_verify(pk, msg, sig[:63]))
            # S + L is the same group element but must be refused (S < L).
            s = int.from_bytes(sig[32:], "little") + t._L
            self.assertFalse(t.ed25519_verify(pk, msg, sig[:32] + s.to_bytes(32, "little")))

    def test_non_canonical_point_refused(self):
        _, pk, msg, sig = self.VECTORS[0]
        y_too_big = (t._P + 1).to_bytes(32, "little")  # y = p+1 is not < p
        self.assertIsNone(t._decode_point(y_too_big))
        self.assertFalse(t.ed25519_verify(y_too_big, bytes.fromhex(msg), bytes.fromhex(sig)))


class MerkleVectors(unittest.TestCase):
    def setUp(self):
        self.hashes = [t.leaf_hash(d) for d in CT_LEAVES]

    def test_known_roots(self):
        self.assertEqual(
            t.mth(self.hashes[:7]).hex(),
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        )
        self.assertEqual(
            t.mth(self.hashes).hex(),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        )
        self.assertEqual(
            t.mth([]).hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        )
        # RFC 6962 reference leaf hash of the empty leaf.
        self.assertEqual(
            self.hashes[0].hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        )

    def test_project_tree_json(self):
        """fixtures/vectors/tlog/tree.json, produced by the Rust code, agrees."""
        with open(os.path.join(VECTORS, "tree.json"), encoding="utf-8") as f:
            tree = json.load(f)
        leaves = [t.leaf_hash(bytes.fromhex(x)) for x in tree["leaves"]]
        self.assertEqual(leaves, self.hashes)
        for r in tree["roots"]:
            self.assertEqual(b64(t.mth(leaves[: r["tree_size"]])), r["root"])
        for p in tree["inclusion_proofs"]:
            i, n = p["index"], p["tree_size"]
            proof = [base64.b64decode(x) for x in p["proof"]]
            self.assertEqual(proof, naive_path(i, leaves[:n]))
            self.assertTrue(t.verify_inclusion(i, n, leaves[i], proof, t.mth(leaves[:n])))
        for p in tree["consistency_proofs"]:
            m, n = p["old_size"], p["new_size"]
            proof = [base64.b64decode(x) for x in p["proof"]]
            self.assertEqual(proof, naive_consistency(m, leaves[:n]))
            self.assertTrue(
                t.verify_consistency(m, n, t.mth(leaves[:m]), t.mth(leaves[:n]), proof)
            )


class ProofVerifiers(unittest.TestCase):
    MAX = 13

    def setUp(self):
        self.hashes = [t.leaf_hash(b"leaf %d" % i) for i in range(self.MAX)]

    def test_inclusion_accepts_and_rejects_every_bit_flip(self):
        for n in range(1, self.MAX + 1):
            hs = self.hashes[:n]
            root = t.mth(hs)
            for i in range(n):
                proof = naive_path(i, hs)
                self.assertTrue(t.verify_inclusion(i, n, hs[i], proof, root), (i, n))
                for j, h in enumerate(proof):
                    for bad in flips(h):
                        bp = proof[:j] + [bad] + proof[j + 1 :]
                        self.assertFalse(t.verify_inclusion(i, n, hs[i], bp, root))
                for bad in flips(hs[i]):
                    self.assertFalse(t.verify_inclusion(i, n, bad, proof, root))
                for bad in flips(root):
                    self.assertFalse(t.verify_inclusion(i, n, hs[i], proof, bad))
                # Wrong shape, index or size.
                self.assertFalse(t.verify_inclusion(i, n, hs[i], proof + [root], root))
                if proof:
                    self.assertFalse(t.verify_inclusion(i, n, hs[i], proof[:-1], root))
                self.assertFalse(t.verify_inclusion(n, n, hs[i], proof, root))
                for j in range(n):
                    if j != i and hs[j] != hs[i]:
                        self.assertFalse(t.verify_inclusion(j, n, hs[i], proof, root))

    def test_consistency_accepts_and_rejects_every_bit_flip(self):
        for n in range(1, self.MAX + 1):
            hs = self.hashes[:n]
            r2 = t.mth(hs)
            for m in range(1, n + 1):
                r1 = t.mth(hs[:m])
                proof = naive_consistency(m, hs)
                self.assertTrue(t.verify_consistency(m, n, r1, r2, proof), (m, n))
                for j, h in enumerate(proof):
                    for bad in flips(h):
                        bp = proof[:j] + [bad] + proof[j + 1 :]
                        self.assertFalse(t.verify_consistency(m, n, r1, r2, bp), (m, n, j))
                for bad in flips(r1):
                    self.assertFalse(t.verify_consistency(m, n, bad, r2, proof))
                for bad in flips(r2):
                    self.assertFalse(t.verify_consistency(m, n, r1, bad, proof))
                self.assertFalse(t.verify_consistency(m, n, r1, r2, proof + [r1]))
                if proof:
                    self.assertFalse(t.verify_consistency(m, n, r1, r2, proof[:-1]))
                if m < n:
                    self.assertFalse(t.verify_consistency(m + 1, n, r1, r2, proof))
                    self.assertFalse(t.verify_consistency(m, n, r1, r2, []))


NEUMANN_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
NEUMANN_NOTE = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
).encode()


class SignedNotes(unittest.TestCase):
    def test_go_sumdb_note_vector(self):
        name, kid, pub = t.parse_vkey(NEUMANN_VKEY, 0x01)
        self.assertEqual((name, kid.hex()), ("PeterNeumann", "c74f20a3"))
        text, sigs = t.parse_signed_note(NEUMANN_NOTE)
        self.assertEqual(
            text,
            b"If you think cryptography is the answer to your problem,\n"
            b"then you don't know what your problem is.\n",
        )
        self.assertTrue(t.verify_note_signature(text, sigs, name, kid, pub))

    def test_go_note_mangled_text_rejected(self):
        name, kid, pub = t.parse_vkey(NEUMANN_VKEY, 0x01)
        text, sigs = t.parse_signed_note(NEUMANN_NOTE)
        for bad in list(flips(text))[::5]:
            with self.assertRaises(t.CheckError):
                t.verify_note_signature(bad, sigs, name, kid, pub)
        n, k, s = sigs[0]
        for bad in flips(s):
            with self.assertRaises(t.CheckError):
                t.verify_note_signature(text, [(n, k, bad)], name, kid, pub)
        # A signature under another key id is ignored, not trusted.
        self.assertFalse(t.verify_note_signature(text, [(n, b"\0\0\0\0", s)], name, kid, pub))

    def test_note_syntax(self):
        for bad in [
            b"no blank line\n\xe2\x80\x94 a AAAAAAA=\n",
            b"text\n\n- PeterNeumann x08go/ZJ=\n",  # hyphen, not em dash
            b"text\n\n",  # no signatures
            b"text\n\n\xe2\x80\x94 name  two\n",
            b"te\x01xt\n\n\xe2\x80\x94 a AAAAAAAA\n",
            NEUMANN_NOTE[:-1],  # no final newline
        ]:
            with self.assertRaises(t.CheckError, msg=bad):
                t.parse_signed_note(bad)

    def test_vkey_checks(self):
        with self.assertRaises(t.CheckError):
            t.parse_vkey(NEUMANN_VKEY, 0x04)  # wrong type
        with self.assertRaises(t.CheckError):
            t.parse_vkey(NEUMANN_VKEY.replace("c74f20a3", "c74f20a4"), 0x01)
        with self.assertRaises(t.CheckError):
            t.parse_vkey("Peter" + NEUMANN_VKEY, 0x01)  # name not hashed
        with self.assertRaises(t.CheckError):
            t.parse_vkey(NEUMANN_VKEY[:-4], 0x01)

    def test_checkpoint_body(self):
        o, n, r, ext = t.parse_checkpoint(
            b"example.com/behind-the-sofa\n20852163\n"
            b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        )
        self.assertEqual((o, n, len(r), ext), ("example.com/behind-the-sofa", 20852163, 32, []))
        root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
        for bad in [
            f"o\n012\n{root}\n",
            f"o\n-1\n{root}\n",
            f"o\n1\n{root[:-4]}\n",
            f"o\n1\n{root}",
            f"o\n1\n{root}\n\n",
            f"\n1\n{root}\n",
            "o\n1\n",
        ]:
            with self.assertRaises(t.CheckError, msg=bad):
                t.parse_checkpoint(bad.encode())


class ProjectGoldenFiles(unittest.TestCase):
    """The project's own fixtures must verify with this independent code."""

    def read(self, name: str) -> bytes:
        with open(os.path.join(VECTORS, name), "rb") as f:
            return f.read()

    def keys(self):
        log = t.parse_vkey(self.read("log.vkey").decode().strip(), 0x01)
        wit = t.parse_vkey(self.read("witness.vkey").decode().strip(), 0x04)
        return log, wit

    def test_checkpoint_txt(self):
        (name, kid, pub), _ = self.keys()
        text, sigs = t.parse_signed_note(self.read("checkpoint.txt"))
        self.assertTrue(t.verify_note_signature(text, sigs, name, kid, pub))
        origin, n, root, _ = t.parse_checkpoint(text)
        self.assertEqual(origin, name)
        hashes = [t.leaf_hash(d) for d in CT_LEAVES]
        self.assertEqual(root, t.mth(hashes[:n]))

    def test_cosigned_txt(self):
        (lname, lkid, lpub), (wname, wkid, wpub) = self.keys()
        text, sigs = t.parse_signed_note(self.read("cosigned.txt"))
        self.assertTrue(t.verify_note_signature(text, sigs, lname, lkid, lpub))
        ts = t.verify_cosignature(text, sigs, wname, wkid, wpub)
        self.assertIsNotNone(ts)
        # The same key as a type-0x01 signer must not match (key id differs).
        self.assertFalse(
            t.verify_note_signature(text, sigs, wname, t.key_id(wname, 1, wpub), wpub)
        )
        # Mangled: note text, timestamp, signature bytes.
        for bad in list(flips(text))[::3]:
            with self.assertRaises(t.CheckError):
                t.verify_cosignature(bad, sigs, wname, wkid, wpub)
        wsig = [s for s in sigs if s[0] == wname][0]
        for bad in flips(wsig[2]):
            with self.assertRaises(t.CheckError):
                t.verify_cosignature(text, [(wname, wkid, bad)], wname, wkid, wpub)

    def test_golden_cosignature_message(self):
        """Rebuild the cosigned message by hand and verify directly."""
        _, (wname, wkid, wpub) = self.keys()
        text, sigs = t.parse_signed_note(self.read("cosigned.txt"))
        sig = [s for s in sigs if s[0] == wname and s[1] == wkid][0][2]
        ts = int.from_bytes(sig[:8], "big")
        msg = ("cosignature/v1\ntime %d\n" % ts).encode() + text
        self.assertTrue(t.ed25519_verify(wpub, msg, sig[8:]))


class Policies(unittest.TestCase):
    def setUp(self):
        self.w = {}
        for i in range(6):
            pub = ed_public(bytes([i + 1]) * 32)
            self.w[i] = vkey(f"w.example/{i}", 4, pub)
        self.log = vkey("log.example/x", 1, ed_public(b"\x09" * 32))

    def test_spec_example(self):
        w = self.w
        text = (
            f"log {self.log}\n\n"
            f"witness X1 {w[0]}\nwitness X2 {w[1]}\nwitness X3 {w[2]}\n"
            "group X-witnesses 2 X1 X2 X3\n\n"
            f"witness Y1 {w[3]}\nwitness Y2 {w[4]} https://y2.example/\n"
            f"\twitness   Y3 {w[5]}  \n# a comment\n"
            "group Y-witnesses any Y1 Y2 Y3\n"
            "group X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n"
        )
        p = t.parse_policy(text.encode())
        self.assertEqual(len(p["logs"]), 1)
        self.assertEqual(len(p["witnesses"]), 6)
        self.assertTrue(t.quorum_met(p, {"X1", "X3", "Y2"}))
        self.assertFalse(t.quorum_met(p, {"X1", "Y2"}))
        self.assertFalse(t.quorum_met(p, {"X1", "X2", "X3"}))

    def test_quorum_none(self):
        p = t.parse_policy(f"log {self.log}\nquorum none\n".encode())
        self.assertTrue(t.quorum_met(p, set()))

    def test_bad_policies(self):
        w, log = self.w, self.log
        for bad in [
            f"log {log}\n",  # no quorum
            f"log {log}\nquorum none\nquorum none\n",
            f"log {w[0]}\nquorum none\n",  # witness key as log key
            f"witness A {log}\nquorum none\n",  # log key as witness key
            f"witness A {w[0]}\nwitness A {w[1]}\nquorum A\n",
            f"witness A {w[0]}\nwitness B {w[0]}\nquorum A\n",  # duplicate key
            f"witness A {w[0]}\ngroup G 2 A\nquorum G\n",
            f"witness A {w[0]}\ngroup G any A A\nquorum G\n",
            f"group G any A\nwitness A {w[0]}\nquorum G\n",  # forward reference
            f"quorum A\nwitness A {w[0]}\n",
            f"log {log}\nquorum none",  # no final newline
            f"log {log}\nfrobnicate\nquorum none\n",
            f"log {log}\r\nquorum none\n",
        ]:
            with self.assertRaises(t.CheckError, msg=bad):
                t.parse_policy(bad.encode())


class CanonicalEntries(unittest.TestCase):
    def test_accepts_canonical(self):
        for s in [
            '{"a":1,"b":"x"}',
            '{"a":{},"b":[true,false,null,-7]}',
            '{"k":"\\u001f\\n\\"\\\\/é€😀"}',
            # RFC 8785 sorts by UTF-16 code units: U+1F600 (0xD83D...)
            # before U+FB01, although code point order is the reverse.
            '{"\U0001f600":2,"\ufb01":1}',
        ]:
            t.parse_entry(s.encode())

    def test_rejects(self):
        for s in [
            '{"b":1,"a":2}',
            '{"a": 1}',
            '{"a":1.5}',
            '{"a":1e3}',
            '{"a":1,"a":1}',
            '{"a":"\\u00e9"}',
            "[1]",
            '{"a":NaN}',
            '{"\ufb01":1,"\U0001f600":2}',
        ]:
            with self.assertRaises(t.CheckError, msg=s):
                t.parse_entry(s.encode())


# --- The CLI end to end against a fake log built with the naive generator.


class FakeLog:
    """A log shaped like a trustfund estate's where the checker looks:
    entry 0 estate_created (the log key), a policy_set asking for one
    committee cosignature, committee member alice and company member p1
    enrolled; then plain filler entries."""

    ORIGIN = "fake.example/estates/test"
    ALICE = ORIGIN + "/members/alice"
    C9 = ORIGIN + "/members/c9"  # the server's own key, enrolled nowhere

    def __init__(self, n: int):
        self.log_seed = b"\x11" * 32
        self.wit_seed = b"\x22" * 32
        self.c9_seed = b"\x99" * 32
        self.log_pub = ed_public(self.log_seed)
        self.wit_pub = ed_public(self.wit_seed)
        self.c9_pub = ed_public(self.c9_seed)
        self.build(n)
        self.policy = (
            f"log {vkey(self.ORIGIN, 1, self.log_pub)}\n"
            f"witness alice {vkey(self.ALICE, 4, self.wit_pub)}\n"
            "group trustfund:committee 1 alice\nquorum trustfund:committee\n"
        ).encode()
        self.sign_checkpoint(n)
        self.tamper_entry = None  # (index, new bytes) served by /entries
        self.tamper_proof = False

    def cosignature_line(self, name: str, seed: bytes, text: bytes) -> bytes:
        kid = t.key_id(name, 4, ed_public(seed))
        ts = 1700000000
        cos = ts.to_bytes(8, "big") + ed_sign(seed, t.cosigned_message(text, ts))
        return f"\u2014 {name} {b64(kid + cos)}\n".encode()

    def build(self, n: int, payments: dict[int, str] | None = None):
        """n entries; those in `payments` are fee_paid entries carrying
        that bank reference's commitment. Signs a checkpoint over them."""
        payments = payments or {}
        self.entries: list[bytes] = []
        heads = [
            {"kind": "estate_created", "origin": self.ORIGIN,
             "log_key": vkey(self.ORIGIN, 1, self.log_pub)},
            {"kind": "policy_set", "version": 1, "rules": {"witnesses": 1}},
            {"kind": "member_enrolled", "member": "alice", "role": "committee",
             "key": vkey(self.ALICE, 4, self.wit_pub)},
            {"kind": "member_enrolled", "member": "p1", "role": "company",
             "key": vkey(self.ORIGIN + "/members/p1", 4, ed_public(b"\x33" * 32))},
        ]
        prev = "0" * 64
        for i in range(n):
            body = heads[i] if i < len(heads) else {"kind": "note", "text": "entry %d ✓" % i}
            if i in payments:
                body = {"kind": "fee_paid",
                        "bank_ref": t.bank_ref_commitment("test", payments[i])}
            e = json.dumps(
                {"v": 1, "estate": "test", "seq": i, "prev": prev, **body},
                ensure_ascii=False, sort_keys=True, separators=(",", ":"),
            ).encode()
            self.entries.append(e)
            prev = t.leaf_hash(e).hex()
        self.hashes = [t.leaf_hash(e) for e in self.entries]
        if hasattr(self, "checkpoint"):
            self.sign_checkpoint(n)

    def sign_checkpoint(self, n: int, root: bytes | None = None):
        root = t.mth(self.hashes[:n]) if root is None else root
        text = f"{self.ORIGIN}\n{n}\n{b64(root)}\n".encode()
        lkid = t.key_id(self.ORIGIN, 1, self.log_pub)
        self.text = text
        self.checkpoint = (
            text + b"\n"
            + f"\u2014 {self.ORIGIN} {b64(lkid + ed_sign(self.log_seed, text))}\n".encode()
            + self.cosignature_line(self.ALICE, self.wit_seed, text)
        )

    def name_c9(self, with_alice: bool):
        """What a hostile server does: cosign with its own key c9 and name
        c9 as a committee witness in the policy file it serves."""
        self.checkpoint = self.checkpoint + self.cosignature_line(
            self.C9, self.c9_seed, self.text
        )
        if not with_alice:
            alice = self.cosignature_line(self.ALICE, self.wit_seed, self.text)
            self.checkpoint = self.checkpoint.replace(alice, b"")
        self.policy = (
            f"log {vkey(self.ORIGIN, 1, self.log_pub)}\n"
            f"witness alice {vkey(self.ALICE, 4, self.wit_pub)}\n"
            f"witness c9 {vkey(self.C9, 4, self.c9_pub)}\n"
            "group trustfund:committee 1 alice c9\nquorum trustfund:committee\n"
        ).encode()

    def handle(self, path: str, q: dict) -> tuple[int, bytes]:
        pre = "/estates/test/log"
        n = len(self.entries)
        if path == "/api/v1/estates":
            return 200, json.dumps(
                [{"slug": "other", "name": "O", "origin": "x/y"},
                 {"slug": "test", "name": "T", "origin": self.ORIGIN}]
            ).encode()
        if path == pre + "/policy":
            return 200, self.policy
        if path == pre + "/checkpoint":
            return 200, self.checkpoint
        if path == pre + "/entries":
            s, e = int(q["start"]), int(q["end"])
            if not (s < e <= n and e - s <= 1000):
                return 400, b"bad range"
            out = [x.decode() for x in self.entries[s:e]]
            if self.tamper_entry and s <= self.tamper_entry[0] < e:
                out[self.tamper_entry[0] - s] = self.tamper_entry[1].decode()
            return 200, json.dumps(out).encode()
        if path.startswith(pre + "/entries/"):
            return 200, self.entries[int(path.rsplit("/", 1)[1])]
        if path == pre + "/proof/inclusion":
            i, size = int(q["index"]), int(q["size"])
            proof = naive_path(i, self.hashes[:size])
            if self.tamper_proof and proof:
                proof[0] = bytes(32)
            return 200, json.dumps(
                {"index": i, "size": size, "proof": [b64(h) for h in proof]}
            ).encode()
        if path == pre + "/proof/consistency":
            m, size = int(q["from"]), int(q["to"])
            proof = naive_consistency(m, self.hashes[:size])
            return 200, json.dumps(
                {"from": m, "to": size, "proof": [b64(h) for h in proof]}
            ).encode()
        return 404, b"not found"


class CliAgainstFakeLog(unittest.TestCase):
    N = 2345  # more than two 1,000-entry pages

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeLog(cls.N)
        fake = cls.fake

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(u.query))
                status, body = fake.handle(u.path, q)
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        cls.base = "http://127.0.0.1:%d" % cls.server.server_address[1]
        cls.pristine = (fake.checkpoint, fake.policy, fake.text)

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def tearDown(self):
        if len(self.fake.entries) != self.N:
            self.fake.build(self.N)
        self.fake.checkpoint, self.fake.policy, self.fake.text = self.pristine
        self.fake.tamper_entry = None
        self.fake.tamper_proof = False

    def run_cli(self) -> tuple[int, str]:
        out = io.StringIO()
        with redirect_stdout(out):
            code = t.main(["tlogcheck.py", self.base, "test"])
        return code, out.getvalue()

    def test_honest_log_passes(self):
        code, out = self.run_cli()
        self.assertEqual(code, 0, out)
        self.assertIn("OK", out)
        self.assertIn(f"entries {self.N}", out)

    def test_tampered_entry_named(self):
        e = bytearray(self.fake.entries[1500])
        e[e.index(b"entry")] = ord("E")
        self.fake.tamper_entry = (1500, bytes(e))
        code, out = self.run_cli()
        self.assertEqual(code, 1, out)
        self.assertIn("entry 1501: prev", out)

    def test_tampered_last_entry_breaks_root(self):
        e = self.fake.entries[-1].replace(b"entry", b"Entry")
        self.fake.tamper_entry = (self.N - 1, e)
        code, out = self.run_cli()
        self.assertEqual(code, 1, out)
        self.assertIn("root", out)

    def test_bad_inclusion_proof(self):
        self.fake.tamper_proof = True
        code, out = self.run_cli()
        self.assertEqual(code, 1, out)
        self.assertIn("inclusion proof index=0", out)

    def test_forged_checkpoint(self):
        cp = self.fake.checkpoint.replace(b"\n2345\n", b"\n2344\n")
        self.fake.checkpoint = cp
        code, out = self.run_cli()
        self.assertEqual(code, 1, out)
        self.assertIn("checkpoint: note: signature by", out)

    def test_missing_cosignature_fails_quorum(self):
        cp = self.fake.checkpoint
        self.fake.checkpoint = cp[: cp.rindex("\u2014".encode())]
        code, out = self.run_cli()
        self.assertEqual(code, 1, out)
        self.assertIn("quorum", out)

    def test_wrong_root_signed(self):
        self.fake.sign_checkpoint(self.N, root=t.mth(self.fake.hashes[: self.N - 1]))
        code, out = self.run_cli()
        self.assertEqual(code, 1, out)
        self.assertIn("root", out)

    def test_policy_log_name_must_be_origin(self):
        other = vkey("fake.example/other", 1, self.fake.log_pub)
        self.fake.policy = self.fake.policy.replace(
            vkey(FakeLog.ORIGIN, 1, self.fake.log_pub).encode(), other.encode()
        )
        code, out = self.run_cli()
        self.assertEqual(code, 1, out)
        self.assertIn("policy: log key name", out)

    def test_server_named_witness_does_not_count(self):
        self.fake.name_c9(with_alice=True)
        code, out = self.run_cli()
        self.assertEqual(code, 0, out)
        self.assertIn("cosignatures that do not count", out)
        self.assertIn(FakeLog.C9, out)
        self.assertIn("witnessed by alice,", out)
        self.assertIn("ignored, not witnesses in the ledger: c9", out)

    def test_quorum_only_with_server_named_witness_fails(self):
        self.fake.name_c9(with_alice=False)
        code, out = self.run_cli()
        self.assertEqual(code, 1, out)
        self.assertIn("quorum: 0 of the 1 committee cosignatures", out)
        self.assertIn(FakeLog.C9, out)


    def test_bank_refs_once_pass(self):
        self.fake.build(8, {5: "ICBC-20261015-000123", 7: "ICBC-20261015-000124"})
        code, out = self.run_cli()
        self.assertEqual(code, 0, out)
        self.assertIn("bank refs 2 committed", out)

    def test_a_bank_ref_credited_twice_is_refused(self):
        # The same reference, typed with spaces the second time.
        self.fake.build(8, {5: "ICBC-20261015-000123", 7: " ICBC-20261015-000123 "})
        code, out = self.run_cli()
        self.assertEqual(code, 1, out)
        self.assertIn("entry 7: duplicate_bank_ref", out)
        self.assertIn("entry 5", out)


class LedgerWitnesses(unittest.TestCase):
    def key(self, member: str, seed: int) -> str:
        return vkey(f"o.example/members/{member}", 4, ed_public(bytes([seed]) * 32))

    def test_members_make_witnesses(self):
        entries = [
            {"kind": "estate_created"},
            {"kind": "policy_set", "rules": {"witnesses": 2}},
            {"kind": "member_enrolled", "member": "c1", "role": "committee", "key": self.key("c1", 1)},
            {"kind": "member_enrolled", "member": "c2", "role": "committee", "key": self.key("c2", 2)},
            {"kind": "member_enrolled", "member": "p1", "role": "company", "key": self.key("p1", 3)},
            {"kind": "member_enrolled", "member": "s1", "role": "community", "key": self.key("s1", 4)},
            {"kind": "member_revoked", "member": "c2", "key": self.key("c2", 2)},
            {"kind": "member_enrolled", "member": "c2", "role": "committee", "key": self.key("c2", 5)},
            {"kind": "member_revoked", "member": "c1", "key": self.key("c1", 1)},
            {"kind": "policy_set", "rules": {"witnesses": 1}},
        ]
        w, k = t.ledger_witnesses(entries)
        self.assertEqual(k, 1)
        self.assertEqual(sorted(w), ["c2", "s1"])  # c1 revoked, p1 is the company
        self.assertEqual(w["c2"][0], "committee")
        self.assertEqual(w["c2"][3], ed_public(bytes([5]) * 32))  # the new key
        self.assertEqual(w["s1"][0], "community")

    def test_bad_member_entries(self):
        for bad in [
            [{"kind": "member_revoked", "member": "c1", "key": self.key("c1", 1)}],
            [{"kind": "member_enrolled", "member": "c1", "role": "committee", "key": self.key("c1", 1)},
             {"kind": "member_revoked", "member": "c1", "key": self.key("c1", 2)}],
            [{"kind": "member_enrolled", "member": "c1", "role": "committee", "key": self.key("c1", 1)},
             {"kind": "member_enrolled", "member": "c1", "role": "committee", "key": self.key("c1", 2)}],
            [{"kind": "member_enrolled", "member": "c1", "role": "owner", "key": self.key("c1", 1)}],
            [{"kind": "policy_set", "rules": {}}],
        ]:
            with self.assertRaises(t.CheckError, msg=bad):
                t.ledger_witnesses(bad)


class BankRefCommitments(unittest.TestCase):
    """The project's bank_ref.json against this implementation (FORMAT.md
    section 9.1), and the rule on its own."""

    def test_project_vectors(self):
        path = os.path.join(REPO, "fixtures", "vectors", "ledger", "bank_ref.json")
        with open(path, encoding="utf-8") as f:
            vectors = json.load(f)["vectors"]
        self.assertEqual(
            vectors[0]["commitment"],
            "9a2e5879520adc4f5d86216d8d099900e4e36c770cf1843b4fb8c167b4389bcf",
        )
        for v in vectors:
            typed = v.get("as_typed", v["reference"])
            self.assertEqual(t.bank_ref_commitment(v["estate"], typed), v["commitment"])
            pre = bytes.fromhex(v["preimage_hex"])
            self.assertEqual(hashlib.sha256(pre).hexdigest(), v["commitment"])

    def test_rule(self):
        c = t.bank_ref_commitment("test", "A1")
        seen: dict[str, int] = {}
        t.check_bank_ref({"kind": "fee_paid"}, 0, seen)
        t.check_bank_ref({"kind": "fee_paid", "bank_ref": c}, 1, seen)
        self.assertEqual(seen, {c: 1})
        with self.assertRaisesRegex(t.CheckError, "entry 2: duplicate_bank_ref.*entry 1"):
            t.check_bank_ref({"kind": "fee_paid", "bank_ref": c}, 2, seen)
        for bad in (c.upper(), c[:-1], 7, None):
            with self.assertRaises(t.CheckError):
                t.check_bank_ref({"kind": "fee_paid", "bank_ref": bad}, 3, {})
        with self.assertRaises(t.CheckError):
            t.check_bank_ref({"kind": "note", "bank_ref": c}, 4, {})


if __name__ == "__main__":
    unittest.main(verbosity=1)
