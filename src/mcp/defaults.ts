/** Defaults of the MCP tools, in a module without dependencies so the CLI can show them without loading the MCP SDK. */

/** Default pause between polls while `request_access` waits for approval (ms). */
export const DEFAULT_POLL_INTERVAL_MS = 2_000;

/** Default upper bound of `request_access`'s `wait_seconds`. */
export const DEFAULT_MAX_WAIT_SECONDS = 900;
