/**
 * Stint's library entry point: start a broker in-process (`startBroker`), and the types a
 * caller needs. The HTTP client SDK is exported separately as `stint/client`.
 */
export { startBroker, type Broker, type BrokerOptions } from './app.js';
export type { Grant, GrantStatus, Decision } from './core/grant.js';
export type { Principal } from './core/principal.js';
export { ERROR_REGISTRY, StintError, type ErrorCode } from './core/errors.js';
export type { EventType, AuditRecord } from './core/events.js';
