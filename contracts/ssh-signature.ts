/**
 * SSH signatures as `ssh-keygen -Y sign` makes them (OpenSSH PROTOCOL.sshsig), verified in pure JavaScript so
 * the workflow can verify an approval itself, deterministically and on replay, with no I/O and no Node crypto.
 * Only ed25519 keys: they are what `ssh-keygen -t ed25519` makes and the one key type whose verification is a
 * pure function of key, message and signature (no padding modes, no curves to choose).
 *
 * The cryptography is @noble/curves (audited, no dependencies besides @noble/hashes); this module only reads the
 * SSH wire format: length-prefixed strings, the SSHSIG blob and the data that is really signed.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2';

export const ED25519_KEY_TYPE = 'ssh-ed25519';
const MAGIC = 'SSHSIG';
/** Armored signatures are about 300 characters; anything much longer is not one. */
export const MAX_ARMORED_SIGNATURE_LENGTH = 2000;

export interface SshPublicKey {
  /** "ssh-ed25519 <base64>", without the comment: the form keys are compared and recorded in. */
  canonical: string;
  /** As `ssh-keygen -l` prints it: SHA256:<base64 without padding>. */
  fingerprint: string;
  key: Uint8Array;
}

export type KeyParse = { ok: true; key: SshPublicKey } | { ok: false; why: string };

export type SignatureCheck =
  | { ok: true; key: SshPublicKey }
  | { ok: false; why: string; code: 'malformed' | 'wrong_namespace' | 'unknown_key' | 'bad_signature' };

// ---- encoding ------------------------------------------------------------------------------------------------

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX: Record<string, number> = Object.fromEntries([...B64].map((c, i) => [c, i]));

