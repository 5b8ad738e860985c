/**
 * Resident memory of a process from /proc/<pid>/status (Linux). Kept free of other imports so
 * the store probe (store-probe.ts) loads nothing but the store to use it.
 */
import { readFileSync } from 'node:fs';

/** Resident memory of a process. */
export interface ProcessMemory {
  /** VmRSS: resident set size now, bytes. */
  readonly rssBytes: number;
  /** VmHWM: peak resident set size since the process started, bytes. */
  readonly peakRssBytes: number;
}

/** Reads VmRSS and VmHWM of `pid`. */
export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kib('VmRSS'), peakRssBytes: kib('VmHWM') };
}
