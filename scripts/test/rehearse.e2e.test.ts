import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commentMarker } from '../../actions/cdk/src/render.js';
import { ENVIRONMENTS } from '../../infra/lib/project.js';
import { MOTO_INSTALL_COMMAND } from '../../test/helpers/moto.js';
import { isPortClosed } from '../../test/helpers/ports.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Rehearsal {
  output(): string;
  exited: Promise<number>;
  interrupt(): void;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
}

function rehearse(args: string[], env: Record<string, string> = {}): Rehearsal {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/rehearse.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  return {
    output: () => output,
    exited,
    interrupt: () => child.kill('SIGINT'),
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const timer = setInterval(() => {
          if (pattern.test(output)) {
            clearInterval(timer);
            resolve();
          } else if (child.exitCode !== null || Date.now() - started > timeoutMs) {
            clearInterval(timer);
            reject(new Error(`rehearse did not print ${pattern}:\n${output}`));
          }
        }, 50);
      }),
  };
}

/** The endpoints the rehearsal printed in step 1: after it ends, nothing may listen there. */
function endpoints(output: string): Record<string, number> {
  const match =
    /at http:\/\/localhost:(\d+), IAM enforced \(moto http:\/\/localhost:(\d+)\), emulator http:\/\/127\.0\.0\.1:(\d+), (?:nginx|built-in HTTP target) http:\/\/127\.0\.0\.1:(\d+)/.exec(
      output,
    );
  if (!match) throw new Error(`no endpoints in:\n${output}`);
  const [gate, moto, emulator, target] = match.slice(1).map(Number);
  return { gate: gate!, moto: moto!, emulator: emulator!, 'HTTP target': target! };
}

/** The services of `endpoints` still listening (named, so that a failure says which). */
async function stillListening(ports: Record<string, number>): Promise<string[]> {
  const open = await Promise.all(
    Object.entries(ports).map(async ([service, port]) => ((await isPortClosed(port)) ? [] : [`${service} :${port}`])),
  );
  return open.flat();
}

const [FIRST, SECOND] = ENVIRONMENTS;

describe('npm run rehearse', () => {
  let output: string;
  beforeAll(() => {
    output = mkdtempSync(join(tmpdir(), 'rehearse-out-'));
  });
  afterAll(() => rmSync(output, { recursive: true, force: true }));

  it('plays the whole flow of the configured project offline, under IAM, and stops everything', async () => {
    const run = rehearse(['--keep-output', output]);
    const code = await run.exited;
    const text = run.output();
    expect([code, text]).toEqual([0, expect.stringContaining('Rehearsal passed.')]);
    for (let step = 1; step <= 7; step++) expect(text).toContain(`[${step}/7] `);
    // The administrator's set-up is docs/setup.md's commands, for every configured environment.
    expect(text).toMatch(/\d+ documented commands: /);
    for (const env of ENVIRONMENTS)
      expect(text).toContain(`${env.name} (foundation, bootstrap ${env.name}-cdk-bootstrap)`);
    // A diff per environment; the merge promotes the same assembly from the first to the next one
    // (in the same account and region), each deployed by its own deploy role and smoke-tested.
    const next = ENVIRONMENTS.slice(1).find((env) => env.account === FIRST!.account && env.region === FIRST!.region);
    const promoted = [FIRST!, ...(next ? [next] : [])];
    expect(text).toContain(`#41 reviewed in ${promoted.length} environment(s) and merged; the same assembly promoted`);
    for (const env of promoted)
      expect(text).toMatch(new RegExp(`${env.name}: deployed as ${env.name}-github-deploy, GET / → 200 in [\\d.]+ ms`));
    expect(text).toContain('a new task definition revision is routine; one comment by the workflow');
    expect(text).toContain(
      'the diff check failed on the pull request; at deploy, refused before any change without the label, and with a label the author added',
    );
    expect(text).toMatch(
      /drift: retention changed out of band → issue #\d+ opened, closed once undone; sleep: asleep \(smoke test: "asleep, wake it with \.\.\."\), wake: awake, smoke test 200/,
    );
    expect(text).toContain('a pull-request token refused by the deploy role');
    if (SECOND && SECOND.account === FIRST!.account)
      expect(text).toContain(`${FIRST!.name}'s deploy role refused ${SECOND.name}'s bootstrap`);
    expect(text).toContain('a bootstrap before its foundation refused (the execution policy does not exist)');
    expect(text).toMatch(/^total\s+[\d.]+ s$/m);
    const comment = readFileSync(join(output, 'pr-comment.md'), 'utf8');
    expect(comment).toContain(commentMarker(FIRST!.name));
    expect(comment).toContain('AWS::ECS::TaskDefinition');
    expect(await stillListening(endpoints(text))).toEqual([]);
  }, 420_000);

  it('stops everything it started on Ctrl-C', async () => {
    const run = rehearse(['--keep-output', output]);
    await run.waitFor(/\[2\/7\] /, 60_000);
    run.interrupt();
    expect(await run.exited).toBe(130);
    expect(run.output()).toContain('Interrupted: stopping everything the rehearsal started...');
    expect(await stillListening(endpoints(run.output()))).toEqual([]);
  }, 120_000);

  it('says how to install moto when python3 cannot run it', async () => {
    // A PATH with node but no python3.
    const bin = mkdtempSync(join(tmpdir(), 'no-python-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    try {
      const run = rehearse(['--keep-output', output], { PATH: bin });
      expect(await run.exited).toBe(2);
      expect(run.output()).toContain("The local AWS needs moto's server for python3");
      expect(run.output()).toContain(MOTO_INSTALL_COMMAND);
      expect(existsSync(join(bin, 'python3'))).toBe(false);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