/** Strict base64 (whitespace ignored, padding optional); null when anything else is in it. */
export function decodeBase64(text: string): Uint8Array | null {
  const s = text.replace(/[\s]+/g, '').replace(/={1,2}$/, '');
  if (s.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (const c of s) {
    const v = B64_INDEX[c];
    if (v === undefined) return null;
    value = (value << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  return out;
}

export function encodeBase64(bytes: Uint8Array, pad = true): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = [18, 12, 6, 0].map((shift) => B64[(n >> shift) & 63]!);
    const keep = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    out += chars.slice(0, keep).join('') + (pad ? '='.repeat(4 - keep) : '');
  }
  return out;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const ascii = (b: Uint8Array): string => String.fromCharCode(...b);

/** Reads SSH wire-format values; any overrun throws, so a truncated blob is refused, never half-read. */
class WireReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  raw(n: number): Uint8Array {
    if (n < 0 || this.at + n > this.bytes.length) throw new Error('truncated');
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  uint32(): number {
    const b = this.raw(4);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }
  string(): Uint8Array {
    return this.raw(this.uint32());
  }
  done(): boolean {
    return this.at === this.bytes.length;
  }
}

function wireString(value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + value.length);
  new DataView(out.buffer).setUint32(0, value.length);
  out.set(value, 4);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- keys ----------------------------------------------------------------------------------------------------

function keyFromBlob(blob: Uint8Array): KeyParse {
  try {
    const r = new WireReader(blob);
    const type = ascii(r.string());
    if (type !== ED25519_KEY_TYPE)
      return { ok: false, why: `key type ${type.slice(0, 40)} is not supported (use ed25519)` };
    const key = r.string();
    if (key.length !== 32 || !r.done()) return { ok: false, why: 'not a valid ed25519 public key' };
    const canonical = `${ED25519_KEY_TYPE} ${encodeBase64(blob)}`;
    return { ok: true, key: { canonical, fingerprint: `SHA256:${encodeBase64(sha256(blob), false)}`, key } };
  } catch {
    return { ok: false, why: 'not a valid SSH public key' };
  }
}

/** Parses a public key as ssh-keygen writes it: "ssh-ed25519 AAAA... comment". */
export function parseSshPublicKey(line: string): KeyParse {
  const [type, data] = line.trim().split(/\s+/);
  if (!type || !data) return { ok: false, why: 'expected "ssh-ed25519 <base64> [comment]"' };
  if (type !== ED25519_KEY_TYPE)
    return { ok: false, why: `key type ${type.slice(0, 40)} is not supported (use ed25519)` };
  const blob = decodeBase64(data);
  if (!blob) return { ok: false, why: 'the key is not valid base64' };
  return keyFromBlob(blob);
}

// ---- signatures ----------------------------------------------------------------------------------------------

const ARMOR = /^\s*-----BEGIN SSH SIGNATURE-----([A-Za-z0-9+/=\s]*)-----END SSH SIGNATURE-----\s*$/;

/**
 * Verifies an armored SSH signature over `message` in `namespace`, made by one of `keys` (canonical public keys).
 * `message` may be given in several accepted forms (with and without a final newline): the first that verifies
 * counts. Never throws.
 */
export function verifySshSignature(args: {
  armored: string;
  messages: readonly string[];
  namespace: string;
  keys: readonly string[];
}): SignatureCheck {
  const malformed = (why: string): SignatureCheck => ({ ok: false, why, code: 'malformed' });
  if (args.armored.length > MAX_ARMORED_SIGNATURE_LENGTH) return malformed('the signature is too long');
  const body = ARMOR.exec(args.armored)?.[1];
  if (body === undefined) return malformed('not an armored SSH signature (-----BEGIN SSH SIGNATURE-----)');
  const blob = decodeBase64(body);
  if (!blob) return malformed('the signature is not valid base64');
  let parts: {
    publicKey: Uint8Array;
    namespace: string;
    reserved: Uint8Array;
    hash: string;
    sig: Uint8Array;
  };
  try {
    const r = new WireReader(blob);
    if (ascii(r.raw(6)) !== MAGIC) return malformed('not an SSHSIG signature');
    if (r.uint32() !== 1) return malformed('unsupported SSHSIG version');
    const publicKey = r.string();
    const namespace = new TextDecoder().decode(r.string());
    const reserved = r.string();
    const hash = ascii(r.string());
    const sigBlob = r.string();
    if (!r.done()) return malformed('trailing data after the signature');
    const s = new WireReader(sigBlob);
    const sigType = ascii(s.string());
    if (sigType !== ED25519_KEY_TYPE)
      return malformed(`signature type ${sigType.slice(0, 40)} is not supported`);
    const sig = s.string();
    if (sig.length !== 64 || !s.done()) return malformed('not an ed25519 signature');
    parts = { publicKey, namespace, reserved, hash, sig };
  } catch {
    return malformed('the signature is truncated');
  }
  if (parts.namespace !== args.namespace)
    return {
      ok: false,
      code: 'wrong_namespace',
      why: `signed for namespace "${parts.namespace.slice(0, 40)}", not "${args.namespace}"`,
    };
  const digest = parts.hash === 'sha512' ? sha512 : parts.hash === 'sha256' ? sha256 : undefined;
  if (!digest) return malformed(`hash algorithm ${parts.hash.slice(0, 20)} is not supported`);
  const key = keyFromBlob(parts.publicKey);
  if (!key.ok) return malformed(key.why);
  if (!args.keys.includes(key.key.canonical))
    return {
      ok: false,
      code: 'unknown_key',
      why: `signed with a key not registered for this person (${key.key.fingerprint})`,
    };
  for (const message of args.messages) {
    const signed = concat(
      utf8(MAGIC),
      wireString(utf8(parts.namespace)),
      wireString(parts.reserved),
      wireString(utf8(parts.hash)),
      wireString(digest(utf8(message))),
    );
    try {
      if (ed25519.verify(parts.sig, signed, key.key.key, { zip215: false }))
        return { ok: true, key: key.key };
    } catch {
      // A signature that does not even decode is as wrong as one that does not verify.
    }
  }
  return { ok: false, code: 'bad_signature', why: 'the signature does not match the statement' };
}
