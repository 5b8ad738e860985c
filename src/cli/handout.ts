/**
 * Printing a grant together with what was handed over with it (access token, target
 * credential): the output of `request`, `activate` and `extend`, the only commands whose
 * purpose is to give the caller a secret.
 */
import type { GrantJson, IssuedCredentialJson } from '../client/types.js';
import { grantSummary } from './format/grant.js';
import { print, printJson } from './globals.js';

/** A grant and its hand-over, as printed. */
export interface Handout {
  readonly grant: GrantJson;
  readonly accessToken?: string;
  readonly credential?: IssuedCredentialJson;
}

/** JSON: the value as is. Text: the grant summary, then `access_token: ...` and `credential.<key>: ...` lines. */
export function printHandout(json: boolean, value: Handout): void {
  if (json) {
    printJson(value);
    return;
  }
  const lines = [grantSummary(value.grant, Date.now())];
  if (value.accessToken !== undefined) lines.push(`access_token: ${value.accessToken}`);
  for (const [key, secret] of Object.entries(value.credential ?? {})) lines.push(`credential.${key}: ${secret}`);
  print(lines.join('\n'));
}

/** One line on stderr while waiting, only for a person watching a terminal (pipelines read stdout). */
export function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`${text}\n`);
}
