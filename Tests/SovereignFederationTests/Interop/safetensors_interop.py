"""Cross-checks Sovereign's safetensors codec against Hugging Face's reference implementation.

Usage:
  safetensors_interop.py check DIR   # every DIR/*.safetensors written by Sovereign, with DIR/*.manifest
  safetensors_interop.py write DIR   # writes DIR/py_*.safetensors and their .manifest files for Sovereign

A manifest has one line per tensor: name, dtype, comma-separated shape, hex of the little-endian bytes,
separated by tabs; and optional lines "@meta<TAB>key<TAB>value".
"""

import json
import os
import struct
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save, save_file

DTYPES = {
    "BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "U16": np.uint16, "F16": np.float16,
    "I32": np.int32, "U32": np.uint32, "F32": np.float32, "F64": np.float64, "I64": np.int64, "U64": np.uint64,
}


def read_manifest(path):
    tensors, metadata = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f.read().splitlines():
            parts = line.split("\t")
            if parts[0] == "@meta":
                metadata[parts[1]] = parts[2]
                continue
            name, dtype, shape, data = parts
            dims = [int(d) for d in shape.split(",")] if shape else []
            tensors[name] = (dtype, dims, bytes.fromhex(data))
    return tensors, metadata


def raw_header(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8 : 8 + n]), blob[8 + n :], blob


def check(directory):
    checked = 0
    for entry in sorted(os.listdir(directory)):
        if not entry.endswith(".safetensors") or entry.startswith("py_"):
            continue
        path = os.path.join(directory, entry)
        expected, metadata = read_manifest(path[: -len(".safetensors")] + ".manifest")
        with safe_open(path, framework="numpy") as f:
            found_meta = f.metadata() or {}
        assert found_meta == metadata, f"{entry}: metadata {found_meta} != {metadata}"
        numpy_types = all(dtype in DTYPES for dtype, _, _ in expected.values())
        if numpy_types:
            loaded = load_file(path)
            assert set(loaded) == set(expected), f"{entry}: names {sorted(loaded)} != {sorted(expected)}"
            for name, (dtype, shape, data) in expected.items():
                array = loaded[name]
                assert array.dtype == np.dtype(DTYPES[dtype]), f"{entry}:{name}: dtype {array.dtype} != {dtype}"
                assert list(array.shape) == shape, f"{entry}:{name}: shape {array.shape} != {shape}"
                assert array.tobytes() == data, f"{entry}:{name}: bytes differ"
            if entry.startswith("reference_"):
                # Written in the reference order: the reference writer must produce the same bytes.
                with open(path, "rb") as f:
                    ours = f.read()
                theirs = save(loaded, metadata=metadata or None)
                assert ours == theirs, f"{entry}: bytes differ from safetensors.numpy.save\n{ours[:200]}\n{theirs[:200]}"
        else:
            # numpy has no bfloat16 or float8: check the header and bytes by hand.
            header, data_section, _ = raw_header(path)
            header.pop("__metadata__", None)
            assert set(header) == set(expected), f"{entry}: names differ"
            for name, (dtype, shape, data) in expected.items():
                info = header[name]
                begin, end = info["data_offsets"]
                assert info["dtype"] == dtype and info["shape"] == shape, f"{entry}:{name}: {info}"
                assert data_section[begin:end] == data, f"{entry}:{name}: bytes differ"
        checked += 1
    assert checked > 0, "no files checked"
    print(f"checked {checked} files")


def write_manifest(path, tensors, metadata):
    with open(path, "w", encoding="utf-8") as f:
        for key, value in (metadata or {}).items():
            f.write(f"@meta\t{key}\t{value}\n")
        for name, (dtype, array_bytes, shape) in tensors.items():
            f.write(f"{name}\t{dtype}\t{','.join(str(d) for d in shape)}\t{array_bytes.hex()}\n")


def write(directory):
    rng = np.random.default_rng(7)
    arrays = {
        "bool": rng.integers(0, 2, size=(3, 2)).astype(np.bool_),
        "u8": rng.integers(0, 256, size=(5,), dtype=np.uint8),
        "i8": rng.integers(-128, 128, size=(2, 3), dtype=np.int8),
        "i16": rng.integers(-(2**15), 2**15, size=(4,), dtype=np.int16),
        "u16": rng.integers(0, 2**16, size=(4,), dtype=np.uint16),
        "f16": np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 6e-8, np.inf, -np.inf, np.nan], dtype=np.float16),
        "i32": rng.integers(-(2**31), 2**31, size=(2, 2), dtype=np.int32),
        "u32": rng.integers(0, 2**32, size=(3,), dtype=np.uint32),
        "f32": np.array([[1.5, -1e-45, 3.4e38], [np.nan, np.inf, -0.0]], dtype=np.float32),
        "f64": np.array([np.pi, -1e-310, 1e300], dtype=np.float64),
        "i64": rng.integers(-(2**63), 2**63 - 1, size=(2,), dtype=np.int64),
        "u64": np.array([0, 2**64 - 1], dtype=np.uint64),
        "scalar": np.array(4.25, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "layer.0/ünïcode \"name\"": rng.standard_normal((2, 3)).astype(np.float32),
    }
    metadata = {"format": "np", "note": "Sovereign interop ✓"}
    save_file(arrays, os.path.join(directory, "py_all.safetensors"), metadata=metadata)
    reverse = {v: k for k, v in DTYPES.items()}
    manifest = {name: (reverse[a.dtype.type], a.tobytes(), list(a.shape)) for name, a in arrays.items()}
    write_manifest(os.path.join(directory, "py_all.manifest"), manifest, metadata)

    # bfloat16: numpy has none, so the tensor is written by hand in the reference layout.
    values = np.array([1.0, -2.0, 3.140625, 1e-40, np.inf, np.nan], dtype=np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    header = json.dumps(
        {"bf": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, len(bf16)]}}, separators=(",", ":")
    ).encode()
    header += b" " * ((8 - len(header) % 8) % 8)
    with open(os.path.join(directory, "py_bf16.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + bf16)
    write_manifest(os.path.join(directory, "py_bf16.manifest"), {"bf": ("BF16", bf16, [2, 3])}, None)
    print("wrote 2 files")


if __name__ == "__main__":
    {"check": check, "write": write}[sys.argv[1]](sys.argv[2])
