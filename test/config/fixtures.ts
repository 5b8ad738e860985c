/** Shared helpers for the config tests: a temp folder with a policies dir, and error capture. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { isStintError, type StintError } from '../../src/core/errors.js';
import { tempDirForFile } from '../helpers/temp-dirs.js';

/** A fresh folder holding an empty `policies/` directory; returns the path a config file there would have. */
export function tempConfigPath(): string {
  const dir = tempDirForFile('stint-config-');
  mkdirSync(join(dir, 'policies'));
  return join(dir, 'stint.yaml');
}

/** A small valid config; tests append to it or replace parts of it. */
export const MINIMAL = `server:
  port: 8080
approvers:
  groups:
    dba: [human:alice, human:bob]
  admins: [human:root]
targets:
  orders-db:
    connector: token
    env: prod
    owners: [group:dba]
    roles:
      read: { maxTtl: 1h }
policies:
  dir: ./policies
`;

/** Runs `fn`, which must throw a config_invalid StintError, and returns that error. */
export function configError(fn: () => unknown): StintError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(isStintError(thrown), `expected a StintError, got ${String(thrown)}`).toBe(true);
  const error = thrown as StintError;
  expect(error.code).toBe('config_invalid');
  return error;
}

/** 1-based number of the only line of `text` containing `marker`. */
export function lineOf(text: string, marker: string): number {
  const lines = text.split('\n');
  const hits = lines.flatMap((line, i) => (line.includes(marker) ? [i + 1] : []));
  expect(hits, `marker ${marker} must occur on exactly one line`).toHaveLength(1);
  return hits[0]!;
}
