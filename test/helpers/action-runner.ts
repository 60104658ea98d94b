import { spawn } from 'node:child_process';
import { PROJECT } from '../../infra/lib/project.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const ACTIONS_DIR = fileURLToPath(new URL('../../actions/', import.meta.url));

/** One `::command key=value::message` line of a step's stdout. */
export interface WorkflowCommand {
  readonly command: string;
  readonly properties: Record<string, string>;
  readonly message: string;
}

export interface ActionRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly commands: WorkflowCommand[];
  /** Values registered with `::add-mask::`. */
  readonly masks: string[];
  /** `::error::` messages (what setFailed reports). */
  readonly errors: string[];
  readonly warnings: string[];
  /** Variables written to GITHUB_ENV, for the following steps. */
  readonly env: Record<string, string>;
  readonly outputs: Record<string, string>;
  /** Written to GITHUB_STATE; handed to the post step as STATE_<name>. */
  readonly state: Record<string, string>;
  readonly summary: string;
  /** stdout as the runner's log shows it: masked values replaced by ***. */
  readonly log: string;
}

export interface RunOptions {
  /** Inputs by their action.yml names; action.yml defaults fill the rest, as the runner does. */
  readonly inputs?: Record<string, string>;
  /** Extra environment (e.g. AWS_ENDPOINT_URL, ACTIONS_ID_TOKEN_REQUEST_*). */
  readonly env?: Record<string, string | undefined>;
  /** `main` (default) or `post`. */
  readonly stage?: 'main' | 'post';
  /** State saved by an earlier stage (ActionRun.state of main, for post). */
  readonly state?: Record<string, string>;
  /** The GitHub context. */
  readonly github?: Partial<GitHubContext>;
  readonly timeoutMs?: number;
}

export interface GitHubContext {
  readonly repository: string;
  readonly runId: string;
  readonly runAttempt: string;
  readonly sha: string;
  readonly ref: string;
  readonly eventName: string;
  readonly event: unknown;
  readonly workflow: string;
  readonly serverUrl: string;
  readonly apiUrl: string;
}

const DEFAULT_CONTEXT: GitHubContext = {
  repository: `${PROJECT.github.owner}/${PROJECT.github.repo}`,
  runId: '4242',
  runAttempt: '1',
  sha: '0123456789abcdef0123456789abcdef01234567',
  ref: 'refs/heads/main',
  eventName: 'push',
  event: {},
  workflow: 'deploy',
  serverUrl: 'https://github.com',
  apiUrl: 'https://api.github.com',
};

interface ActionYaml {
  readonly inputs?: Record<string, { readonly default?: string; readonly required?: boolean }>;
  readonly runs: { readonly using: string; readonly main: string; readonly post?: string };
}

export function readActionYaml(action: string): ActionYaml {
  return parseYaml(readFileSync(join(ACTIONS_DIR, action, 'action.yml'), 'utf8')) as ActionYaml;
}

/** The runner's INPUT_ variable name for an input: spaces to underscores, upper case (dashes stay). */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/**
 * Runs an action's bundled dist/ in a child process exactly as the GitHub runner does: inputs as
 * INPUT_* (with action.yml defaults), the GITHUB_* context, the file commands (GITHUB_ENV,
 * GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY, GITHUB_PATH), STATE_* for post, and the
 * workflow commands parsed from stdout. Nothing of the test process's AWS or GitHub identity leaks in.
 */
