#!/usr/bin/env python3
"""Independent verifier for a trustfund estate's transparency log.

Written from the public specifications only (C2SP signed-note,
tlog-checkpoint, tlog-cosignature, tlog-policy; RFC 9162 section 2.1;
RFC 8032 Ed25519), using nothing but the Python 3.11 standard library.
It shares no code with the Rust implementation it checks.

Usage:
    python3 tlogcheck.py BASE_URL SLUG

Talks to a running server over HTTP, downloads every entry the latest
checkpoint covers, checks each entry's chain link and the Merkle root,
the checkpoint's log signature (with the log key of entry 0), and the
witness quorum, taking the witness keys only from the entries' own
member_enrolled / member_revoked and the quorum from policy_set (never
from the policy file it is sent); then the policy file's syntax, a
deterministic spread of inclusion and consistency proofs, and the
single-entry endpoint; and one ledger rule that needs no replay of
balances: no two entries carry the same bank reference commitment
(FORMAT.md revision 4, section 9.1). Prints a short summary and exits 0,
or prints the first failure (which check, which index) and exits 1.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import sys
import urllib.error
import urllib.parse
import urllib.request

__all__ = [
    "CheckError",
    "ed25519_verify",
    "leaf_hash",
    "node_hash",
    "mth",
    "verify_inclusion",
    "verify_consistency",
    "parse_vkey",
    "parse_signed_note",
    "parse_checkpoint",
    "parse_policy",
    "verify_note_signature",
    "verify_cosignature",
    "quorum_met",
    "ledger_witnesses",
    "bank_ref_commitment",
    "check_bank_ref",
    "main",
]


class CheckError(Exception):
    """A verification failure; the message names the check."""


# ---------------------------------------------------------------------------
# Ed25519 verification (RFC 8032 section 5.1), cofactorless, pure Python.
# ---------------------------------------------------------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _inv(x: int) -> int:
    return pow(x, _P - 2, _P)


# Points are in extended homogeneous coordinates (X, Y, Z, T), x = X/Z,
# y = Y/Z, x*y = T/Z, on -x^2 + y^2 = 1 + d x^2 y^2.
def _add(p1, p2):
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = 2 * t1 * t2 * _D % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(k: int, pt):
    acc = (0, 1, 1, 0)  # neutral element
    while k > 0:
        if k & 1:
            acc = _add(acc, pt)
        pt = _add(pt, pt)
        k >>= 1
    return acc


def _same(p1, p2) -> bool:
    x1, y1, z1, _ = p1
    x2, y2, z2, _ = p2
    return (x1 * z2 - x2 * z1) % _P == 0 and (y1 * z2 - y2 * z1) % _P == 0


def _decode_point(s: bytes):
    """Decodes a 32-byte point encoding; None if it is not a valid point."""
    if len(s) != 32:
        return None
    n = int.from_bytes(s, "little")
    sign = n >> 255
    y = n & ((1 << 255) - 1)
    if y >= _P:
        return None  # non-canonical y
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x2 = u * _inv(v) % _P
    if x2 == 0:
        if sign:
            return None
        x = 0
    else:
        x = pow(x2, (_P + 3) // 8, _P)
        if (x * x - x2) % _P != 0:
            x = x * _SQRT_M1 % _P
        if (x * x - x2) % _P != 0:
            return None
        if x & 1 != sign:
            x = _P - x
    return (x, y, 1, x * y % _P)


_BY = 4 * _inv(5) % _P
_B = _decode_point(_BY.to_bytes(32, "little"))  # x is even: sign bit 0


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `message`."""
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _decode_point(public)
    r = _decode_point(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    k = int.from_bytes(
        hashlib.sha512(signature[:32] + public + message).digest(), "little"
    ) % _L
    return _same(_mul(s, _B), _add(r, _mul(k, a)))


# ---------------------------------------------------------------------------
# RFC 9162 section 2.1 Merkle tree.
# ---------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly less than n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes: list[bytes]) -> bytes:
    """MTH over a list of leaf hashes (not leaf data)."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if index < 0 or index >= size:
        return False
    if any(len(p) != 32 for p in proof) or len(leaf) != 32 or len(root) != 32:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes,
    proof: list[bytes],
) -> bool:
    """RFC 9162 section 2.1.4.2, with the usual conventions for the edges
    the algorithm leaves out: equal sizes need an empty proof and equal
    roots; an empty old tree is consistent with anything (empty proof)."""
    if first < 0 or second < first:
        return False
    if any(len(p) != 32 for p in proof):
        return False
    if first == second:
        return not proof and first_hash == second_hash
    if first == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # exact power of two
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


# ---------------------------------------------------------------------------
# Signed notes, verifier keys, checkpoints, cosignatures, policies.
# ---------------------------------------------------------------------------

EM_DASH = "\u2014"


def _b64decode(s: str, what: str) -> bytes:
    try:
        out = base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as e:
        raise CheckError(f"{what}: bad base64: {e}") from None
    if base64.b64encode(out).decode("ascii") != s:
        raise CheckError(f"{what}: non-canonical base64")
    return out


def key_id(name: str, sig_type: int, public: bytes) -> bytes:
    return hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([sig_type]) + public
    ).digest()[:4]


def _valid_key_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def parse_vkey(vkey: str, want_type: int) -> tuple[str, bytes, bytes]:
    """Parses `name+hexkeyid+base64(type||pubkey)`; returns
    (name, key id, 32-byte Ed25519 public key)."""
    parts = vkey.split("+", 2)  # base64 may itself contain "+"
    if len(parts) != 3:
        raise CheckError(f"vkey {vkey!r}: want name+keyid+key")
    name, hexid, b64 = parts
    if not _valid_key_name(name):
        raise CheckError(f"vkey {vkey!r}: bad key name")
    if len(hexid) != 8 or any(c not in "0123456789abcdef" for c in hexid):
        raise CheckError(f"vkey {vkey!r}: key id must be 8 lowercase hex digits")
    raw = _b64decode(b64, f"vkey {name}")
    if len(raw) != 33:
        raise CheckError(f"vkey {name}: key is {len(raw)} bytes, want 1+32")
    if raw[0] != want_type:
        raise CheckError(
            f"vkey {name}: signature type 0x{raw[0]:02x}, want 0x{want_type:02x}"
        )
    public = raw[1:]
    kid = bytes.fromhex(hexid)
    if key_id(name, want_type, public) != kid:
        raise CheckError(f"vkey {name}: key id {hexid} does not match the key")
    return name, kid, public


def parse_signed_note(note: bytes) -> tuple[bytes, list[tuple[str, bytes, bytes]]]:
    """Splits a signed note into its text (with final newline) and its
    signature lines as (key name, key id, signature bytes)."""
    try:
        s = note.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckError("note: not UTF-8") from None
    if any(ord(c) < 0x20 and c != "\n" for c in s):
        raise CheckError("note: contains a control character")
    if not s.endswith("\n"):
        raise CheckError("note: does not end in a newline")
    split = s.rfind("\n\n")
    if split < 0:
        raise CheckError("note: no blank line before the signatures")
    text, sigblock = s[: split + 1], s[split + 2 :]
    sigs = []
    for line in sigblock[:-1].split("\n"):
        prefix = EM_DASH + " "
        if not line.startswith(prefix):
            raise CheckError(f"note: bad signature line {line!r}")
        rest = line[len(prefix) :]
        if rest.count(" ") != 1:
            raise CheckError(f"note: bad signature line {line!r}")
        name, b64 = rest.split(" ")
        if not _valid_key_name(name):
            raise CheckError(f"note: bad key name {name!r}")
        raw = _b64decode(b64, f"note signature by {name}")
        if len(raw) < 5:
            raise CheckError(f"note: signature by {name} too short")
        sigs.append((name, raw[:4], raw[4:]))
    if not sigs:
        raise CheckError("note: no signature lines")
    if len(sigs) > 100:
        raise CheckError("note: too many signatures")
    return text.encode("utf-8"), sigs


def parse_checkpoint(text: bytes) -> tuple[str, int, bytes, list[str]]:
    """Parses a tlog-checkpoint note text: (origin, size, root, extensions)."""
    s = text.decode("utf-8")
    if not s.endswith("\n"):
        raise CheckError("checkpoint: text does not end in a newline")
    lines = s[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise CheckError("checkpoint: need at least three non-empty lines")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if not size_s.isascii() or not size_s.isdigit() or (
        size_s != "0" and size_s.startswith("0")
    ):
        raise CheckError(f"checkpoint: bad tree size {size_s!r}")
    root = _b64decode(root_s, "checkpoint root")
    if len(root) != 32:
        raise CheckError(f"checkpoint: root is {len(root)} bytes, want 32")
    return origin, int(size_s), root, lines[3:]


def verify_note_signature(
    text: bytes, sigs, name: str, kid: bytes, public: bytes
) -> bool:
    """True when a type-0x01 signature by (name, kid) over the note text is
    present and valid; raises if one is present and invalid."""
    found = False
    for n, k, sig in sigs:
        if n == name and k == kid:
            if not ed25519_verify(public, text, sig):
                raise CheckError(f"note: signature by {name} does not verify")
            found = True
    return found


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    return b"cosignature/v1\ntime %d\n" % timestamp + text


def verify_cosignature(text: bytes, sigs, name: str, kid: bytes, public: bytes):
    """Returns the timestamp of a valid cosignature/v1 (type 0x04) by
    (name, kid), None if there is none; raises if one is invalid."""
    found = None
    for n, k, sig in sigs:
        if n == name and k == kid:
            if len(sig) != 8 + 64:
                raise CheckError(f"cosignature by {name}: {len(sig)} bytes, want 72")
            ts = int.from_bytes(sig[:8], "big")
            if ts >= 2**63:
                raise CheckError(f"cosignature by {name}: timestamp out of range")
            if not ed25519_verify(public, cosigned_message(text, ts), sig[8:]):
                raise CheckError(f"cosignature by {name} does not verify")
            found = ts
    return found


def parse_policy(data: bytes) -> dict:
    """Parses a C2SP tlog-policy file into
    {"logs": [(name, kid, pub)], "witnesses": {wname: (name, kid, pub)},
     "groups": {gname: (k, [members])}, "quorum": name}."""
    for b in data:
        if not (b in (0x09, 0x0A) or 0x20 <= b <= 0x7E or b >= 0x80):
            raise CheckError(f"policy: forbidden octet 0x{b:02x}")
    if data and not data.endswith(b"\n"):
        raise CheckError("policy: last line has no newline")
    logs, witnesses, groups, quorum = [], {}, {}, None
    seen_keys = set()
    for lineno, raw in enumerate(data.split(b"\n")[:-1], 1):
        line = raw.decode("utf-8", "surrogateescape")
        items = line.replace("\t", " ").split()
        if not items or items[0].startswith("#"):
            continue
        kw, args = items[0], items[1:]
        where = f"policy line {lineno}"
        if kw == "log":
            if len(args) not in (1, 2):
                raise CheckError(f"{where}: log <vkey> [<url>]")
            key = parse_vkey(args[0], 0x01)
            if ("log", key[2]) in seen_keys:
                raise CheckError(f"{where}: duplicate log key")
            seen_keys.add(("log", key[2]))
            logs.append(key)
        elif kw == "witness":
            if len(args) not in (2, 3):
                raise CheckError(f"{where}: witness <name> <vkey> [<url>]")
            wname = args[0]
            if wname in witnesses or wname in groups or wname == "none":
                raise CheckError(f"{where}: name {wname!r} already defined")
            key = parse_vkey(args[1], 0x04)
            if ("witness", key[2]) in seen_keys:
                raise CheckError(f"{where}: duplicate witness key")
            seen_keys.add(("witness", key[2]))
            witnesses[wname] = key
        elif kw == "group":
            if len(args) < 3:
                raise CheckError(f"{where}: group <name> <k> <name>...")
            gname, ks, members = args[0], args[1], args[2:]
            if gname in witnesses or gname in groups or gname == "none":
                raise CheckError(f"{where}: name {gname!r} already defined")
            if len(set(members)) != len(members):
                raise CheckError(f"{where}: a member is listed twice")
            for m in members:
                if m not in witnesses and m not in groups:
                    raise CheckError(f"{where}: {m!r} is not defined earlier")
            if ks == "all":
                k = len(members)
            elif ks == "any":
                k = 1
            elif ks.isascii() and ks.isdigit():
                k = int(ks)
                if not 1 <= k <= len(members):
                    raise CheckError(f"{where}: threshold {k} out of range")
            else:
                raise CheckError(f"{where}: bad threshold {ks!r}")
            groups[gname] = (k, members)
        elif kw == "quorum":
            if len(args) != 1:
                raise CheckError(f"{where}: quorum <name>")
            if quorum is not None:
                raise CheckError(f"{where}: second quorum line")
            q = args[0]
            if q != "none" and q not in witnesses and q not in groups:
                raise CheckError(f"{where}: quorum {q!r} is not defined earlier")
            quorum = q
        else:
            raise CheckError(f"{where}: unknown keyword {kw!r}")
    if quorum is None:
        raise CheckError("policy: no quorum line")
    return {"logs": logs, "witnesses": witnesses, "groups": groups, "quorum": quorum}


def quorum_met(policy: dict, cosigned: set[str]) -> bool:
    """Whether the witnesses named in `cosigned` satisfy the quorum."""

    def met(name: str) -> bool:
        if name == "none":
            return True
        if name in policy["witnesses"]:
            return name in cosigned
        k, members = policy["groups"][name]
        return sum(1 for m in members if met(m)) >= k

    return met(policy["quorum"])


# ---------------------------------------------------------------------------
# Entries: strict JSON and RFC 8785 canonical form.
# ---------------------------------------------------------------------------


def _no_dupes(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise CheckError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _reject_float(s):
    raise CheckError(f"non-integer number {s}")


def _reject_constant(s):
    raise CheckError(f"non-JSON constant {s}")


def _jcs(v) -> str:
    """RFC 8785 serialisation for the subset entries may use (no floats)."""
    if v is None or v is True or v is False:
        return json.dumps(v)
    if isinstance(v, int):
        if abs(v) > 2**53 - 1:
            raise CheckError(f"integer {v} beyond the I-JSON range")
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(_jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(_jcs(k) + ":" + _jcs(v[k]) for k in keys) + "}"
    raise CheckError(f"unexpected JSON value {v!r}")


def parse_entry(data: bytes) -> dict:
    try:
        s = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckError("not UTF-8") from None
    try:
        obj = json.loads(
            s,
            object_pairs_hook=_no_dupes,
            parse_float=_reject_float,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as e:
        raise CheckError(f"not JSON: {e}") from None
    if not isinstance(obj, dict):
        raise CheckError("not a JSON object")
    if _jcs(obj) != s:
        raise CheckError("not in RFC 8785 canonical form")
    return obj


def ledger_witnesses(entries: list[dict]) -> tuple[dict, int]:
    """The witnesses as the entries themselves say (FORMAT.md section 13):
    {member id: (role, key name, key id, public key)} for every committee
    and community member with an active key after replaying
    member_enrolled and member_revoked in order, and k, the `witnesses` of
    the last policy_set (0 before any). Nothing else names a witness."""
    active: dict = {}
    k = 0
    for i, e in enumerate(entries):
        kind = e.get("kind")
        if kind == "member_enrolled":
            member, role = e.get("member"), e.get("role")
            if not isinstance(member, str) or role not in ("company", "committee", "community"):
                raise CheckError(f"entry {i}: member_enrolled without member or role")
            if member in active:
                raise CheckError(f"entry {i}: {member} enrolled while a key is active")
            try:
                active[member] = (role,) + parse_vkey(e.get("key", ""), 4)
            except CheckError as err:
                raise CheckError(f"entry {i}: {err}") from None
        elif kind == "member_revoked":
            member = e.get("member")
            if member not in active:
                raise CheckError(f"entry {i}: {member!r} has no active key to revoke")
            try:
                name, kid, pub = parse_vkey(e.get("key", ""), 4)
            except CheckError as err:
                raise CheckError(f"entry {i}: {err}") from None
            if active[member][1:] != (name, kid, pub):
                raise CheckError(f"entry {i}: revokes a key {member} is not using")
            del active[member]
        elif kind == "policy_set":
            rules = e.get("rules")
            w = rules.get("witnesses") if isinstance(rules, dict) else None
            if type(w) is not int or not 0 <= w <= 15:
                raise CheckError(f"entry {i}: policy_set without witnesses 0..15")
            k = w
    witnesses = {m: v for m, v in active.items() if v[0] in ("committee", "community")}
    return witnesses, k


# ---------------------------------------------------------------------------
# The online check.
# ---------------------------------------------------------------------------


class Client:
    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def get(self, path: str, query: dict | None = None) -> bytes:
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:
                if resp.status != 200:
                    raise CheckError(f"GET {url}: HTTP {resp.status}")
                return resp.read()
        except urllib.error.HTTPError as e:
            body = e.read()[:300].decode("utf-8", "replace")
            raise CheckError(f"GET {url}: HTTP {e.code}: {body}") from None
        except urllib.error.URLError as e:
            raise CheckError(f"GET {url}: {e.reason}") from None

    def get_json(self, path: str, query: dict | None = None):
        body = self.get(path, query)
        try:
            return json.loads(body)
        except ValueError as e:
            raise CheckError(f"GET {path}: not JSON: {e}") from None


def _proof_hashes(obj, what: str) -> list[bytes]:
    if not isinstance(obj, dict) or not isinstance(obj.get("proof"), list):
        raise CheckError(f"{what}: response has no proof array")
    out = []
    for i, p in enumerate(obj["proof"]):
        if not isinstance(p, str):
            raise CheckError(f"{what}: proof[{i}] is not a string")
        h = _b64decode(p, f"{what} proof[{i}]")
        if len(h) != 32:
            raise CheckError(f"{what}: proof[{i}] is {len(h)} bytes")
        out.append(h)
    return out


# ---------------------------------------------------------------------------
# Bank reference commitments (FORMAT.md revision 4, section 9.1).
# ---------------------------------------------------------------------------


def bank_ref_commitment(estate: str, reference: str) -> str:
    """hex SHA-256("trustfund-bank-ref/v1\n" + estate + "\n" + reference),
    the reference in canonical form (surrounding spaces trimmed)."""
    data = "trustfund-bank-ref/v1\n%s\n%s" % (estate, reference.strip())
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def check_bank_ref(obj: dict, index: int, seen: dict[str, int]) -> None:
    """The rule duplicate_bank_ref: a fee_paid entry's optional `bank_ref`
    is 64 lowercase hex digits and no earlier entry carried it. `seen`
    maps each commitment to the entry that first carried it."""
    if "bank_ref" not in obj:
        return
    c = obj["bank_ref"]
    if obj.get("kind") != "fee_paid":
        raise CheckError(f"entry {index}: bank_ref on a {obj.get('kind')!r} entry")
    if (
        not isinstance(c, str)
        or len(c) != 64
        or any(ch not in "0123456789abcdef" for ch in c)
    ):
        raise CheckError(f"entry {index}: bank_ref is not 64 lowercase hex digits")
    if c in seen:
        raise CheckError(
            f"entry {index}: duplicate_bank_ref: the bank reference was already"
            f" credited at entry {seen[c]}"
        )
    seen[c] = index


def run(base: str, slug: str, log=print) -> None:
    c = Client(base)

    # 1. The estate registry.
    estates = c.get_json("/api/v1/estates")
    if not isinstance(estates, list):
        raise CheckError("estates: /api/v1/estates is not a JSON array")
    mine = [e for e in estates if isinstance(e, dict) and e.get("slug") == slug]
    if len(mine) != 1:
        raise CheckError(f"estates: slug {slug!r} listed {len(mine)} times")
    origin = mine[0].get("origin")
    if not isinstance(origin, str) or not origin:
        raise CheckError(f"estates: {slug!r} has no origin")
    log(f"estate  {slug}: origin {origin}")
    p = f"/estates/{urllib.parse.quote(slug, safe='')}/log"

    # 2. The signed checkpoint, unverified for now: how many entries it covers.
    note = c.get(p + "/checkpoint")
    try:
        text, sigs = parse_signed_note(note)
        cp_origin, n, root, _ext = parse_checkpoint(text)
        if cp_origin != origin:
            raise CheckError(f"origin line {cp_origin!r} != {origin!r}")
        if n == 0:
            raise CheckError("size 0: a trustfund log always has entry 0")
    except CheckError as e:
        raise CheckError(f"checkpoint: {e}") from None

    # 3. Every entry and its chain link.
    entries: list[bytes] = []
    objs: list[dict] = []
    leaves: list[bytes] = []
    bank_refs: dict[str, int] = {}
    start = 0
    while start < n:
        end = min(start + 1000, n)
        chunk = c.get_json(p + "/entries", {"start": start, "end": end})
        if not isinstance(chunk, list) or len(chunk) != end - start:
            raise CheckError(f"entries {start}..{end}: want {end - start} strings")
        for i, e in enumerate(chunk, start):
            if not isinstance(e, str):
                raise CheckError(f"entry {i}: not a string")
            data = e.encode("utf-8")
            try:
                obj = parse_entry(data)
            except CheckError as err:
                raise CheckError(f"entry {i}: {err}") from None
            if type(obj.get("seq")) is not int or obj["seq"] != i:
                raise CheckError(f"entry {i}: seq is {obj.get('seq')!r}")
            want_prev = leaves[-1].hex() if leaves else "0" * 64
            if obj.get("prev") != want_prev:
                raise CheckError(
                    f"entry {i}: prev {obj.get('prev')!r} != {want_prev}"
                )
            check_bank_ref(obj, i, bank_refs)
            entries.append(data)
            objs.append(obj)
            leaves.append(leaf_hash(data))
        start = end
    log(f"entries {n} downloaded: seq, prev chain and canonical JSON ok")

    # 4. The log key is entry 0's; the witnesses and k are the entries';
    #    then the root.
    first = objs[0]
    if first.get("kind") != "estate_created" or first.get("origin") != origin:
        raise CheckError(f"entry 0: not the estate_created of {origin!r}")
    try:
        log_name, log_kid, log_pub = parse_vkey(first.get("log_key", ""), 1)
    except CheckError as e:
        raise CheckError(f"entry 0: log_key: {e}") from None
    if log_name != origin:
        raise CheckError(f"entry 0: log key name {log_name!r} != origin {origin!r}")
    witnesses, k = ledger_witnesses(objs)
    try:
        if not verify_note_signature(text, sigs, log_name, log_kid, log_pub):
            raise CheckError("no signature by the log key")
        cosigned, committee = set(), set()
        for wname, (role, kname, kid, pub) in witnesses.items():
            if verify_cosignature(text, sigs, kname, kid, pub) is not None:
                cosigned.add(wname)
                if role == "committee":
                    committee.add(wname)
        known = {(log_name, log_kid)} | {(v[1], v[2]) for v in witnesses.values()}
        uncounted = sorted({f"{name} ({kid.hex()})" for name, kid, _ in sigs
                            if (name, kid) not in known})
        if uncounted:
            log("cosignatures that do not count (no member entry makes them"
                f" witnesses): {', '.join(uncounted)}")
        if len(committee) < k:
            raise CheckError(
                f"quorum: {len(committee)} of the {k} committee cosignatures"
                f" the ledger requires ({sorted(committee)})"
            )
    except CheckError as e:
        raise CheckError(f"checkpoint: {e}") from None
    if mth(leaves) != root:
        raise CheckError(f"root: RFC 9162 root over {n} entries != checkpoint root")
    log(
        f"checkpoint size {n}, root {root.hex()}, log signature ok,"
        f" witnessed by {', '.join(sorted(cosigned)) or '-'},"
        f" committee quorum {k} met"
    )
    log(f"bank refs {len(bank_refs)} committed, none credited twice")

    # 5. The policy file: well formed and about this log, but never trusted.
    try:
        policy = parse_policy(c.get(p + "/policy"))
    except CheckError as e:
        raise CheckError(f"policy: {e}") from None
    if len(policy["logs"]) != 1:
        raise CheckError(f"policy: {len(policy['logs'])} log lines, want 1")
    if policy["logs"][0][0] != origin:
        raise CheckError(
            f"policy: log key name {policy['logs'][0][0]!r} != origin {origin!r}"
        )
    if policy["logs"][0] != (log_name, log_kid, log_pub):
        raise CheckError("policy: log key differs from entry 0's")
    ours = {(v[1], v[2], v[3]) for v in witnesses.values()}
    foreign = sorted(w for w, key in policy["witnesses"].items() if key not in ours)
    log(
        f"policy  {len(policy['witnesses'])} witness line(s), quorum {policy['quorum']}"
        + (f"; ignored, not witnesses in the ledger: {', '.join(foreign)}" if foreign else "")
    )

    # 6. Inclusion proofs and single entries, a deterministic spread.
    rng = random.Random(20240611)
    picks = {0, 1, n - 1, n // 2} | {rng.randrange(n) for _ in range(10)}
    picks = sorted(i for i in picks if 0 <= i < n)
    for i in picks:
        what = f"inclusion proof index={i} size={n}"
        obj = c.get_json(p + "/proof/inclusion", {"index": i, "size": n})
        proof = _proof_hashes(obj, what)
        if obj.get("index") != i or obj.get("size") != n:
            raise CheckError(f"{what}: response echoes {obj.get('index')}/{obj.get('size')}")
        if not verify_inclusion(i, n, leaves[i], proof, root):
            raise CheckError(f"{what}: does not verify against the checkpoint root")
        single = c.get(f"{p}/entries/{i}")
        if single != entries[i]:
            raise CheckError(f"entry {i}: /entries/{i} bytes differ from the range's")
    log(f"inclusion {len(picks)} proofs ok, single entries match: {picks}")

    # 7. Consistency proofs from a spread of older sizes.
    olds = sorted({m for m in (1, 2, 3, n // 3, n - 1, n) if 1 <= m <= n})
    for m in olds:
        what = f"consistency proof from={m} to={n}"
        obj = c.get_json(p + "/proof/consistency", {"from": m, "to": n})
        proof = _proof_hashes(obj, what)
        if obj.get("from") != m or obj.get("to") != n:
            raise CheckError(f"{what}: response echoes {obj.get('from')}/{obj.get('to')}")
        if not verify_consistency(m, n, mth(leaves[:m]), root, proof):
            raise CheckError(f"{what}: does not verify")
    log(f"consistency {len(olds)} proofs ok: from {olds} to {n}")
    log("OK")


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: tlogcheck.py BASE_URL SLUG", file=sys.stderr)
        return 2
    try:
        run(argv[1], argv[2])
    except CheckError as e:
        print(f"FAIL: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
