/**
 * A JSON-safe view of the configuration for `stint config show`: plain objects and arrays,
 * every Secret replaced by its label (`[secret env:DATABASE_URL]`), so the output can be
 * printed or attached to a bug report without leaking a credential.
 */
import { isSecret } from './secret.js';
import type { StintConfig } from './types.js';

/** Returns a secret-free deep copy of `config`. */
export function redactConfig(config: StintConfig): unknown {
  return redact(config);
}

function redact(value: unknown): unknown {
  if (isSecret(value)) return String(value);
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redact(item)]));
  }
  return value;
}
