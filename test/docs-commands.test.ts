import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { estimateCost, type StackResources } from '../actions/cdk/src/cost.js';
import { PRICE_TABLE } from '../actions/cdk/src/prices.js';
import { addEnvironments } from '../infra/lib/build-app.js';
import {
  DEFAULTS,
  environmentFromEntry,
  resolveEnvironments,
  subjectPrefix,
  type EnvironmentConfig,
  type TaskConfig,
} from '../infra/lib/config.js';
import { ENVIRONMENTS, PROJECT } from '../infra/lib/project.js';
import { awakeHoursPerMonth, describeSchedule, type Schedule } from '../infra/lib/schedule.js';
import {
  bootstrapArgs,
  cdkCommandLine,
  foundationDeployArgs,
  OIDC_PROVIDER_STACK,
  resourceNames,
  type BootstrapTarget,
} from '../infra/lib/names.js';
import { nagAcknowledgments } from '../infra/lib/nag.js';
import { REPO_ROOT } from './helpers/cdk-cli.js';
import { IamGate, type GateDecision } from './helpers/iam/gate.js';
import { fences, type Fence } from './helpers/markdown.js';
import { MOTO_INSTALL_COMMAND, startMoto, type LocalAws } from './helpers/moto.js';
import { NGINX_INSTALL_COMMAND } from './helpers/nginx.js';
import { repositoryCopy, type WorkCopy } from './helpers/work-copy.js';

/**
 * The documentation, checked against the code and the configuration (gitops.config.json, whatever
 * it holds: nothing here depends on the shipped example values):
 *
 * 1. Every ```` ```sh runnable ```` block of README.md and docs/*.md runs with bash, in a private
 *    copy of the repository, as an administrator of a local AWS (moto) behind the IAM gate, with
 *    the variables of docs/setup.md (ENV, ACCOUNT, REGION, QUALIFIER) set for the first configured
 *    environment, and must exit 0 with no refusal by the gate; a ```` ```text output ```` block
 *    right after it lists lines that must appear in its output (in order between two `...` lines,
 *    which stand for any lines; `<env>` stands for that environment's name and `repo:OWNER/REPO`
 *    for the repository's OIDC subject prefix). setup.md's commands are the ones the code prints
 *    (infra/lib/names.ts).
 * 2. The cdk-nag acknowledgment table of docs/security.md equals the acknowledgments in the code.
 * 3. Every figure of docs/cost.md equals a recomputation from the committed price table
 *    (actions/cdk/src/prices.ts) for a fixed reference sizing (the defaults of infra/lib/config.ts),
 *    and the pull-request comment's estimate of each configured environment follows the same rules.
 */

// ---------------------------------------------------------------------------------------------
// Markdown: fenced code blocks and tables
// ---------------------------------------------------------------------------------------------

