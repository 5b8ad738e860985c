/** Loading: ids, and every load-time refusal reported at file:line:column. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isStintError, type StintError } from '../../src/core/errors.js';
import { loadCedarPolicies } from '../../src/adapters/policy-cedar/index.js';
import { EXAMPLE_ROLES, policyDir, principals, request } from './inputs.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function dirWith(files: Record<string, string | Uint8Array>): Promise<string> {
  const { dir, cleanup } = await policyDir(files);
  cleanups.push(cleanup);
  return dir;
}

/** Loads and returns the policy_invalid error (fails the test if the load succeeds). */
async function refusal(files: Record<string, string | Uint8Array>, roleNames: readonly string[] = EXAMPLE_ROLES): Promise<StintError & { dir: string }> {
  const dir = await dirWith(files);
  const error: unknown = await loadCedarPolicies({ dir, roleNames }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isStintError(error)) throw new Error(`expected a StintError, got ${String(error)}`);
  expect(error.code).toBe('policy_invalid');
  return Object.assign(error, { dir });
}

const PERMIT_READ = 'permit (principal, action == Stint::Action::"read", resource);\n';

describe('policy ids', () => {
  it('uses @id, else <file name>#<index in file>, across files sorted by name', async () => {
    const dir = await dirWith({
      'b.cedar': `${PERMIT_READ}// a comment between policies; with a semicolon\n@id("named")\n${PERMIT_READ}${PERMIT_READ}`,
      'a.cedar': `@description("not an id") ${PERMIT_READ}`,
      'ignored.txt': 'not cedar at all',
    });
    await mkdir(join(dir, 'nested.cedar'));
    const evaluator = await loadCedarPolicies({ dir, roleNames: EXAMPLE_ROLES });
    expect(evaluator.policyIds).toEqual(['a.cedar#0', 'b.cedar#0', 'named', 'b.cedar#2']);
    const answer = evaluator.evaluate(request({ principal: principals.ciRunner, target: 'orders-db', role: 'read' }));
    expect(answer.allowed).toBe(true);
    expect([...answer.policies].sort()).toEqual(['a.cedar#0', 'b.cedar#0', 'b.cedar#2', 'named']);
  });

  it('refuses a duplicate @id across files, naming both places', async () => {
    const error = await refusal({
      'a.cedar': `@id("same")\n${PERMIT_READ}`,
      'b.cedar': `\n\n  @id("same") ${PERMIT_READ}`,
    });
    expect(error.detail).toContain(`${join(error.dir, 'b.cedar')}:3:3: duplicate policy id "same" (first used at ${join(error.dir, 'a.cedar')}:1:1)`);
  });

  it('refuses an @id that collides with a generated id', async () => {
    const error = await refusal({ 'a.cedar': `${PERMIT_READ}@id("a.cedar#0") ${PERMIT_READ}` });
    expect(error.detail).toContain('duplicate policy id "a.cedar#0"');
  });

  it('refuses malformed @id and @approvals annotations', async () => {
    const error = await refusal({
      'a.cedar': [
        `@id("") ${PERMIT_READ}`,
        `@approvals("two") ${PERMIT_READ}`,
        `@approvals("0") ${PERMIT_READ}`,
        `@approvals ${PERMIT_READ}`,
        `@approvals("2") forbid (principal, action, resource);\n`,
      ].join(''),
    });
    const file = join(error.dir, 'a.cedar');
    expect(error.detail).toContain(`${file}:1:1: @id must be a non-empty string`);
    expect(error.detail).toContain(`${file}:2:1: @approvals must be a positive integer`);
    expect(error.detail).toContain(`${file}:3:1: @approvals must be a positive integer`);
    expect(error.detail).toContain(`${file}:4:1: @approvals must be a positive integer`);
    expect(error.detail).toContain(`${file}:5:1: @approvals only applies to permit policies`);
  });
});

