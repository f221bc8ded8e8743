/** A sender rotating keys sends a few signatures; more than this is not a sender, so nothing is accepted. */
const MAX_SIGNATURES = 8;

/**
 * Separators between signatures: commas or whitespace, except the single space OpenSSL prints
 * after `)=` (`SHA2-256(stdin)= <hex>`), which belongs to the signature.
 */
const SEPARATORS = /(?<!\)=)[\s,]+/;

/**
 * One signature: `sha256=` then either the bare digest or what `openssl dgst -sha256 -hmac` prints,
 * so the spec's recipe (`sha256=$(… | openssl dgst …)`) works verbatim: OpenSSL 3 prints
 * `SHA2-256(stdin)= <hex>`, 1.1 prints `(stdin)= <hex>`, others `SHA256(stdin)=` or `HMAC-SHA256(stdin)=`.
 * The digest must be exactly 64 hex digits; a label naming another algorithm is rejected.
 */
const SIGNATURE = /^sha256=(?:(?:HMAC-)?(?:SHA2-256|SHA256)?\(stdin\)= ?)?([0-9a-f]{64})$/i;

/**
 * The SHA-256 digests presented in a signature header (`X-Webhook-Signature`, `X-Hub-Signature-256`).
 * Malformed entries are skipped; an empty result means no candidate can match.
 */
export function parseSignatureHeader(header: string | undefined): Buffer[] {
  return parseDigests(header, SEPARATORS, SIGNATURE, 'hex');
}

const BARE_HEX_DIGEST = /^[0-9a-f]{64}$/i;

/**
 * Why a signature header yielded no digest to compare, for the sender: missing, too many
 * entries, a digest without its `sha256=` prefix, or not the expected form. Undefined when it did.
 */
export function signatureHeaderProblem(header: string | undefined, name: string, form: string, digests: readonly Buffer[]): string | undefined {
  if (digests.length > 0) return undefined;
  if (header === undefined || header.trim() === '') return `the ${name} header is missing`;
  const entries = header.trim().split(/[\s,]+/, MAX_SIGNATURES + 1);
  if (entries.length > MAX_SIGNATURES) return `${name} holds more than ${MAX_SIGNATURES} signatures`;
  if (entries.some((entry) => BARE_HEX_DIGEST.test(entry))) return `${name} needs the sha256= prefix (${form})`;
  return `${name} is not ${form}`;
}

/**
 * Splits a header into at most MAX_SIGNATURES entries and decodes group 1 of each entry that
 * matches `entry`. Shared by every profile that accepts several signatures.
 */
export function parseDigests(header: string | undefined, separators: RegExp, entry: RegExp, encoding: 'hex' | 'base64'): Buffer[] {
  if (header === undefined) return [];
  const entries = header.trim().split(separators, MAX_SIGNATURES + 1);
  if (entries.length > MAX_SIGNATURES) return [];
  const digests: Buffer[] = [];
  for (const candidate of entries) {
    const encoded = entry.exec(candidate)?.[1];
    if (encoded !== undefined) digests.push(Buffer.from(encoded, encoding));
  }
  return digests;
}
