/**
 * `stint token --as <principal>`: dev mode only. Mints an identity token with the dev issuer's
 * key (the file the broker also uses) and prints nothing but the token, so
 * `export STINT_TOKEN=$(stint token --as workload:deploy-bot)` works.
 */
import { Option, type Command } from 'commander';
import { CliError } from '../exit.js';
import { configPathOf, globalsOf, print } from '../globals.js';
import { durationSeconds } from '../options.js';

/** Registers `token`. */
export function registerToken(program: Command): void {
  program
    .command('token')
    .description('dev mode: print an identity token for a principal listed in dev.principals')
    .requiredOption('--as <principalId>', 'principal to impersonate, e.g. workload:deploy-bot or human:alice')
    .addOption(new Option('--ttl <duration>', 'token lifetime').argParser(durationSeconds).default(3600, '1h'))
    .action(async (opts: { as: string; ttl: number }, command: Command) => {
      const configPath = configPathOf(globalsOf(command));
      // Loaded on demand: the config schema compiler alone would slow every other command down.
      const { loadConfig } = await import('../../config/index.js');
      const { loadOrCreateDevIssuerKey, mintDevToken } = await import('../../adapters/identity-jwt/index.js');
      const config = await loadConfig(configPath, process.env);
      if (!config.dev.enabled) {
        throw new CliError(`dev mode is off in ${configPath} (dev.enabled): get identity tokens from a configured issuer instead`);
      }
      const principal = config.dev.principals[opts.as];
      if (principal === undefined) {
        // A typo would otherwise yield a valid token for a principal no policy knows.
        throw new CliError(`${opts.as} is not listed under dev.principals in ${configPath} (listed: ${Object.keys(config.dev.principals).join(', ') || 'none'})`);
      }
      const key = await loadOrCreateDevIssuerKey(config.dev.keyFile);
      const token = await mintDevToken({
        key,
        issuer: config.dev.issuer,
        audience: config.dev.audience,
        principalId: opts.as,
        principal,
        ttlSeconds: opts.ttl,
        now: Date.now(),
      });
      print(token);
    });
}
