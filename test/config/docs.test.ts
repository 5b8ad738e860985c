import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../../src/config/index.js';

const docs = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

/** Placeholders the reference uses for user-chosen map keys. */
const PLACEHOLDERS: Readonly<Record<string, string>> = {
  'dev.principals': '<id>',
  'approvers.groups': '<group>',
  targets: '<name>',
  'targets.<name>.roles': '<role>',
};

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  default?: unknown;
}

/** Every documented key path of the schema, with its default when it has one. */
function keyPaths(node: SchemaNode, prefix = ''): { path: string; node: SchemaNode }[] {
  const out: { path: string; node: SchemaNode }[] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    out.push({ path, node: child });
    out.push(...keyPaths(child, path));
    if (child.items !== undefined) out.push(...keyPaths(child.items, `${path}[]`));
    const placeholder = PLACEHOLDERS[path];
    if (placeholder !== undefined && typeof child.additionalProperties === 'object') {
      out.push(...keyPaths(child.additionalProperties, `${path}.${placeholder}`));
    }
  }
  return out;
}

/** How the reference writes a default: `8080`, `[1, 2, 3]`, `{}`. */
function rendered(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(String).join(', ')}]`;
  if (typeof value === 'object' && value !== null) return '{}';
  return String(value);
}

describe('docs/configuration.md documents the schema', () => {
  const paths = keyPaths(configJsonSchema as SchemaNode);

  it('finds the nested keys (the walk itself works)', () => {
    expect(paths.map((p) => p.path)).toEqual(expect.arrayContaining(['server.port', 'issuers[].principal.nameClaim', 'targets.<name>.roles.<role>.maxTtl']));
  });

  it('has a reference row for every key and its default', () => {
    for (const { path, node } of paths) {
      // Section objects (server, grants.businessHours, ...) are documented through their keys.
      if (node.properties !== undefined && node.default !== undefined) continue;
      const row = docs.split('\n').find((line) => line.startsWith(`| \`${path}\` |`));
      expect(row, `no reference row for ${path}`).toBeDefined();
      if (node.default !== undefined) expect(row, `default of ${path}`).toContain(`\`${rendered(node.default)}\``);
    }
  });
});
