#!/usr/bin/env python3
"""An independent checker for SovereignLedger's tests, written from the specifications alone.

- RFC 9162 section 2.1.1 (MTH), 2.1.3.2 (verifying an inclusion proof) and 2.1.4.2 (verifying a
  consistency proof), step by step as the RFC words them.
- c2sp.org/signed-note with Ed25519 keys (key ID, verifier key format, signature lines), verified
  with the `cryptography` package's Ed25519.

Reads one JSON batch on stdin and prints one JSON object with a list of booleans per kind of case,
in the order given:

    {"inclusion":   [{"leaf": hex, "index": int, "size": int, "proof": [hex], "root": hex}],
     "consistency": [{"first": int, "second": int, "proof": [hex], "first_hash": hex, "second_hash": hex}],
     "roots":       [{"leaves": [hex leaf hashes], "root": hex}],
     "notes":       [{"vkey": str, "note": str}]}
  ->
    {"inclusion": [bool], "consistency": [bool], "roots": [bool], "notes": [bool], "ran": int}

Uses only the standard library, plus `cryptography` for the notes.
"""

import base64
import binascii
import hashlib
import json
import sys


def HASH(data):
    return hashlib.sha256(data).digest()


def node(left, right):
    return HASH(b"\x01" + left + right)


def mth(leaf_hashes):
    """MTH over leaf hashes (RFC 9162 2.1.1), recursively, split at the largest power of two < n."""
    n = len(leaf_hashes)
    if n == 0:
        return HASH(b"")
    if n == 1:
        return leaf_hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node(mth(leaf_hashes[:k]), mth(leaf_hashes[k:]))


def verify_inclusion(leaf_hash, leaf_index, tree_size, inclusion_path, root_hash):
    """RFC 9162 2.1.3.2."""
    # 1. Compare leaf_index from the inclusion_proof_v2 structure against tree_size. If leaf_index
    #    is greater than or equal to tree_size, then fail the proof verification.
    if leaf_index < 0 or leaf_index >= tree_size:
        return False
    # 2. Set fn to leaf_index and sn to tree_size - 1.
    fn = leaf_index
    sn = tree_size - 1
    # 3. Set r to hash.
    r = leaf_hash
    # 4. For each value p in the inclusion_path array:
    for p in inclusion_path:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 == 1 or fn == sn:
            # 1. Set r to HASH(0x01 || p || r).
            r = node(p, r)
            # 2. If LSB(fn) is not set, then right-shift both fn and sn equally until either
            #    LSB(fn) is set or fn is 0.
            if fn & 1 == 0:
                while not (fn & 1 == 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        # Otherwise: Set r to HASH(0x01 || r || p).
        else:
            r = node(r, p)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 5. Compare sn to 0. Compare r against the root_hash. If sn is equal to 0 and r and the
    #    root_hash are equal, then the log has proven the inclusion of hash.
    return sn == 0 and r == root_hash


def verify_consistency(first, second, consistency_path, first_hash, second_hash):
    """RFC 9162 2.1.4.2; equal sizes decided directly, and nothing from the empty tree (it checks nothing)."""
    if first <= 0 or first > second:
        return False
    if first == second:
        return len(consistency_path) == 0 and first_hash == second_hash
    path = list(consistency_path)
    # 1. If consistency_path is an empty array, stop and fail the proof verification.
    if not path:
        return False
    # 2. If first is an exact power of 2, then prepend first_hash to the consistency_path array.
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    # 3. Set fn to first - 1 and sn to second - 1.
    fn = first - 1
    sn = second - 1
    # 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
    while fn & 1 == 1:
        fn >>= 1
        sn >>= 1
    # 5. Set both fr and sr to the first value in the consistency_path array.
    fr = path[0]
    sr = path[0]
    # 6. For each subsequent value c in the consistency_path array:
    for c in path[1:]:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 == 1 or fn == sn:
            # 1. Set fr to HASH(0x01 || c || fr). Set sr to HASH(0x01 || c || sr).
            fr = node(c, fr)
            sr = node(c, sr)
            # 2. If LSB(fn) is not set, then right-shift both fn and sn equally until either
            #    LSB(fn) is set or fn is 0.
            if fn & 1 == 0:
                while not (fn & 1 == 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        # Otherwise: Set sr to HASH(0x01 || sr || c).
        else:
            sr = node(sr, c)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 7. Verify that fr equals first_hash, sr equals second_hash, and sn is 0.
    return fr == first_hash and sr == second_hash and sn == 0


def b64decode_strict(text):
    data = base64.b64decode(text, validate=True)
    if base64.b64encode(data).decode("ascii") != text:
        raise ValueError("non-canonical base64")
    return data


def key_id(name, key_with_alg):
    return HASH(name.encode("utf-8") + b"\n" + key_with_alg)[:4]


def verify_note(vkey, note):
    """c2sp.org/signed-note: check the vkey's key ID, find the line for (name, key ID), verify it."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        name, id_hex, key_b64 = vkey.split("+", 2)
        key = b64decode_strict(key_b64)
        if len(id_hex) != 8 or key[:1] != b"\x01" or len(key) != 33:
            return False
        if key_id(name, key) != bytes.fromhex(id_hex):
            return False
        public = Ed25519PublicKey.from_public_bytes(key[1:])
        if any(ord(c) < 0x20 and c != "\n" for c in note):
            return False
        split = note.rfind("\n\n")
        if split < 0:
            return False
        body, block = note[: split + 1], note[split + 2 :]
        if not block.endswith("\n"):
            return False
        for line in block[:-1].split("\n"):
            if not line.startswith("\u2014 "):
                return False
            line_name, _, sig_b64 = line[2:].partition(" ")
            raw = b64decode_strict(sig_b64)
            if len(raw) < 5:
                return False
            if line_name == name and raw[:4] == key_id(name, key):
                try:
                    public.verify(raw[4:], body.encode("utf-8"))
                    return True
                except InvalidSignature:
                    return False
        return False
    except (ValueError, binascii.Error):
        return False


def h(text):
    return bytes.fromhex(text)


def main():
    batch = json.load(sys.stdin)
    result = {"inclusion": [], "consistency": [], "roots": [], "notes": []}
    for case in batch.get("inclusion", []):
        result["inclusion"].append(
            verify_inclusion(h(case["leaf"]), case["index"], case["size"], [h(p) for p in case["proof"]], h(case["root"]))
        )
    for case in batch.get("consistency", []):
        result["consistency"].append(
            verify_consistency(
                case["first"], case["second"], [h(p) for p in case["proof"]], h(case["first_hash"]), h(case["second_hash"])
            )
        )
    for case in batch.get("roots", []):
        result["roots"].append(mth([h(leaf) for leaf in case["leaves"]]) == h(case["root"]))
    for case in batch.get("notes", []):
        result["notes"].append(verify_note(case["vkey"], case["note"]))
    result["ran"] = sum(len(v) for v in result.values())
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
