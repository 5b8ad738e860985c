/**
 * The comparable form of a DPoP `htu` (RFC 9449 section 4.3, step 9): the URI without query
 * and fragment, after RFC 3986 syntax-based normalisation (section 6.2.2: case of scheme and
 * host, percent-encoding, dot segments) and scheme-based normalisation (section 6.2.3: default
 * port, empty path as "/"). The WHATWG URL parser does all of that except decoding
 * percent-encoded unreserved characters, which is done here.
 */

/** RFC 3986 section 2.3 unreserved characters: their percent-encoded form means the same. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * `scheme://host[:port]/path` of an absolute http(s) URL, or undefined when `value` is not one
 * (relative, another scheme, or carrying user information, which an `htu` never needs).
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  return `${url.protocol}//${url.host}${normalizePercentEncoding(url.pathname)}`;
}

/** True when the two URIs name the same resource for DPoP purposes. */
export function htuMatches(proofHtu: string, requestUrl: string): boolean {
  const proof = normalizeHtu(proofHtu);
  return proof !== undefined && proof === normalizeHtu(requestUrl);
}

/** Decodes %XX of unreserved characters and upper-cases the hex digits of every other %XX. */
function normalizePercentEncoding(path: string): string {
  return path.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}
