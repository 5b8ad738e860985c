/**
 * The configuration loader: one `stint.yaml`, validated against one JSON schema, resolved into
 * a deeply frozen {@link StintConfig}. See docs/configuration.md.
 */
export type * from './types.js';
export { loadConfig, parseConfig } from './load.js';
export { redactConfig } from './redact.js';
export { isSecret, isSecretRef, makeSecret, resolveSecretRef } from './secret.js';
export { ALLOWED_ALGORITHMS, CONNECTOR_KINDS, configJsonSchema } from './schema.js';
