/**
 * Stand-in for Cognite Toolkit 0.8.x `cdf` (build / deploy / clean) used by tests and demos until the real
 * CLI runs against the local CDF sandbox. Same arguments, files, console layout and exit codes
 * (0 ok, 1 ToolkitError or crash, 2 usage error). Never prompts and never reads stdin.
 */
import * as fs from 'fs';
import * as path from 'path';
import { runBuild } from './build';
import { Crash, TOOLKIT_VERSION, ToolkitError, UsageError } from './common';
import { runClean, runDeploy } from './deploy';

interface OptSpec {
  names: string[];
  key: string;
  takesValue: boolean;
  repeat?: boolean;
}

const USAGE: Record<string, string> = {
  build: 'Usage: cdf build [OPTIONS]',
  deploy: 'Usage: cdf deploy [OPTIONS] [BUILD_DIR]',
  clean: 'Usage: cdf clean [OPTIONS] [BUILD_DIR]',
  '': 'Usage: cdf [OPTIONS] COMMAND [ARGS]...',
};

const SPECS: Record<string, OptSpec[]> = {
  build: [
    { names: ['-o', '--organization-dir'], key: 'org', takesValue: true },
    { names: ['-c', '--config-yaml'], key: 'config', takesValue: true },
    { names: ['-b', '--build-dir'], key: 'buildDir', takesValue: true },
    { names: ['-m', '--modules'], key: 'modules', takesValue: true, repeat: true },
    { names: ['-e', '--env'], key: 'env', takesValue: true },
    { names: ['--insight-format'], key: 'insightFormat', takesValue: true },
    { names: ['-v', '--verbose'], key: 'verbose', takesValue: false },
  ],
  deploy: [
    { names: ['-r', '--dry-run'], key: 'dryRun', takesValue: false },
    { names: ['--cdf-project'], key: 'cdfProject', takesValue: true },
    { names: ['-v', '--verbose'], key: 'verbose', takesValue: false },
    { names: ['--include'], key: 'include', takesValue: true, repeat: true },
    { names: ['--force-update'], key: 'forceUpdate', takesValue: false },
    { names: ['-l', '--log-dir'], key: 'logDir', takesValue: true },
  ],
  clean: [
    { names: ['-r', '--dry-run'], key: 'dryRun', takesValue: false },
    { names: ['--cdf-project'], key: 'cdfProject', takesValue: true },
    { names: ['-v', '--verbose'], key: 'verbose', takesValue: false },
    { names: ['--include'], key: 'include', takesValue: true, repeat: true },
    { names: ['-l', '--log-dir'], key: 'logDir', takesValue: true },
  ],
};

interface Parsed {
  values: Record<string, string | boolean | string[]>;
  positional: string[];
}

function parseArgs(cmd: string, args: string[]): Parsed {
  const specs = SPECS[cmd] ?? [];
  const values: Parsed['values'] = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--traceback') continue;
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const [name = '', inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const spec = specs.find((s) => s.names.includes(name));
    if (!spec) throw new UsageError(USAGE[cmd] ?? USAGE[''] ?? '', `No such option: ${name}`);
    if (!spec.takesValue) {
      values[spec.key] = true;
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) throw new UsageError(USAGE[cmd] ?? '', `Option '${name}' requires an argument.`);
    if (spec.repeat) values[spec.key] = [...((values[spec.key] as string[] | undefined) ?? []), value];
    else values[spec.key] = value;
  }
  return { values, positional };
}

function loadDotEnv(envPath: string | undefined, override: boolean, warn: (s: string) => void): void {
  const candidates = envPath
    ? [envPath]
    : [path.join(process.cwd(), '.env'), path.join(process.cwd(), '..', '.env')];
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) return;
  for (const line of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || !m[1]) continue;
    const value = (m[2] ?? '').replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
    if (process.env[m[1]] !== undefined && !override) continue;
    if (process.env[m[1]] !== undefined && process.env[m[1]] !== value)
      warn(`WARNING: Overriding environment variable ${m[1]} from ${file}\n`);
    process.env[m[1]] = value;
  }
}