/** The Markdown files whose commands are run, in the order a new user meets them. */
function documentationFiles(): string[] {
  const docs = readdirSync(join(REPO_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  // setup.md first: it bootstraps the account and deploys the stacks the later pages inspect
  // (getting-started.md and security.md send the reader through it, in this order).
  const first = ['README.md', 'docs/setup.md'];
  return [
    ...first.filter((file) => file === 'README.md' || docs.includes(file)),
    ...docs.filter((f) => !first.includes(f)),
  ];
}

function read(file: string): string {
  return readFileSync(join(REPO_ROOT, file), 'utf8');
}

interface Runnable {
  readonly fence: Fence;
  /** The ```text output block right after it (blank lines only between), if any. */
  readonly output?: Fence;
  /** Lines the output must contain, in order, from that block. */
  readonly expected?: readonly string[];
}

function runnableBlocks(): { blocks: Runnable[]; all: Fence[] } {
  const blocks: Runnable[] = [];
  const all: Fence[] = [];
  for (const file of documentationFiles()) {
    const text = read(file);
    const lines = text.split('\n');
    const found = fences(file, text);
    all.push(...found);
    found.forEach((fence, index) => {
      if (fence.info[0] !== 'sh' || !fence.info.includes('runnable')) return;
      const next = found[index + 1];
      const between = next ? lines.slice(fence.endLine, next.line - 1) : [];
      const isOutput =
        next !== undefined &&
        next.info[0] === 'text' &&
        next.info.includes('output') &&
        between.every((line) => line.trim() === '');
      blocks.push({
        fence,
        output: isOutput ? next : undefined,
        expected: isOutput
          ? next.body
              .split('\n')
              .map((line) => line.trim())
              .filter((line) => line !== '')
          : undefined,
      });
    });
  }
  return { blocks, all };
}

const collapse = (text: string): string => text.replace(/\s+/g, ' ').trim();

/**
 * Checks that each expected line occurs in the output. A `...` line stands for any lines: the lines
 * between two `...` occur in their order, and these groups in any order (the order of a stack's
 * outputs, for one, is CloudFormation's).
 */
function missingLines(output: string, expected: readonly string[]): string[] {
  const haystack = collapse(output);
  const groups: string[][] = [[]];
  for (const line of expected) {
    if (line === '...') groups.push([]);
    else groups[groups.length - 1]!.push(line);
  }
  const missing: string[] = [];
  for (const group of groups) {
    let from = 0;
    for (const line of group) {
      // `<n>` stands for a number that depends on the configuration (a resource count).
      const pattern = new RegExp(
        collapse(line)
          .split('<n>')
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('\\d+'),
        'g',
      );
      pattern.lastIndex = from;
      const match = pattern.exec(haystack);
      if (!match) missing.push(line);
      else from = match.index + match[0].length;
    }
  }
  return missing;
}

interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** Unescapes Markdown and strips emphasis and code marks, for comparing cell text. */
function plain(cell: string): string {
  return cell
    .replace(/\\([\\`*_{}[\]()#+\-.!<>|])/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\*\*/g, '')
    .replace(/`/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function splitRow(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

/** The pipe tables of a Markdown text (outside code blocks), cells as written. */
function tables(text: string): Table[] {
  const result: Table[] = [];
  const lines = text.split('\n');
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    if (/^ *(`{3,}|~{3,})/.test(lines[i]!)) inFence = !inFence;
    if (inFence) continue;
    if (!lines[i]!.trim().startsWith('|') || !/^\s*\|[\s:|-]+\|\s*$/.test(lines[i + 1] ?? '')) continue;
    const header = splitRow(lines[i]!);
    const rows: string[][] = [];
    let j = i + 2;
    for (; j < lines.length && lines[j]!.trim().startsWith('|'); j++) rows.push(splitRow(lines[j]!));
    result.push({ header, rows });
    i = j - 1;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// 1. Documented commands, run as an administrator of a local AWS behind the IAM gate
// ---------------------------------------------------------------------------------------------

/** Commands that must never be marked runnable: they would reinstall, recurse, or take minutes. */
const NEVER_RUNNABLE = [/\bnpm (ci|install|i)\b/, /\bnpm (run )?test\b/, /\bnpm run rehearse\b/, /\bjest\b/];

/** The longest a block may run (a CDK deploy against moto takes about 20 s on two cores). */
const BLOCK_TIMEOUT_MS = 150_000;
/** How many runnable blocks the documentation holds at least (so the test cannot pass on none). */
const MIN_RUNNABLE_BLOCKS = 10;
/** Pages that must keep at least one runnable block. */
const PAGES_WITH_COMMANDS = ['README.md', 'docs/setup.md', 'docs/getting-started.md', 'docs/security.md'];

/** The environment the commands run for: the first configured one (the one deploy.yml deploys). */
const FIRST = ENVIRONMENTS[0]!;

/** docs/setup.md's variables for one environment (`npm run configure -- --show` prints them). */
function setupVariablesOf(env: EnvironmentConfig): Record<string, string> {
  return { ENV: env.name, ACCOUNT: env.account, REGION: env.region, QUALIFIER: env.bootstrapQualifier };
}

const bootstrapTarget = (env: EnvironmentConfig): BootstrapTarget => ({ ...env, qualifier: env.bootstrapQualifier });

/**
 * What an output block's placeholders stand for: `<env>` the environment the commands ran for,
 * `repo:OWNER/REPO` the repository's OIDC subject prefix (with the numeric ids when configured).
 */
function expandPlaceholders(line: string): string {
  return line.split('<env>').join(FIRST.name).split('repo:OWNER/REPO').join(subjectPrefix(PROJECT.github));
}

/**
 * The configured values a runnable block writes out instead of using the variables: environment
 * names, accounts, regions. A block must work for any configuration.
 */
function literalConfigValues(body: string): string[] {
  const found = new Set<string>();
  for (const env of ENVIRONMENTS) {
    for (const value of [env.account, env.region]) if (body.includes(value)) found.add(value);
    // As a word of its own or a name prefix (dev, dev-network), not inside a path (/dev/null).
    const escaped = env.name.replace(/[-]/g, '\\-');
    if (new RegExp(`(?<![\\w/.$-])${escaped}(?![\\w/])`).test(body)) found.add(env.name);
  }
  return [...found];
}

/** `$NAME` and `${NAME}` replaced by their values; a variable that is not one of them fails. */
function substitute(body: string, variables: Readonly<Record<string, string>>): string {
  return body.replace(/\$(?:\{(\w+)\}|([A-Za-z_]\w*))/g, (match, braced?: string, bare?: string) => {
    const value = variables[(braced ?? bare)!];
    if (value === undefined) {
      throw new Error(`${match} is not one of the set-up variables (${Object.keys(variables).join(', ')})`);
    }
    return value;
  });
}

/** A command line with continuation lines joined, quotes removed and whitespace collapsed. */
const normaliseCommand = (text: string): string =>
  text.replace(/\\\n/g, ' ').replace(/["']/g, '').replace(/\s+/g, ' ').trim();

const { blocks, all } = runnableBlocks();

describe('documented commands', () => {
  it('runs the first deploy of docs/setup.md (step 5) before the pages that inspect its stacks', () => {
    const deploy = blocks.findIndex(
      (b) =>
        b.fence.file === 'docs/setup.md' &&
        /\bcdk deploy\b/.test(b.fence.body) &&
        b.fence.body.includes('$ENV-service'),
    );
    expect(deploy).toBeGreaterThanOrEqual(0);
    expect(blocks.findIndex((b) => b.fence.file !== 'README.md' && b.fence.file !== 'docs/setup.md')).toBeGreaterThan(
      deploy,
    );
  });

  it(`finds at least ${MIN_RUNNABLE_BLOCKS} runnable blocks, on every page that documents commands`, () => {
    expect(blocks.length).toBeGreaterThanOrEqual(MIN_RUNNABLE_BLOCKS);
    expect(PAGES_WITH_COMMANDS.filter((page) => !blocks.some((b) => b.fence.file === page))).toEqual([]);
  });

  it('marks only sh blocks runnable, and never a command that installs, recurses or runs the suite', () => {
    const misplaced = all
      .filter((fence) => fence.info.includes('runnable') && fence.info[0] !== 'sh')
      .map((fence) => `${fence.file}:${fence.line} \`\`\`${fence.info.join(' ')}`);
    expect(misplaced).toEqual([]);
    const forbidden = blocks
      .filter((b) => NEVER_RUNNABLE.some((pattern) => pattern.test(b.fence.body)))
      .map((b) => `${b.fence.file}:${b.fence.line}`);
    expect(forbidden).toEqual([]);
    // An output block that does not directly follow a runnable block would be checked against nothing.
    const orphans = all
      .filter((fence) => fence.info[0] === 'text' && fence.info.includes('output'))
      .filter((fence) => !blocks.some((b) => b.output === fence))
      .map((fence) => `${fence.file}:${fence.line}`);
    expect(orphans).toEqual([]);
  });

  it('writes no configured name, account or region into a runnable block or its output (variables, <env>)', () => {
    const literal = blocks
      .flatMap((b) => (b.output ? [b.fence, b.output] : [b.fence]))
      .map((fence) => [`${fence.file}:${fence.line}`, literalConfigValues(fence.body)] as const)
      .filter(([, values]) => values.length > 0)
      .map(([where, values]) => `${where}: ${values.join(', ')}`);
    expect(literal).toEqual([]);
  });

  it("tells a fresh machine what the helpers do: moto's venv command, nginx installed as root or a built-in target", () => {
    const readme = read('README.md');
    expect(readme).toContain(MOTO_INSTALL_COMMAND);
    expect(NGINX_INSTALL_COMMAND).toContain('nginx-light');
    expect(readme).toMatch(/nginx-light[^]*root[^]*built-in HTTP target/);
  });

  describe('docs/setup.md prints the commands of the code (infra/lib/names.ts)', () => {
    const setupBlocks = fences('docs/setup.md', read('docs/setup.md')).filter(
      (fence) => fence.info[0] === 'sh' && fence.info.includes('runnable') && fence.info.includes('setup'),
    );
    /** The one set-up block whose command line matches. */
    const setupBlock = (pattern: RegExp): Fence => {
      const found = setupBlocks.filter((fence) => pattern.test(normaliseCommand(fence.body)));
      if (found.length !== 1) {
        throw new Error(`expected one \`sh runnable setup\` block matching ${pattern}, found ${found.length}`);
      }
      return found[0]!;
    };
    const perEnvironment = ENVIRONMENTS.map((env) => [env.name, env] as const);

    it.each(perEnvironment)('%s: every set-up block uses only the set-up variables', (_name, env) => {
      for (const block of setupBlocks) expect(() => substitute(block.body, setupVariablesOf(env))).not.toThrow();
    });

    it.each(perEnvironment)('%s: the bootstrap block is `npx cdk` + bootstrapArgs', (_name, env) => {
      const block = setupBlock(/\bnpx cdk bootstrap\b/);
      expect(normaliseCommand(substitute(block.body, setupVariablesOf(env)))).toBe(
        normaliseCommand(cdkCommandLine(bootstrapArgs(bootstrapTarget(env)))),
      );
    });

    it.each(perEnvironment)('%s: the foundation deploy block is `npx cdk` + foundationDeployArgs', (_name, env) => {
      const block = setupBlock(/\bnpx cdk deploy\b.*-foundation\b/);
      expect(normaliseCommand(substitute(block.body, setupVariablesOf(env)))).toBe(
        normaliseCommand(cdkCommandLine(foundationDeployArgs(env))),
      );
    });
  });

  describe(`as an administrator of the local AWS behind the IAM gate, for ${FIRST.name}, in page order`, () => {
    let aws: LocalAws | undefined;
    let gate: IamGate | undefined;
    let copy: WorkCopy | undefined;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      // The pages inspect AWS with the AWS CLI; it must honour AWS_ENDPOINT_URL (CLI v1.29+ or v2.13+).
      const cli = spawnSync('aws', ['--version'], { encoding: 'utf8' });
      if (cli.error || cli.status !== 0) {
        throw new Error(`The documented commands need the AWS CLI on PATH: ${cli.error?.message ?? cli.stderr}`);
      }
      // AWS managed policies: the CDK bootstrap's lookup role attaches ReadOnlyAccess.
      aws = await startMoto({ account: FIRST.account, region: FIRST.region, awsManagedPolicies: true });
      gate = await new IamGate({ aws }).start();
      // A fresh clone's files: the commands write cdk.out beside them.
      copy = repositoryCopy();
      env = gate.env(gate.administrator(), {
        ...setupVariablesOf(FIRST),
        AWS_REGION: FIRST.region,
        AWS_DEFAULT_REGION: FIRST.region,
        NODE_OPTIONS: '', // npm test's --experimental-vm-modules is for jest, not the commands
        FORCE_COLOR: '0',
        NO_COLOR: '1',
      });
    }, 60_000);
    afterAll(async () => {
      await gate?.stop();
      await aws?.stop();
      copy?.remove();
    });

    it.each(blocks.map((block) => [label(block), block] as const))(
      '%s',
      async (_where, block) => {
        const { exitCode, output } = await runBash(block.fence.body, env, copy!.dir, BLOCK_TIMEOUT_MS - 10_000);
        const context = `${block.fence.file}:${block.fence.line}\n$ ${block.fence.body}\n${output.slice(-6000)}`;
        if (exitCode !== 0) throw new Error(`exited ${exitCode}: ${context}${refusalsText(gate!.refusals)}`);
        if (block.expected) {
          const missing = missingLines(output, block.expected.map(expandPlaceholders));
          if (missing.length > 0) throw new Error(`documented output missing: ${JSON.stringify(missing)}\n${context}`);
        }
      },
      BLOCK_TIMEOUT_MS,
    );

    it('were refused nothing by the IAM gate', () => {
      expect(gate!.refusals.map(describeDecision)).toEqual([]);
    });
  });
});

function label(block: Runnable): string {
  return `${block.fence.file}:${block.fence.line}`;
}

function describeDecision(decision: GateDecision): string {
  return `${decision.call} by ${decision.caller}: ${decision.outcome}${decision.reason ? `: ${decision.reason}` : ''}`;
}

function refusalsText(refusals: readonly GateDecision[]): string {
  return refusals.length > 0 ? `\nRefused by the IAM gate:\n  ${refusals.map(describeDecision).join('\n  ')}` : '';
}

/** Runs one block with bash; kills it (and what it started) if it outlives `timeoutMs`. */
async function runBash(
  script: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  timeoutMs: number,
): Promise<{ exitCode: number; output: string }> {
  const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so a timeout ends npx, cdk and the app too
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => {
    output += `\n[killed after ${timeoutMs} ms]`;
    process.kill(-child.pid!, 'SIGKILL');
  }, timeoutMs);
  try {
    const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    return { exitCode, output };
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// 2. docs/security.md: the cdk-nag acknowledgments
// ---------------------------------------------------------------------------------------------

interface AckRow {
  /** Construct path with the environment name as `<env>`. */
  readonly path: string;
  /** Finding id, with `<env>` and `<region>` for the environment's name and region. */
  readonly finding: string;
  readonly reason: string;
}

const ackKey = (row: AckRow): string => `${row.path}  ${row.finding}  ${row.reason}`;

/**
 * Every acknowledgment of every configured environment (its foundation, network and service
 * stacks) and of each account's GitHub OIDC provider stack, with the environment's name, account
 * and region generalised.
 */
function codeAcknowledgments(): { rows: AckRow[]; perEnvironment: Map<string, string[]> } {
  const app = new App();
  const stacks = addEnvironments(app, resolveEnvironments(ENVIRONMENTS, {}));
  const perEnvironment = new Map<string, string[]>();
  const rows = new Map<string, AckRow>();
  const add = (row: AckRow): string => {
    rows.set(ackKey(row), row);
    return ackKey(row);
  };
  const providers = new Set<unknown>();
  for (const config of ENVIRONMENTS) {
    const environment = stacks.get(config.name)!;
    const generalise = (text: string): string =>
      text
        // The provider stack of a second account has its account in its construct id.
        .replace(new RegExp(`\\b${OIDC_PROVIDER_STACK}-${config.account}\\b`, 'g'), OIDC_PROVIDER_STACK)
        .replace(new RegExp(`\\b${config.name}-`, 'g'), '<env>-')
        .split(config.region)
        .join('<region>')
        .split(config.account)
        .join('<account>');
    const keys: string[] = [];
    for (const stack of [environment.foundation, environment.network, environment.service]) {
      for (const ack of nagAcknowledgments(stack)) {
        keys.push(add({ path: generalise(ack.path), finding: generalise(ack.rule), reason: ack.reason }));
      }
    }
    perEnvironment.set(config.name, keys.sort());
    // Once per account: the stack is shared by the account's environments.
    if (environment.oidcProvider && !providers.has(environment.oidcProvider)) {
      providers.add(environment.oidcProvider);
      for (const ack of nagAcknowledgments(environment.oidcProvider)) {
        add({ path: generalise(ack.path), finding: generalise(ack.rule), reason: ack.reason });
      }
    }
  }
  return { rows: [...rows.values()], perEnvironment };
}

const NAG_START = '<!-- nag-acknowledgments:start -->';
const NAG_END = '<!-- nag-acknowledgments:end -->';

/** Reads the table between the markers: one row per construct and reason, findings joined by <br>. */
function documentedAcknowledgments(markdown: string): AckRow[] {
  const start = markdown.indexOf(NAG_START);
  const end = markdown.indexOf(NAG_END);
  if (start < 0 || end < start) throw new Error(`docs/security.md has no ${NAG_START} ... ${NAG_END} section`);
  const section = markdown.slice(start, end);
  const reasons = new Map<string, string>();
  for (const match of section.matchAll(/^(\d+)\. (.+)$/gm)) reasons.set(match[1]!, plain(match[2]!));
  const [table] = tables(section);
  if (!table) throw new Error('no acknowledgment table between the markers');
  return table.rows.flatMap((cells) => {
    const [path, findings, reasonRef] = cells;
    const number = /\d+/.exec(reasonRef ?? '')?.[0] ?? '';
    const reason = reasons.get(number);
    if (reason === undefined) throw new Error(`row ${cells.join(' | ')} names no listed reason`);
    return findings!.split(/<br\s*\/?>/).map((finding) => ({ path: plain(path!), finding: plain(finding), reason }));
  });
}

/** The section as it should read, printed when the documented one drifts (paste it, then run prettier). */
function renderAcknowledgments(rows: readonly AckRow[]): string {
  const reasons = [...new Set(rows.map((row) => row.reason))];
  const groups = new Map<string, { path: string; findings: string[]; reason: number }>();
  for (const row of rows) {
    const reason = reasons.indexOf(row.reason) + 1;
    const key = `${row.path} ${reason}`;
    const group = groups.get(key) ?? { path: row.path, findings: [], reason };
    group.findings.push(row.finding);
    groups.set(key, group);
  }
  const escape = (text: string): string => text.replace(/[<>*_]/g, (c) => `\\${c}`);
  return [
    NAG_START,
    '',
    '| construct | finding | reason |',
    '| --- | --- | --- |',
    ...[...groups.values()].map(
      (g) => `| \`${g.path}\` | ${g.findings.map((f) => `\`${f}\``).join('<br>')} | (${g.reason}) |`,
    ),
    '',
    ...reasons.map((reason, index) => `${index + 1}. ${escape(reason)}`),
    '',
    NAG_END,
  ].join('\n');
}

describe('docs/security.md lists the cdk-nag acknowledgments of the code', () => {
  const { rows, perEnvironment } = codeAcknowledgments();

  it('finds the same acknowledgments in every environment (so <env> can stand for each)', () => {
    const [first, ...others] = [...perEnvironment.values()];
    expect(first!.length).toBeGreaterThan(0);
    for (const other of others) expect(other).toEqual(first);
  });

  it('documents each acknowledgment (construct path, finding, reason) and no other', () => {
    const actual = rows.map(ackKey).sort();
    let documented: string[];
    try {
      documented = documentedAcknowledgments(read('docs/security.md')).map(ackKey).sort();
    } catch (error) {
      throw new Error(`${String(error)}\n\nThe section should read:\n\n${renderAcknowledgments(rows)}\n`, {
        cause: error,
      });
    }
    if (JSON.stringify(documented) !== JSON.stringify(actual)) {
      const missing = actual.filter((key) => !documented.includes(key));
      const extra = documented.filter((key) => !actual.includes(key));
      throw new Error(
        `docs/security.md disagrees with the code.\nIn the code, not documented:\n  ${missing.join('\n  ')}\n` +
          `Documented, not in the code:\n  ${extra.join('\n  ')}\n\nThe section should read:\n\n${renderAcknowledgments(rows)}\n`,
      );
    }
    expect(documented).toEqual(actual);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. docs/cost.md: the monthly figures
// ---------------------------------------------------------------------------------------------

const HOURS = PRICE_TABLE.hoursPerMonth;
const cents = (value: number): number => Math.round(value * 100) / 100;
const usd = (value: number): string => `$${cents(value).toFixed(2)}`;
const signedUsd = (value: number): string => (cents(value) < 0 ? `−${usd(-value)}` : `+${usd(value)}`);

interface Sizing {
  readonly azCount: number;
  readonly interfaceEndpoints: number;
  readonly task: Pick<TaskConfig, 'cpu' | 'memoryMiB' | 'architecture' | 'spot' | 'desiredCount'>;
  /** Customer managed KMS keys: the environment's one, in its network stack. */
  readonly kmsKeys: number;
  /** When the endpoints and the task run; always when absent. */
  readonly schedule?: Schedule;
}

/**
 * What the stacks create: the network stack ecr.api, ecr.dkr, logs, ssmmessages (ssm and
 * ec2messages behind the flag) and the environment's one KMS key; the service stack the task. A
 * schedule puts the endpoints and the task to sleep outside its window.
 */
const sizing = (config: EnvironmentConfig): Sizing => ({
  azCount: config.azCount,
  interfaceEndpoints: 4 + (config.ec2DebugEndpoints ? 2 : 0),
  task: config.task,
  kmsKeys: 1,
  ...(config.schedule !== undefined ? { schedule: config.schedule } : {}),
});

/** The hours a month the endpoints and the task of a sizing run: all, or its schedule's awake hours. */
const runningHours = (s: Sizing): number => awakeHoursPerMonth(s.schedule, HOURS);

/** The monthly figures of a sizing, each rounded to the cent; the total is the sum of the rounded lines. */
function monthly(s: Sizing): { endpoints: number; fargate: number; kms: number; total: number } {
  const hours = runningHours(s);
  const endpoints = cents(s.interfaceEndpoints * s.azCount * hours * PRICE_TABLE.interfaceEndpointHour);
  const arm = s.task.architecture === 'ARM64';
  const hourly =
    (s.task.cpu / 1024) * (arm ? PRICE_TABLE.fargateArmVcpuHour : PRICE_TABLE.fargateX86VcpuHour) +
    (s.task.memoryMiB / 1024) * (arm ? PRICE_TABLE.fargateArmGbHour : PRICE_TABLE.fargateX86GbHour);
  const fargate = cents(s.task.desiredCount * hourly * hours * (s.task.spot ? PRICE_TABLE.fargateSpotFactor : 1));
  const kms = cents(s.kmsKeys * PRICE_TABLE.kmsKeyMonth);
  return { endpoints, fargate, kms, total: cents(endpoints + fargate + kms) };
}

const taskText = (task: Sizing['task']): string =>
  `${task.desiredCount} × ${task.cpu / 1024} vCPU / ${task.memoryMiB / 1024} GB, ${task.architecture}, ${task.spot ? 'Spot' : 'on demand'}`;

/** The original design: six interface endpoints in one AZ, one 1 vCPU / 3 GB x86_64 task, no KMS key. */
const ORIGINAL: Sizing = {
  azCount: 1,
  interfaceEndpoints: 6,
  task: { cpu: 1024, memoryMiB: 3072, architecture: 'X86_64', spot: false, desiredCount: 1 },
  kmsKeys: 0,
};

/**
 * The reference sizing of docs/cost.md: an environment with every setting at its default
 * (DEFAULTS of infra/lib/config.ts), the same whatever gitops.config.json holds. Its name, account,
 * region and range do not change the figures.
 */
const REFERENCE: EnvironmentConfig = resolveEnvironments([
  environmentFromEntry(
    { name: 'reference', account: '111122223333', region: PRICE_TABLE.region, vpcCidr: '10.0.0.0/22' },
    PROJECT.github,
  ),
])[0]!;

const withTask = (task: Partial<TaskConfig>) => (c: EnvironmentConfig) => ({ ...c, task: { ...c.task, ...task } });

/** The schedule of docs/cost.md's sleeping environment: working days, 10 hours, Tokyo time. */
const OFFICE_HOURS: Schedule = {
  days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'],
  start: '08:00',
  end: '18:00',
  timeZone: 'Asia/Tokyo',
};
const withSchedule = (schedule: Schedule) => (c: EnvironmentConfig) => ({ ...c, schedule });

/** docs/cost.md's sleeping environment: one AZ, X86_64 on Spot, awake in office hours (a fixed reference too). */
const SLEEPING = (c: EnvironmentConfig): EnvironmentConfig =>
  withSchedule(OFFICE_HOURS)(withTask({ architecture: 'X86_64', spot: true })({ ...c, azCount: 1 }));
/** What the sleeping environment must cost at most a month. */
const SLEEPING_TARGET = 15;

/** The knobs docs/cost.md shows, each applied to the reference: [knob cell, setting cell, change]. */
const KNOBS: ReadonlyArray<readonly [string, string, (c: EnvironmentConfig) => EnvironmentConfig]> = [
  ['azCount', '1', (c) => ({ ...c, azCount: 1 })],
  ['azCount', '3', (c) => ({ ...c, azCount: 3 })],
  ['ec2DebugEndpoints', 'true', (c) => ({ ...c, ec2DebugEndpoints: true })],
  ['task.cpu / task.memoryMiB', '512 / 1024', withTask({ cpu: 512, memoryMiB: 1024 })],
  ['task.cpu / task.memoryMiB', '1024 / 2048', withTask({ cpu: 1024, memoryMiB: 2048 })],
  ['task.desiredCount', '2', withTask({ desiredCount: 2 })],
  ['task.architecture', "'X86_64'", withTask({ architecture: 'X86_64' })],
  ['task.spot', "true (with 'X86_64')", withTask({ architecture: 'X86_64', spot: true })],
  [
    'azCount + task.spot',
    "1, true (with 'X86_64')",
    (c) => withTask({ architecture: 'X86_64', spot: true })({ ...c, azCount: 1 }),
  ],
  ['schedule', describeSchedule(OFFICE_HOURS), withSchedule(OFFICE_HOURS)],
];

/** The templates of one environment, for the same estimate the pull-request comment shows. */
function estimateFromTemplates(config: EnvironmentConfig): number {
  const app = new App();
  addEnvironments(app, [config]);
  const assembly = app.synth();
  const names = resourceNames(config);
  const resources: StackResources = {};
  for (const stack of [names.foundationStack, names.networkStack, names.serviceStack]) {
    resources[stack] = (assembly.getStackByName(stack).template as { Resources: StackResources[string] }).Resources;
  }
  return estimateCost(resources).total;
}

/** The column of docs/cost.md's sleeping-environment table for each sizing. */
const SLEEP_COLUMNS = {
  original: 'original design (always on)',
  defaults: 'defaults (always on)',
  sleeping: 'one AZ, Spot, asleep off hours',
} as const;

/** The reference column's name in docs/cost.md's tables. */
const REFERENCE_COLUMN = 'with the defaults';

/** Every figure docs/cost.md shows, keyed by where it is shown. */
function expectedCostFigures(): Map<string, string> {
  const figures = new Map<string, string>();
  const reference = monthly(sizing(REFERENCE));
  figures.set(`${REFERENCE_COLUMN}: interface endpoints, per month`, usd(reference.endpoints));
  figures.set(`${REFERENCE_COLUMN}: Fargate, per month`, usd(reference.fargate));
  figures.set(`${REFERENCE_COLUMN}: KMS key, per month`, usd(reference.kms));
  figures.set(`${REFERENCE_COLUMN}: total per month`, usd(reference.total));
  const comparison: Array<[string, Sizing]> = [
    ['original design', ORIGINAL],
    ['defaults', sizing(REFERENCE)],
    ['defaults with azCount 1', sizing({ ...REFERENCE, azCount: 1 })],
  ];
  for (const [column, s] of comparison) {
    const m = monthly(s);
    figures.set(`${column}: interface endpoints`, usd(m.endpoints));
    figures.set(`${column}: Fargate`, usd(m.fargate));
    figures.set(`${column}: KMS key`, usd(m.kms));
    figures.set(`${column}: total per month`, usd(m.total));
  }
  const sleepComparison: Array<[string, Sizing]> = [
    [SLEEP_COLUMNS.original, ORIGINAL],
    [SLEEP_COLUMNS.defaults, sizing(REFERENCE)],
    [SLEEP_COLUMNS.sleeping, sizing(SLEEPING(REFERENCE))],
  ];
  for (const [column, s] of sleepComparison) {
    const m = monthly(s);
    figures.set(`${column}: interface endpoints`, usd(m.endpoints));
    figures.set(`${column}: Fargate`, usd(m.fargate));
    figures.set(`${column}: KMS key`, usd(m.kms));
    figures.set(`${column}: total per month`, usd(m.total));
  }
  figures.set('sleeping target', usd(SLEEPING_TARGET));
  for (const [knob, setting, change] of KNOBS) {
    const [config] = resolveEnvironments([change(REFERENCE)], {}); // a setting the config refuses fails here
    const total = monthly(sizing(config!)).total;
    figures.set(`${knob} = ${setting}: per month`, usd(total));
    figures.set(`${knob} = ${setting}: change`, signedUsd(total - reference.total));
  }
  // The NAT gateway a design with an internet path would need per AZ, for comparison.
  figures.set('NAT gateway per AZ', usd(HOURS * PRICE_TABLE.natGatewayHour));
  return figures;
}

describe('docs/cost.md matches the price table for the reference sizing (the defaults)', () => {
  const markdown = read('docs/cost.md');
  const docTables = tables(markdown);
  const figures = expectedCostFigures();
  const figure = (key: string): string => {
    const value = figures.get(key);
    if (value === undefined) throw new Error(`no expected figure '${key}'`);
    return value;
  };

  /** The cell of the row whose first cell reads `rowLabel`, in the column headed `column`. */
  function cell(rowLabel: string, column: string, match: (row: readonly string[]) => boolean = () => true): string {
    for (const table of docTables) {
      const index = table.header.findIndex((h) => plain(h) === column);
      if (index < 0) continue;
      const row = table.rows.find((r) => plain(r[0] ?? '') === rowLabel && match(r));
      if (row) return plain(row[index] ?? '');
    }
    throw new Error(`docs/cost.md: no table row '${rowLabel}' with a column '${column}'`);
  }

  it('names the price table, its date and its region, and the hours in a month', () => {
    expect(markdown).toContain('actions/cdk/src/prices.ts');
    expect(markdown).toContain(PRICE_TABLE.date);
    expect(markdown).toContain(PRICE_TABLE.region);
    expect(markdown).toContain(`${HOURS} h`);
  });

  it('describes the reference: every setting at its default, by resource', () => {
    const s = sizing(REFERENCE);
    expect(s).toEqual({
      azCount: DEFAULTS.azCount,
      interfaceEndpoints: DEFAULTS.ec2DebugEndpoints ? 6 : 4,
      task: DEFAULTS.task,
      kmsKeys: 1,
    });
    expect(cell('availability zones (azCount)', REFERENCE_COLUMN)).toBe(String(s.azCount));
    expect(cell('interface endpoints', REFERENCE_COLUMN)).toMatch(new RegExp(`^${s.interfaceEndpoints}\\b`));
    expect(cell('task', REFERENCE_COLUMN)).toBe(taskText(s.task));
    for (const row of [
      'interface endpoints, per month',
      'Fargate, per month',
      'KMS key, per month',
      'total per month',
    ]) {
      expect(cell(row, REFERENCE_COLUMN)).toBe(figure(`${REFERENCE_COLUMN}: ${row}`));
    }
    // One key per environment, in the network stack; the page says so.
    expect(markdown).toMatch(/one (customer managed )?key per environment, in (its|the) network stack/i);
    // The same total as the estimate of the pull-request comment, from the synthesized templates.
    expect(estimateFromTemplates(REFERENCE)).toBeCloseTo(monthly(s).total, 1);
  });

  it('compares with the original design ($110.34 at these prices)', () => {
    expect(monthly(ORIGINAL).total).toBe(110.34);
    for (const column of ['original design', 'defaults', 'defaults with azCount 1']) {
      for (const row of ['interface endpoints', 'Fargate', 'KMS key', 'total per month']) {
        expect(cell(row, column)).toBe(figure(`${column}: ${row}`));
      }
    }
  });

  it(`prices a sleeping environment (one AZ, X86_64 Spot, awake ${describeSchedule(OFFICE_HOURS)}) at or under $${SLEEPING_TARGET}`, () => {
    const [config] = resolveEnvironments([SLEEPING(REFERENCE)], {}); // a setting the config refuses fails here
    const s = sizing(config!);
    expect(monthly(s).total).toBeLessThanOrEqual(SLEEPING_TARGET);
    expect(markdown).toContain(figure('sleeping target'));
    expect(cell('availability zones', SLEEP_COLUMNS.sleeping)).toBe(String(s.azCount));
    expect(cell('task', SLEEP_COLUMNS.sleeping)).toBe(taskText(s.task));
    expect(cell('task', SLEEP_COLUMNS.defaults)).toBe(taskText(sizing(REFERENCE).task));
    expect(cell('task', SLEEP_COLUMNS.original)).toBe(taskText(ORIGINAL.task));
    expect(cell('availability zones', SLEEP_COLUMNS.original)).toBe(String(ORIGINAL.azCount));
    expect(cell('availability zones', SLEEP_COLUMNS.defaults)).toBe(String(REFERENCE.azCount));
    for (const column of [SLEEP_COLUMNS.original, SLEEP_COLUMNS.defaults])
      expect(cell('hours a month', column)).toBe(String(HOURS));
    expect(cell('hours a month', SLEEP_COLUMNS.sleeping)).toBe(
      `${cents(runningHours(s)).toFixed(2)} (${describeSchedule(OFFICE_HOURS)})`,
    );
    for (const column of Object.values(SLEEP_COLUMNS)) {
      for (const row of ['interface endpoints', 'Fargate', 'KMS key', 'total per month']) {
        expect(cell(row, column)).toBe(figure(`${column}: ${row}`));
      }
    }
    // The formula, with the page's numbers: hours a week × 730 / 168.
    expect(markdown).toContain(`${cents(runningHours(s)).toFixed(2)} h`);
    // The same total as the pull-request comment's estimate, which reads the schedule from the templates.
    expect(estimateFromTemplates(config!)).toBeCloseTo(monthly(s).total, 1);
  });

  it.each(KNOBS.map(([knob, setting, change]) => [`${knob} = ${setting}`, knob, setting, change] as const))(
    'prices the knob %s',
    (name, knob, setting, change) => {
      const bySetting = (r: readonly string[]): boolean => plain(r[1] ?? '') === setting;
      expect(cell(knob, 'per month', bySetting)).toBe(figure(`${name}: per month`));
      expect(cell(knob, 'change', bySetting)).toBe(figure(`${name}: change`));
      const [config] = resolveEnvironments([change(REFERENCE)], {});
      expect(estimateFromTemplates(config!)).toBeCloseTo(monthly(sizing(config!)).total, 1);
    },
  );

  // The page shows no configured environment's figures; the pull-request comment shows each one's
  // own estimate. It must follow the page's rules, whatever the environment's settings.
  it.each(ENVIRONMENTS.map((env) => [env.name, env] as const))(
    "prices the configured environment %s by the page's rules (the pull-request comment's estimate)",
    (_name, config) => {
      expect(estimateFromTemplates(config)).toBeCloseTo(monthly(sizing(config)).total, 1);
    },
  );

  it('shows no dollar figure that is neither one of the above nor a unit price of the table', () => {
    const allowed = new Set([
      ...[...figures.values()].map((value) => value.replace(/^[+−]/, '')),
      ...Object.values(PRICE_TABLE as Record<string, unknown>)
        .filter((value) => typeof value === 'number')
        .map((value) => `$${String(value)}`),
    ]);
    const shown = [...markdown.matchAll(/\$\d[\d,]*(?:\.\d+)?/g)].map((m) => m[0]);
    expect(shown.length).toBeGreaterThan(20);
    expect(shown.filter((value) => !allowed.has(value))).toEqual([]);
  });
});
