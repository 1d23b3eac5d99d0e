#!/usr/bin/env python3
"""Writes the seed corpora: small valid safetensors files (with Python's `safetensors`, plus hand-built
headers for dtypes numpy lacks) into corpus-safetensors/, and a few CSV files into corpus-csv/.
Run from Fuzz/: `python3 make-seeds.py`."""
import gzip
import json
import struct

import numpy as np
from safetensors.numpy import save

S = "corpus-safetensors/"


def write(name, data):
    with open(S + name, "wb") as f:
        f.write(data)


def raw(header, data):
    """A file from a header dict and data bytes, header padded with spaces to a multiple of 8."""
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


write("f32-metadata.safetensors", save(
    {"dense.weight": np.arange(6, dtype=np.float32).reshape(2, 3), "dense.bias": np.array([0.5, -1], np.float32)},
    metadata={"format": "pt", "round": "3"}))
write("f16-f64.safetensors", save(
    {"half": np.array([1, -2, np.inf, 6e-8], np.float16), "double": np.array([[1e300], [-0.0]], np.float64)}))
write("integers.safetensors", save({
    "u8": np.array([0, 255], np.uint8), "i8": np.array([-128], np.int8), "i16": np.array([7, -7], np.int16),
    "u16": np.array([65535], np.uint16), "i32": np.array([1, 2, 3], np.int32), "u32": np.array([4], np.uint32),
    "i64": np.array([-1], np.int64), "u64": np.array([2**63], np.uint64), "flag": np.array([True, False])}))
write("empty-and-scalar.safetensors", save(
    {"empty": np.zeros((0, 4), np.float32), "scalar": np.array(3.25, np.float32)}))
write("no-tensors.safetensors", save({}))
write("metadata-only.safetensors", raw({"__metadata__": {"k": "v", "\u00e9": "\u2603"}}, b""))
write("bf16-f8.safetensors", raw({
    "bf16": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]},
    "e5m2": {"dtype": "F8_E5M2", "shape": [2], "data_offsets": [4, 6]},
    "e4m3": {"dtype": "F8_E4M3", "shape": [1, 2], "data_offsets": [6, 8]},
}, b"\x80\x3f\x80\xff" + b"\x3c\x7c" + b"\x38\x7f"))
write("unaligned-extra-field.safetensors", raw({
    "a": {"dtype": "U8", "shape": [3], "data_offsets": [0, 3], "extra": [1, {"x": None}]},
    "b": {"dtype": "F32", "shape": [1], "data_offsets": [3, 7]},
}, b"\x01\x02\x03\x00\x00\x80\x3f"))

C = "corpus-csv/"
with open("../Examples/federated/data/ke.csv", "rb") as f:
    lines = f.read().splitlines(keepends=True)
open(C + "ke-head.csv", "wb").write(b"".join(lines[:4]))
header = b",".join(b"px%d" % i for i in range(64)) + b",digit\n"
open(C + "header.csv", "wb").write(header + b"".join(lines[4:7]))
open(C + "spaces-crlf-blank.csv", "wb").write(b"a, b ,label\r\n 1.5e3 , -0.25 , 2\r\n\r\n0x1p3,.5,0\r\n")
open(C + "ke-head.csv.gz", "wb").write(gzip.compress(b"".join(lines[:3]), mtime=0))
