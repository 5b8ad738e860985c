/**
 * `stint serve`: runs the broker in this process until SIGINT/SIGTERM. The broker is imported
 * on demand so every other command starts without loading the server, store and policy engine.
 */
import type { Command } from 'commander';
import type { StintConfig } from '../../config/types.js';
import { resolveConfigPath } from '../config-path.js';
import { DEFAULT_SERVER_URL, configPathOf, globalsOf, print } from '../globals.js';
import { positiveInteger } from '../options.js';
import { configureBrokerProcess } from '../broker-process.js';

const RISK_ORDER = ['low', 'medium', 'high', 'critical'];

/** Single-quotes a word for a POSIX shell when it needs it. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:@=+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A target and its least risky role, to show a first request that is likely to be granted at once. */
function sampleRequest(config: StintConfig): { target: string; role: string } | undefined {
  for (const target of Object.values(config.targets)) {
    const roles = Object.values(target.roles).sort((a, b) => RISK_ORDER.indexOf(a.riskTier) - RISK_ORDER.indexOf(b.riskTier));
    if (roles[0] !== undefined) return { target: target.name, role: roles[0].name };
  }
  return undefined;
}

/** The commands a newcomer can paste into another terminal. */
export function firstSteps(config: StintConfig, url: string, configArg: string | undefined): string[] {
  const steps: string[] = [];
  const cfg = configArg !== undefined ? ` --config ${shellWord(configArg)}` : '';
  if (url !== DEFAULT_SERVER_URL) steps.push(`export STINT_URL=${shellWord(url)}`);
  const workload = Object.keys(config.dev.principals).find((id) => id.startsWith('workload:'));
  if (config.dev.enabled && workload !== undefined) {
    steps.push(`export STINT_TOKEN=$(npx stint${cfg} token --as ${shellWord(workload)})`);
  } else {
    steps.push('export STINT_TOKEN=<an identity token from one of the configured issuers>');
  }
  const sample = sampleRequest(config);
  if (sample !== undefined) {
    steps.push(`npx stint request --target ${shellWord(sample.target)} --role ${shellWord(sample.role)} --task 'try stint' --reason 'first steps' --ttl 15m`);
  }
  // A target with a real credential shows the whole point: a login role made for this grant
  // alone, dropped with its sessions at expiry, with the proof in `show`.
  const real = Object.values(config.targets).find((t) => t.connector !== 'token' && Object.values(t.roles).some((r) => r.riskTier === 'low'));
  const realRole = real && Object.values(real.roles).find((r) => r.riskTier === 'low');
  if (real && realRole) {
    steps.push(`npx stint request --target ${shellWord(real.name)} --role ${shellWord(realRole.name)} --task 'try a real credential' --reason 'first steps' --ttl 1m`);
    steps.push('npx stint show <grant id>    # a minute later: expired, credential revoked, proof checks');
  }
  steps.push('npx stint grants');
  return steps;
}

/** Registers `serve`. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the broker (stops cleanly on Ctrl-C / SIGTERM)')
    .option('--host <address>', 'listen address (default: server.host of the config)')
    .option('--port <port>', 'listen port (default: server.port of the config, or STINT_PORT)', (v) => (v === '0' ? 0 : positiveInteger(v)))
    .action(async (opts: { host?: string; port?: number }, command: Command) => {
      const globals = globalsOf(command);
      const configPath = configPathOf(globals);
      // Before the broker (and with it Cedar's and PGlite's WebAssembly) is loaded: see broker-process.ts.
      configureBrokerProcess(process.env);
      const { startBroker } = await import('../../app.js');
      const broker = await startBroker({
        configPath,
        env: process.env,
        ...(opts.host !== undefined ? { host: opts.host } : {}),
        ...(opts.port !== undefined ? { port: opts.port } : {}),
      });
      const configArg = configPath === resolveConfigPath(undefined) ? undefined : configPath;
      const lines = [`stint: listening on ${broker.url}`, `config: ${configPath}`];
      if (broker.config.dev.enabled) {
        lines.push('dev mode is ON: the built-in identity issuer mints a token for anyone who can read its key file. Never use it in production.');
      }
      lines.push('', 'First steps, in another terminal:', ...firstSteps(broker.config, broker.url, configArg).map((s) => `  ${s}`), '', 'Stop with Ctrl-C.');
      print(lines.join('\n'));

      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      });
      // A second signal while closing means "now": give up on the clean stop.
      const force = (): never => process.exit(130);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      print(`stint: ${signal} received, stopping`);
      await broker.close();
      process.off('SIGINT', force);
      process.off('SIGTERM', force);
      print('stint: stopped');
    });
}
