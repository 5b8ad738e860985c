/**
 * One HTTP exchange with the broker: bearer authentication, a per-request timeout, and the
 * mapping of every failure onto {@link StintApiError} or {@link StintNetworkError}.
 */
import { ERROR_REGISTRY, type ErrorCode } from '../core/errors.js';
import { StintApiError, StintNetworkError } from './errors.js';
import type { ProblemJson } from './types.js';

/** Where the caller's identity token comes from: a fixed string, or a function asked before every request. */
export type TokenSource = string | (() => Promise<string>);

/** Transport settings shared by every request of one client. */
export interface Transport {
  readonly baseUrl: URL;
  readonly token: TokenSource;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
}

/** Per-call options every client method accepts. */
export interface RequestOptions {
  /** Aborts the call; the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** One request. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  /** Path below the base URL, already percent-encoded (`/v1/grants/abc`). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** JSON body. */
  readonly json?: unknown;
  /** `application/x-www-form-urlencoded` body (RFC 7662 introspection). */
  readonly form?: Readonly<Record<string, string>>;
  /** False for public endpoints (JWKS): no Authorization header is sent. */
  readonly auth?: boolean;
}

/** Builds the absolute URL of `path` under the base URL (keeping any base path prefix). */
export function endpointUrl(baseUrl: URL, path: string, query?: HttpRequest['query']): URL {
  const base = baseUrl.href.endsWith('/') ? baseUrl.href : `${baseUrl.href}/`;
  const url = new URL(path.replace(/^\//, ''), base);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

/** Sends one request and returns the parsed JSON answer. */
export async function send<T>(transport: Transport, req: HttpRequest, options: RequestOptions = {}): Promise<T> {
  const url = endpointUrl(transport.baseUrl, req.path, req.query);
  const shown = url.href;
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  if (req.auth !== false) {
    const token = typeof transport.token === 'string' ? transport.token : await transport.token();
    headers.authorization = `Bearer ${token}`;
  }
  let body: string | undefined;
  if (req.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(req.json);
  } else if (req.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams({ ...req.form }).toString();
  }

  const timeout = AbortSignal.timeout(transport.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let status: number;
  let statusText: string;
  let contentType: string;
  let text: string;
  try {
    const res = await transport.fetch(url, { method: req.method, headers, ...(body !== undefined ? { body } : {}), signal, redirect: 'error' });
    status = res.status;
    statusText = res.statusText;
    contentType = res.headers.get('content-type') ?? '';
    text = await res.text();
  } catch (e) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (timeout.aborted) {
      throw new StintNetworkError(`no answer from ${req.method} ${shown} within ${transport.timeoutMs} ms`, shown, { timedOut: true, cause: e });
    }
    throw new StintNetworkError(`cannot reach ${req.method} ${shown}: ${networkReason(e)}`, shown, { timedOut: false, cause: e });
  }

  const parsed = parseJson(text);
  if (status >= 200 && status < 300) {
    if (parsed === undefined) {
      throw new StintApiError(syntheticProblem(status, 'internal', `${req.method} ${shown} answered ${status} with a body that is not JSON`));
    }
    return parsed as T;
  }
  throw new StintApiError(toProblem(status, statusText, contentType, parsed, `${req.method} ${shown}`));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The low-level reason of a fetch failure (`connect ECONNREFUSED 127.0.0.1:8080`), never a header. */
function networkReason(e: unknown): string {
  const cause = (e as { cause?: unknown } | undefined)?.cause;
  const errno = cause as { code?: unknown; message?: unknown } | undefined;
  if (errno && typeof errno.message === 'string' && errno.message !== '') return errno.message;
  if (errno && typeof errno.code === 'string') return errno.code;
  return e instanceof Error ? e.message : String(e);
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_REGISTRY, value);
}

/** Registry code that best describes an HTTP status when the answer carries none we know. */
function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'invalid_request';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 409:
      return 'conflict';
    case 413:
      return 'body_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    case 502:
    case 503:
    case 504:
      return 'not_ready';
    default:
      return 'internal';
  }
}

function syntheticProblem(status: number, code: ErrorCode, detail: string, title?: string): ProblemJson {
  return { type: 'about:blank', title: title || ERROR_REGISTRY[code].title, status, detail, code };
}

/**
 * Reads an error answer. A problem document with a known `code` is taken as is; one with an
 * unknown code (a newer broker) keeps its members but gets the code its status implies.
 */
function toProblem(status: number, statusText: string, contentType: string, parsed: unknown, what: string): ProblemJson {
  const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  if (isObject && (contentType.includes('application/problem+json') || 'code' in parsed)) {
    const doc = parsed as Record<string, unknown>;
    const code = isErrorCode(doc.code) ? doc.code : codeForStatus(status);
    return {
      ...doc,
      type: typeof doc.type === 'string' ? doc.type : 'about:blank',
      title: typeof doc.title === 'string' ? doc.title : ERROR_REGISTRY[code].title,
      status,
      detail: typeof doc.detail === 'string' ? doc.detail : ERROR_REGISTRY[code].title,
      code,
    };
  }
  const synthetic = syntheticProblem(status, codeForStatus(status), `${what} answered HTTP ${status}${statusText ? ` ${statusText}` : ''}`, statusText);
  // An OAuth error answer (RFC 6749 section 5.2) keeps its members for the caller to read.
  return isObject && typeof (parsed as Record<string, unknown>).error === 'string' ? { ...(parsed as Record<string, unknown>), ...synthetic } : synthetic;
}
