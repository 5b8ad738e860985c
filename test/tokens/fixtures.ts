import { tempDirForFile } from '../helpers/temp-dirs.js';
import { join } from 'node:path';

import type { Grant } from '../../src/core/grant.js';

export async function keysFile(): Promise<string> {
  return join(tempDirForFile('stint-tokens-'), 'keys', 'tokens.jwks.json');
}

/** An active grant expiring 15 minutes after `now`. */
export function activeGrant(now: number, overrides: Partial<Grant> = {}): Grant {
  return {
    id: 'g_01HZX3K6',
    kind: 'access',
    tenant: 'acme',
    principal: 'workload:deploy-bot',
    principalType: 'workload',
    actorChain: [],
    target: 'orders-db',
    role: 'migrator',
    task: 'run migration 42',
    reason: 'release 3.1',
    ttlSeconds: 900,
    breakGlass: false,
    status: 'active',
    approvals: [],
    credential: { state: 'issued', revokeAttempts: 0 },
    createdAt: now - 1_000,
    activatedAt: now - 500,
    expiresAt: now + 900_000,
    version: 3,
    ...overrides,
  };
}
