/**
 * RFC 9457 problem details. Every error response is `application/problem+json` with a stable
 * `code` from the registry in src/core/errors.ts. Unexpected errors become `internal` with a
 * generic detail: the cause goes to the log only.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_REGISTRY, StintError, type ErrorCode } from '../core/errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  [extra: string]: unknown;
}

/** Builds the problem document for a code. */
export function problemFor(code: ErrorCode, detail?: string, extra?: Record<string, unknown>): Problem {
  const entry = ERROR_REGISTRY[code];
  return { type: `urn:stint:problem:${code}`, title: entry.title, status: entry.status, detail: detail ?? entry.title, code, ...extra };
}

/** Maps fastify's own errors (parsing, validation, limits) onto registry codes. */
export function toStintError(error: unknown): StintError {
  if (error instanceof StintError) return error;
  const fe = error as FastifyError & { validation?: { instancePath?: string; message?: string; params?: Record<string, unknown> }[] };
  if (fe && typeof fe === 'object') {
    if (Array.isArray(fe.validation)) {
      const errors = fe.validation.map((v) => describeValidation(v, fe.validationContext));
      // Bad query strings and path parameters are malformed requests; bad bodies are schema misses.
      const code = fe.validationContext === 'body' ? 'invalid_body' : 'invalid_request';
      return new StintError(code, errors.join('; '), { extra: { errors } });
    }
    switch (fe.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return new StintError('body_too_large', 'request body exceeds the configured limit');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return new StintError('unsupported_media_type', 'send application/json');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return new StintError('invalid_request', 'the JSON body is empty');
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return new StintError('invalid_request', 'content-length does not match the body');
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_CONTENT_TYPE':
        return new StintError('invalid_request', 'the body is not valid JSON');
    }
    if (fe instanceof SyntaxError || fe.statusCode === 400) return new StintError('invalid_request', 'the request could not be parsed');
    if (fe.statusCode === 413) return new StintError('body_too_large', 'request body exceeds the configured limit');
    if (fe.statusCode === 415) return new StintError('unsupported_media_type', 'unsupported content type');
  }
  return new StintError('internal', 'internal error', { cause: error });
}

function describeValidation(v: { instancePath?: string; message?: string; params?: Record<string, unknown>; keyword?: string }, where?: string): string {
  const path = `${where ?? 'body'}${(v.instancePath ?? '').replace(/\//g, '.')}`;
  if (v.keyword === 'additionalProperties' && v.params?.additionalProperty !== undefined) {
    return `${path}: unknown field "${String(v.params.additionalProperty)}"`;
  }
  return `${path}: ${v.message ?? 'is invalid'}`;
}

/** Sends a problem response. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, err: StintError): FastifyReply {
  const body = problemFor(err.code, err.detail, { ...(err.extra ?? {}), instance: request.url.split('?')[0] });
  if (err.code === 'unauthenticated') {
    // RFC 6750 section 3: tell the client how to authenticate, without saying what was wrong.
    void reply.header('www-authenticate', 'Bearer realm="stint", error="invalid_token"');
  }
  return reply.status(err.status).type('application/problem+json').send(body);
}