export async function runAction(action: string, options: RunOptions = {}): Promise<ActionRun> {
  const definition = readActionYaml(action);
  const stage = options.stage ?? 'main';
  const entry = stage === 'main' ? definition.runs.main : definition.runs.post;
  if (!entry) throw new Error(`actions/${action}/action.yml has no ${stage} entry`);
  if (!/^node(20|24)$/.test(definition.runs.using))
    throw new Error(`actions/${action} runs with ${definition.runs.using}, not node20/24`);

  const context = { ...DEFAULT_CONTEXT, ...options.github };
  const dir = mkdtempSync(join(tmpdir(), `action-${action}-`));
  const files = {
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary.md'),
    GITHUB_PATH: join(dir, 'path'),
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(context.event));

  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(definition.inputs ?? {})) {
    if (spec.default !== undefined) inputs[inputVariable(name)] = String(spec.default);
  }
  for (const [name, value] of Object.entries(options.inputs ?? {})) {
    if (!definition.inputs || !(name in definition.inputs)) throw new Error(`actions/${action} has no input '${name}'`);
    inputs[inputVariable(name)] = value;
  }
  const state = Object.fromEntries(Object.entries(options.state ?? {}).map(([key, value]) => [`STATE_${key}`, value]));

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_TEMP: dir,
    GITHUB_WORKSPACE: process.cwd(),
    GITHUB_REPOSITORY: context.repository,
    GITHUB_REPOSITORY_OWNER: context.repository.split('/')[0]!,
    GITHUB_RUN_ID: context.runId,
    GITHUB_RUN_ATTEMPT: context.runAttempt,
    GITHUB_SHA: context.sha,
    GITHUB_REF: context.ref,
    GITHUB_EVENT_NAME: context.eventName,
    GITHUB_WORKFLOW: context.workflow,
    GITHUB_SERVER_URL: context.serverUrl,
    GITHUB_API_URL: context.apiUrl,
    GITHUB_ACTION: action,
    ...files,
    ...inputs,
    ...state,
  };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }

  const started = performance.now();
  try {
    const { exitCode, stdout, stderr } = await runNode(
      join(ACTIONS_DIR, action, entry),
      env,
      options.timeoutMs ?? 90_000,
    );
    if (process.env.REHEARSE_TIMINGS) {
      const what = [action, options.inputs?.command].filter(Boolean).join(' ');
      console.error(`    ${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    const commands = parseWorkflowCommands(stdout);
    const masks = commands.filter((c) => c.command === 'add-mask').map((c) => c.message);
    return {
      exitCode,
      stdout,
      stderr,
      commands,
      masks,
      errors: commands.filter((c) => c.command === 'error').map((c) => c.message),
      warnings: commands.filter((c) => c.command === 'warning').map((c) => c.message),
      env: parseFileCommand(readFileSync(files.GITHUB_ENV, 'utf8')),
      outputs: parseFileCommand(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
      state: parseFileCommand(readFileSync(files.GITHUB_STATE, 'utf8')),
      summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
      log: maskLog(stdout, masks),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runNode(
  script: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // ACTION_CPU_PROF=<dir>: a CPU profile of every action run, to see where an action's time goes.
    const profile = process.env.ACTION_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.ACTION_CPU_PROF}`] : [];
    const child = spawn(process.execPath, [...profile, script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? -1, stdout, stderr });
    });
  });
}

const unescapeData = (value: string): string => value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
const unescapeProperty = (value: string): string => unescapeData(value).replace(/%3A/g, ':').replace(/%2C/g, ',');

/** Parses `::command k=v,k2=v2::message` lines as the runner does (escapes included). */
export function parseWorkflowCommands(stdout: string): WorkflowCommand[] {
  const commands: WorkflowCommand[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const match = /^::([A-Za-z0-9-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!match) continue;
    const properties: Record<string, string> = {};
    for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
      const index = pair.indexOf('=');
      if (index > 0) properties[pair.slice(0, index)] = unescapeProperty(pair.slice(index + 1));
    }
    commands.push({ command: match[1]!, properties, message: unescapeData(match[3] ?? '') });
  }
  return commands;
}

/** Parses a GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE file (`name<<DELIM` heredocs or `name=value`). */
export function parseFileCommand(content: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) body.push(lines[i]!);
      if (i >= lines.length) throw new Error(`Unterminated heredoc for ${name} (delimiter ${delimiter})`);
      values[name!] = body.join('\n');
      continue;
    }
    const index = line.indexOf('=');
    if (index <= 0) throw new Error(`Malformed file command line: ${line}`);
    values[line.slice(0, index)] = line.slice(index + 1);
  }
  return values;
}

/** What the runner's log shows: every masked value replaced by ***. */
export function maskLog(stdout: string, masks: readonly string[]): string {
  return [...masks]
    .filter(Boolean)
    .sort((a, b) => b.length - a.length)
    .reduce((log, secret) => log.split(secret).join('***'), stdout);
}

/**
 * Secrets that appear in the step's output anywhere but in an `::add-mask::` line (which the runner
 * consumes and never shows). Empty means nothing leaked.
 */
export function leakedSecrets(run: Pick<ActionRun, 'stdout' | 'stderr'>, secrets: readonly string[]): string[] {
  const visible = [...run.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')), run.stderr].join('\n');
  return secrets.filter((secret) => secret && visible.includes(secret));
}
