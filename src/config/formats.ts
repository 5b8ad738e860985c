/**
 * The custom string formats used by the config schema, each with the problem text shown when
 * a value does not match. Messages describe what is expected and never echo the value (a
 * secret pasted under the wrong key must not end up in a log).
 */
import { isIP } from 'node:net';
import { parseDuration } from '../core/duration.js';
import { isPrincipalId } from '../core/principal.js';
import { NAME_PATTERNS } from './schema.js';

interface ConfigFormat {
  readonly validate: (value: string) => boolean;
  /** Problem text when the value does not match. */
  readonly problem: string;
}

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const GROUP_NAME = new RegExp(NAME_PATTERNS.identifier);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** An absolute http(s) URL without credentials, query or fragment. */
function isPlainHttpUrl(value: string): boolean {
  const url = parseUrl(value);
  return (
    url !== undefined &&
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.username === '' &&
    url.password === '' &&
    url.search === '' &&
    url.hash === ''
  );
}

function isHumanId(value: string): boolean {
  return value.startsWith('human:') && isPrincipalId(value);
}

function isTimeZone(value: string): boolean {
  try {
    // Intl throws RangeError for a zone it does not know (IANA names and UTC offsets).
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** Format name -> validator and problem text. Registered with Ajv by validate.ts. */
export const CONFIG_FORMATS: Readonly<Record<string, ConfigFormat>> = {
  duration: {
    validate: (value) => parseDuration(value) !== undefined,
    problem: 'must be a duration such as 90s, 15m, 1h30m or 2d (more than 0, at most 366d)',
  },
  host: {
    validate: (value) => isIP(value) !== 0 || HOSTNAME.test(value),
    problem: 'must be a host name or an IP address',
  },
  'http-url': {
    validate: isPlainHttpUrl,
    problem: 'must be an absolute http(s) URL without credentials, query or fragment',
  },
  'jwks-url': {
    // Keys fetched over plain http could be swapped in transit; allow it only on this machine.
    validate: (value) => {
      const url = parseUrl(value);
      return isPlainHttpUrl(value) && url !== undefined && (url.protocol === 'https:' || LOOPBACK_HOSTS.has(url.hostname));
    },
    problem: 'must be an https URL (plain http only for localhost)',
  },
  'time-zone': {
    validate: isTimeZone,
    problem: 'must be an IANA time zone such as UTC or Europe/Paris',
  },
  'principal-id': {
    validate: isPrincipalId,
    problem: 'must be a principal id such as workload:deploy-bot or human:alice',
  },
  'human-id': {
    validate: isHumanId,
    problem: 'must be a human principal id such as human:alice',
  },
  'owner-ref': {
    validate: (value) => (value.startsWith('group:') ? GROUP_NAME.test(value.slice('group:'.length)) : isHumanId(value)),
    problem: 'must be group:<name> or human:<name>',
  },
};
