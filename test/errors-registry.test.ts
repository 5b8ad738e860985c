/**
 * The error registry and docs/errors.md must list the same codes with the same statuses
 * (the fastify model: a test keeps the docs in sync).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_REGISTRY } from '../src/core/errors.js';

describe('error registry', () => {
  it('docs/errors.md documents exactly the registry', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \| ([^|]+) \| ([^|]*) \|$/gm)];
    const documented = Object.fromEntries(rows.map((m) => [m[1], { status: Number(m[2]), title: m[3]!.trim(), when: m[4]!.trim() }]));
    expect(Object.keys(documented).sort()).toEqual(Object.keys(ERROR_REGISTRY).sort());
    for (const [code, entry] of Object.entries(ERROR_REGISTRY)) {
      expect(documented[code]?.status, code).toBe(entry.status);
      expect(documented[code]?.title, code).toBe(entry.title);
      expect(documented[code]?.when, `${code} needs a "when" explanation`).not.toBe('');
    }
  });
});
