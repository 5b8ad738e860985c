/** The generated schema: Cedar accepts it, and docs/policies.md shows it exactly. */
import { readFile } from 'node:fs/promises';
import { getCedarVersion, schemaToJson } from '@cedar-policy/cedar-wasm/nodejs';
import { describe, expect, it } from 'vitest';
import { cedarSchemaText, loadCedarPolicies } from '../../src/adapters/policy-cedar/index.js';
import { EXAMPLE_ROLES, policyDir } from './inputs.js';

describe('cedarSchemaText', () => {
  it('targets the pinned Cedar (REFERENCE.md section 4: a crash in the stateful API was reported on 4.12)', () => {
    // The tests of this folder exercise the stateful API; an upgrade must go through them again.
    expect(getCedarVersion()).toBe('4.13.0');
  });

  it('declares one action per distinct role, with names needing escapes intact', () => {
    const names = ['write', 'read', 'a"b\\c\u0007é', 'read'];
    const answer = schemaToJson(cedarSchemaText(names));
    if (answer.type !== 'success') throw new Error(JSON.stringify(answer.errors));
    expect(Object.keys(answer.json.Stint?.actions ?? {}).sort()).toEqual(['a"b\\c\u0007é', 'read', 'write']);
    expect(Object.keys(answer.json.Stint?.entityTypes ?? {}).sort()).toEqual(['Group', 'Human', 'Target', 'Workload']);
  });

  it('is shown verbatim in docs/policies.md for the example roles', async () => {
    const docs = await readFile(new URL('../../docs/policies.md', import.meta.url), 'utf8');
    expect(docs).toContain(`\`\`\`cedarschema\n${cedarSchemaText(EXAMPLE_ROLES)}\`\`\``);
  });
});

describe('validator warnings', () => {
  it('do not stop the load and are returned with file and line', async () => {
    const { dir, cleanup } = await policyDir({ 'w.cedar': '@id("ok") permit (principal, action, resource);\n@id("never") permit (principal, action, resource) when { false };\n' });
    try {
      const evaluator = await loadCedarPolicies({ dir, roleNames: EXAMPLE_ROLES });
      expect(evaluator.policyIds).toEqual(['ok', 'never']);
      expect(evaluator.warnings).toEqual([expect.stringMatching(/w\.cedar:2:\d+: policy "never": .*impossible/)]);
    } finally {
      await cleanup();
    }
  });
});
