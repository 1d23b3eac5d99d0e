"""Derive the README's scheduler-extender demo body from a body a real kube-scheduler sent.

The recorded body (Examples/data/kubernetes/nodecache-false.raw.filter.pod-raw-false.json) has fake nodes
labelled `sovereign.dev/site: a` / `b`, which name no site of a fleet. This keeps its shape (a
v1.Pod and a v1.NodeList as kube-scheduler v1.20.2 serialises them) and changes only what the demo needs:
the pod asks for one NVIDIA GPU and says it reads Kenyan clinical notes, and the four nodes are placed in
the East-African example's pools in Kenya, Rwanda and Tanzania.

    python3 Examples/tools/demo_extender_body.py   # rewrites Examples/data/kubernetes/demo.filter.ke-clinical-notes.json
"""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "Examples/data/kubernetes/nodecache-false.raw.filter.pod-raw-false.json"
TARGET = ROOT / "Examples/data/kubernetes/demo.filter.ke-clinical-notes.json"

# (node name, site, pool) in Examples/east-africa.
PLACES = [
    ("nairobi-a100-01", "nairobi-1", "a100"),
    ("mombasa-l4-01", "mombasa-1", "l4"),
    ("kigali-a100-01", "kigali-1", "a100"),
    ("dar-ascend-01", "dar-1", "ascend"),
]


def main() -> None:
    body = json.loads(SOURCE.read_text())
    pod = body["Pod"]
    pod["metadata"]["name"] = "clinical-notes-finetune"
    pod["metadata"]["annotations"] = {
        "sovereign.dev/datasets": "ke-clinical-notes",
        "sovereign.dev/classification": "personal",
    }
    pod["metadata"].pop("managedFields", None)
    container = pod["spec"]["containers"][0]
    container["resources"] = {"requests": {"cpu": "100m", "nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "1"}}
    template = body["Nodes"]["items"][0]
    nodes = []
    for name, site, pool in PLACES:
        node = json.loads(json.dumps(template))
        node["metadata"]["name"] = name
        node["metadata"].pop("managedFields", None)
        node["metadata"]["labels"] = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "sovereign.dev/site": site,
            "sovereign.dev/pool": pool,
        }
        nodes.append(node)
    body["Nodes"]["items"] = nodes
    TARGET.write_text(json.dumps(body, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