export async function main(argv: string[]): Promise<number> {
  const out = (s: string): void => {
    process.stdout.write(s);
  };
  const err = (s: string): void => {
    process.stderr.write(s);
  };
  let override = true;
  let envPath: string | undefined;
  let i = 0;
  // Global options sit before the subcommand, as in Typer.
  for (; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--no-override-env') override = false;
    else if (a === '--override-env') override = true;
    else if (a === '--env-path') envPath = argv[++i];
    else if (a === '--version') {
      out(`CDF-Toolkit version: ${TOOLKIT_VERSION} (stand-in)\n`);
      return 0;
    } else if (a === '--traceback') continue;
    else if (a.startsWith('-')) {
      err(`${USAGE['']}\nTry 'cdf --help' for help.\n\nError: No such option: ${a}\n`);
      return 2;
    } else break;
  }
  const cmd = argv[i];
  const rest = argv.slice(i + 1);
  if (!cmd || !SPECS[cmd]) {
    err(
      `${USAGE['']}\nTry 'cdf --help' for help.\n\nError: ${cmd ? `No such command '${cmd}'.` : 'Missing command.'}\n`,
    );
    return 2;
  }
  try {
    const { values, positional } = parseArgs(cmd, rest);
    loadDotEnv(envPath, override, out);
    if (cmd === 'build') {
      if (positional.length)
        throw new UsageError(USAGE.build ?? '', `Got unexpected extra argument (${positional[0]})`);
      const fmt = (values.insightFormat as string | undefined) ?? 'csv';
      if (fmt !== 'csv' && fmt !== 'json') {
        throw new UsageError(
          USAGE.build ?? '',
          `Invalid value for '--insight-format': '${fmt}' is not one of 'csv', 'json'.`,
        );
      }
      let config = values.config as string | undefined;
      if (!config && typeof values.env === 'string') {
        out(`WARNING [ToolkitDeprecationWarning]: --env is deprecated. Prefer --config-yaml.\n`);
        const org = (values.org as string | undefined) ?? '.';
        config = path.join(org, `config.${values.env}.yaml`);
      }
      runBuild(
        {
          organizationDir: values.org as string | undefined,
          configYaml: config,
          buildDir: values.buildDir as string | undefined,
          modules: (values.modules as string[] | undefined) ?? [],
          insightFormat: fmt,
          verbose: values.verbose === true,
        },
        out,
      );
      return 0;
    }
    if (positional.length > 1)
      throw new UsageError(USAGE[cmd] ?? '', `Got unexpected extra argument (${positional[1]})`);
    const buildDir = positional[0] ?? 'build';
    if (!fs.existsSync(buildDir) || !fs.statSync(buildDir).isDirectory()) {
      throw new UsageError(
        USAGE[cmd] ?? '',
        `Invalid value for '[BUILD_DIR]': Directory '${buildDir}' does not exist.`,
      );
    }
    const opts = {
      buildDir,
      dryRun: values.dryRun === true,
      cdfProject: values.cdfProject as string | undefined,
      verbose: values.verbose === true,
      include: (values.include as string[] | undefined) ?? [],
      forceUpdate: values.forceUpdate === true,
    };
    if (cmd === 'deploy') await runDeploy(opts, out);
    else await runClean(opts, out);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`${e.usage}\nTry 'cdf ${cmd} --help' for help.\n\nError: ${e.message}\n`);
      return 2;
    }
    if (e instanceof ToolkitError) {
      out(`  ERROR (${e.kind}): ${e.message}\n`);
      return 1;
    }
    if (e instanceof Crash) {
      err(
        `Traceback (most recent call last):\n  File "cognite_toolkit/_cdf.py", line 1, in app\n${e.lastLine}\n`,
      );
      return 1;
    }
    err(
      `Traceback (most recent call last):\n  File "cognite_toolkit/_cdf.py", line 1, in app\nRuntimeError: ${(e as Error).stack ?? String(e)}\n`,
    );
    return 1;
  }
}

// Run when executed directly (tsx cli.ts) or through the bin/cdf shim that require()s this file.
if (require.main === module || /[\\/]bin[\\/]cdf$/.test(require.main?.filename ?? '')) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
