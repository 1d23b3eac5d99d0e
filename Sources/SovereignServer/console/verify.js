// Verifying a ledger entry in the browser, as `sovereign ledger verify` does on the server's side:
// the entry's RFC 8785 canonical JSON hashes to its leaf (SHA-256 of 0x00 ‖ entry), the RFC 9162 inclusion
// proof leads from that leaf to the root of a checkpoint, and the checkpoint (a C2SP signed note) carries
// an Ed25519 signature by the log's key. Only WebCrypto is trusted: every hash is computed here.

const encoder = new TextEncoder();

// RFC 8785: ECMAScript's own number and string serialisation, object keys in UTF-16 code unit order.
export function canonical(value) {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(",")}}`;
}

async function sha256(...parts) {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const message = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) { message.set(part, offset); offset += part.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", message));
}

export const leafHash = (entry) => sha256(Uint8Array.of(0), encoder.encode(canonical(entry)));
const nodeHash = (left, right) => sha256(Uint8Array.of(1), left, right);

export function fromHex(text) {
  if (!/^([0-9a-f]{2})*$/.test(text)) throw new Error(`expected lowercase hex, found "${text.slice(0, 20)}"`);
  return Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

export const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

function fromBase64(text) {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

const equal = (a, b) => a.length === b.length && a.every((byte, i) => byte === b[i]);

// RFC 9162 §2.1.3.2, step by step (the server's MerkleVerifier.verifyInclusion).
export async function rootFromInclusion(leaf, index, size, proof) {
  if (!(index >= 0 && size > 0 && index < size)) throw new Error(`index ${index} is outside a tree of ${size}`);
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) throw new Error("the proof is longer than the tree is deep");
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new Error("the proof is shorter than the tree is deep");
  return r;
}

// A C2SP signed note: the body (origin, size, root), a blank line, then "— name base64(keyID ‖ signature)".
export function parseCheckpoint(note) {
  const split = note.indexOf("\n\n");
  if (split < 0) throw new Error("the checkpoint has no signature block");
  const body = note.slice(0, split + 1);
  const lines = body.slice(0, -1).split("\n");
  if (lines.length !== 3) throw new Error(`expected 3 checkpoint lines, found ${lines.length}`);
  const signatures = note.slice(split + 2).split("\n").filter((line) => line !== "").map((line) => {
    const match = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!match) throw new Error(`expected a signature line, found "${line.slice(0, 40)}"`);
    return { name: match[1], bytes: fromBase64(match[2]) };
  });
  return { body, origin: lines[0], size: Number(lines[1]), root: fromBase64(lines[2]), signatures };
}

// A verifier key `name+keyID+base64(0x01 ‖ public key)`, checked against its own key ID.
export async function parseVerifierKey(text) {
  // The key's base64 may hold "+" too: only the first two separate the fields.
  const [name, id, ...rest] = text.trim().split("+");
  const key = rest.join("+");
  const raw = fromBase64(key ?? "");
  if (!name || !/^[0-9a-f]{8}$/.test(id ?? "") || raw.length !== 33 || raw[0] !== 1) {
    throw new Error("expected a verifier key name+keyID+key (Ed25519)");
  }
  const digest = await sha256(encoder.encode(name), Uint8Array.of(10), raw);
  if (toHex(digest.slice(0, 4)) !== id) throw new Error("the verifier key's ID does not match its name and key");
  return { name, id: fromHex(id), publicKey: raw.slice(1) };
}

export async function checkSignature(checkpoint, key) {
  const signature = checkpoint.signatures.find((s) => s.name === key.name && equal(s.bytes.slice(0, 4), key.id));
  if (!signature) throw new Error(`no signature by ${key.name} on the checkpoint`);
  const publicKey = await crypto.subtle.importKey("raw", key.publicKey, { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, publicKey, signature.bytes.slice(4), encoder.encode(checkpoint.body));
}

// Every check, each as {what, ok, detail}; the entry is verified when all hold.
export async function verifyEntry(item, note, verifierKey, proof) {
  const checks = [];
  const check = async (what, test) => {
    try {
      const detail = await test();
      checks.push({ what, ok: true, detail });
    } catch (error) {
      checks.push({ what, ok: false, detail: error.message });
    }
  };
  const leaf = await leafHash(item.entry);
  await check("the entry hashes to its leaf", () => {
    if (toHex(leaf) !== item.leafHash) throw new Error(`computed ${toHex(leaf)}, the server says ${item.leafHash}`);
    return toHex(leaf);
  });
  const checkpoint = parseCheckpoint(note);
  await check("the checkpoint is signed by the log's key (Ed25519)", async () => {
    const key = await parseVerifierKey(verifierKey);
    if (!(await checkSignature(checkpoint, key))) throw new Error("the signature does not verify");
    return `${checkpoint.origin}, size ${checkpoint.size}, key ${key.name}`;
  });
  await check(`the inclusion proof leads to the checkpoint's root`, async () => {
    const path = proof.proof.map(fromHex);
    const root = await rootFromInclusion(leaf, item.sequence, checkpoint.size, path);
    if (!equal(root, checkpoint.root)) throw new Error(`computed root ${toHex(root)} is not the checkpoint's ${toHex(checkpoint.root)}`);
    return `root ${toHex(root)} from ${path.length} hashes`;
  });
  return { ok: checks.every((c) => c.ok), checks, size: checkpoint.size };
}