describe('refused at load', () => {
  it('reports a syntax error at file:line:column', async () => {
    const error = await refusal({
      'good.cedar': PERMIT_READ,
      'bad.cedar': `${PERMIT_READ}\npermit (principal, action, resource)\nwhen { context.ttlSeconds > };\n`,
    });
    expect(error.detail).toMatch(new RegExp(`${escape(join(error.dir, 'bad.cedar'))}:4:29: unexpected token \`}\``));
    expect(error.detail).not.toContain('good.cedar');
  });

  it('maps byte offsets past multi-byte characters to the right column', async () => {
    // 'é' is 2 bytes and '😀' 4 bytes in UTF-8 (Cedar's offsets are bytes), 1 code point each.
    const error = await refusal({
      'u.cedar': '// Grüße, ünïcödé — 😀\npermit (principal, action, resource) when { context.task == "😀é" && principal.nope == "x" };\n',
    });
    // Column of `principal.nope`: 68 code points (72 UTF-8 bytes, 69 UTF-16 units) precede it.
    expect(error.detail).toContain(`${join(error.dir, 'u.cedar')}:2:69: policy "u.cedar#0": attribute \`nope\``);
  });

  it('refuses a missing semicolon, reporting where Cedar stops making sense of the next policy', async () => {
    const error = await refusal({ 'a.cedar': `permit (principal, action, resource)\n${PERMIT_READ}` });
    expect(error.detail).toContain(`${join(error.dir, 'a.cedar')}:2:8: unexpected token \`(\` (expected \`{\`)`);
  });

  it('refuses an unterminated last policy', async () => {
    const error = await refusal({ 'a.cedar': `${PERMIT_READ}permit (principal, action, resource)\n` });
    expect(error.detail).toContain(`${join(error.dir, 'a.cedar')}:2:37: unexpected end of input (expected \`;\` or identifier)`);
  });

  it('refuses templates (slots), which Stint cannot link', async () => {
    const error = await refusal({ 'a.cedar': `${PERMIT_READ}permit (principal == ?principal, action, resource);\n` });
    expect(error.detail).toContain(`${join(error.dir, 'a.cedar')}:2:22: expected a static policy, got a template`);
  });

  it('refuses an unknown attribute (strict validation) with file and line', async () => {
    const error = await refusal({ 'a.cedar': `${PERMIT_READ}forbid (principal, action, resource)\n  when { principal.department == "x" };\n` });
    expect(error.detail).toContain(`${join(error.dir, 'a.cedar')}:3:10: policy "a.cedar#1": attribute \`department\` on entity type`);
  });

  it('refuses an unknown action (a role no target has)', async () => {
    const error = await refusal({ 'a.cedar': `@id("x")\npermit (principal, action == Stint::Action::"drop", resource);\n` });
    expect(error.detail).toContain(`${join(error.dir, 'a.cedar')}:2:30: policy "x": unrecognized action \`Stint::Action::"drop"\``);
    // The same file loads once the role exists.
    await expect(loadCedarPolicies({ dir: error.dir, roleNames: ['drop'] })).resolves.toBeDefined();
  });

  it('refuses reading an optional field without `has`: a tag without hasTag, a ticket without `context has ticket`', async () => {
    const error = await refusal({
      'a.cedar': [
        'forbid (principal, action, resource) when { principal.getTag("repository") != "org/app" };',
        'permit (principal, action, resource) when { context.ticket == "CHG-1" };',
        '',
      ].join('\n'),
    });
    const file = join(error.dir, 'a.cedar');
    expect(error.detail).toContain(`${file}:1:45: policy "a.cedar#0": unable to guarantee safety of access to tag \`"repository"\``);
    expect(error.detail).toContain(`${file}:2:45: policy "a.cedar#1": unable to guarantee safety of access to optional attribute \`ticket\``);
  });

  it('refuses a type error', async () => {
    const error = await refusal({ 'a.cedar': 'permit (principal, action, resource) when { context.ttl <= 3600 };\n' });
    expect(error.detail).toMatch(/a\.cedar:1:45: policy "a\.cedar#0": .*type/i);
  });

  it('reports problems of several files in one error, in file order, with structured errors', async () => {
    const error = await refusal({
      'b.cedar': 'permit (principal, action, resource) when { true }\n',
      'a.cedar': 'permit (principal, action, resource) when { ( };\n',
    });
    const lines = error.detail.split('\n').slice(1);
    expect(lines[0]).toContain('a.cedar:1:');
    expect(lines.at(-1)).toContain('b.cedar:1:');
    expect(error.extra?.errors).toContainEqual(expect.objectContaining({ file: join(error.dir, 'b.cedar'), line: 1 }));
  });

  it('refuses an empty directory, and one with only comments: everything would be denied', async () => {
    for (const files of [{}, { 'a.cedar': '// nothing yet\n' }] as Array<Record<string, string>>) {
      const error = await refusal(files);
      expect(error.detail).toMatch(/^no policies in .*: everything would be denied/);
    }
  });

  it('refuses a missing directory and a file that is not UTF-8', async () => {
    await expect(loadCedarPolicies({ dir: '/nonexistent/stint-policies', roleNames: EXAMPLE_ROLES })).rejects.toMatchObject({
      code: 'policy_invalid',
      detail: expect.stringContaining('/nonexistent/stint-policies: cannot read the policy directory (ENOENT)'),
    });
    const error = await refusal({ 'a.cedar': Uint8Array.from([0x2f, 0x2f, 0xff, 0x0a]) });
    expect(error.detail).toContain('a.cedar: cannot read the policy file (not valid UTF-8)');
  });
});

describe('reload', () => {
  it('a second load with a different set answers differently, and the first keeps its answers', async () => {
    const read = request({ principal: principals.ciRunner, target: 'reports-db', role: 'read' });
    const write = request({ principal: principals.ciRunner, target: 'reports-db', role: 'write' });
    const first = await loadCedarPolicies({ dir: await dirWith({ 'p.cedar': `@id("reads")\n${PERMIT_READ}` }), roleNames: EXAMPLE_ROLES });
    const second = await loadCedarPolicies({
      dir: await dirWith({ 'p.cedar': '@id("writes")\npermit (principal, action == Stint::Action::"write", resource);\n' }),
      roleNames: EXAMPLE_ROLES,
    });
    expect(first.evaluate(read)).toEqual({ allowed: true, policies: ['reads'], errors: [] });
    expect(first.evaluate(write).allowed).toBe(false);
    expect(second.evaluate(read).allowed).toBe(false);
    expect(second.evaluate(write)).toEqual({ allowed: true, policies: ['writes'], errors: [] });
    expect(first.evaluate(read).allowed).toBe(true);
  });

  it('reloading the same directory after an edit picks up the edit', async () => {
    const { dir, cleanup } = await policyDir({ 'p.cedar': PERMIT_READ });
    cleanups.push(cleanup);
    const read = request({ principal: principals.ciRunner, target: 'reports-db', role: 'read' });
    expect((await loadCedarPolicies({ dir, roleNames: EXAMPLE_ROLES })).evaluate(read).allowed).toBe(true);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'p.cedar'), `${PERMIT_READ}forbid (principal, action, resource) when { resource.env == "staging" };\n`);
    expect((await loadCedarPolicies({ dir, roleNames: EXAMPLE_ROLES })).evaluate(read)).toEqual({
      allowed: false,
      policies: ['p.cedar#1'],
      errors: [],
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
