import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resourceNames } from '../../infra/lib/names.js';
import { ENVIRONMENTS } from '../../infra/lib/project.js';
import { startDoctorWorld, type DoctorWorld } from '../../test/helpers/doctor-world.js';
import { escapeRegExp, UNCONFIGURED_ENVIRONMENT } from '../../test/helpers/configured.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

/** Runs `npm run doctor -- <args>` as a developer would (tsx), and collects its output and exit code. */
function runDoctorCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, ['scripts/doctor.ts', ...args], {
      cwd: ROOT,
      env: { ...env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), output }));
  });
}

/** The environment the world deploys (the first configured one), and its names. */
const ENV = ENVIRONMENTS[0]!;
const NAMES = resourceNames(ENV);
const UNCONFIGURED = UNCONFIGURED_ENVIRONMENT;
const escape = escapeRegExp;

/** The doctor CLI against the first configured environment's stacks in moto and the ECS emulator, end to end. */
describe('npm run doctor', () => {
  let world: DoctorWorld;

  beforeAll(async () => {
    world = await startDoctorWorld();
  }, 120_000);
  afterAll(async () => world?.stop());

  it('healthy: prints the report and exits 0', async () => {
    world.emulator.scenario = world.healthy();
    const { code, output } = await runDoctorCli(['--environment', ENV.name], world.env());
    expect(output).toContain(
      `ECS Exec doctor: ${NAMES.cluster}/${NAMES.service}, container ${NAMES.container}, ${ENV.region}`,
    );
    expect(output).toMatch(
      new RegExp(`^✔ service-exec +ECS Exec is enabled on service ${escape(NAMES.service)}$`, 'm'),
    );
    expect(output).toMatch(/^– caller-start-session +not checked: iam:SimulatePrincipalPolicy/m);
    expect(output).toContain('0 failed, 0 warnings, 1 skipped, 11 ok');
    expect(code).toBe(0);
  });

  it('exec off on the service: the finding and its fix, exit 1', async () => {
    const scenario = world.healthy();
    const service = scenario.clusters[0]!.services[0]!;
    service.enableExecuteCommand = false;
    service.tasks[0]!.enableExecuteCommand = false;
    service.tasks[0]!.containers[0]!.agentStatus = undefined;
    world.emulator.scenario = scenario;
    const { code, output } = await runDoctorCli(['--environment', ENV.name], world.env());
    expect(output).toMatch(new RegExp(`^✖ service-exec +ECS Exec is off on service ${escape(NAMES.service)}`, 'm'));
    expect(output).toMatch(
      new RegExp(
        `^ +fix: ${escape(
          `aws ecs update-service --cluster ${NAMES.cluster} --service ${NAMES.service} --enable-execute-command --force-new-deployment --region ${ENV.region}`,
        )}$`,
        'm',
      ),
    );
    expect(output).toContain('3 failed');
    expect(code).toBe(1);
  });

  it('examines the task given with --task', async () => {
    world.emulator.scenario = world.healthy();
    const { code, output } = await runDoctorCli(
      ['--environment', ENV.name, '--task', world.healthy().clusters[0]!.services[0]!.tasks[0]!.taskId],
      world.env(),
    );
    expect(output).toMatch(/^✔ task +examining task 0a1b2c3d4e5f60718293a4b5c6d7e8f9 /m);
    expect(code).toBe(0);
  });

  it.each([
    [['--environment', UNCONFIGURED], new RegExp(`Unknown environment '${UNCONFIGURED}'`)],
    [['--environment', ENV.name, '--bogus'], /Unknown option '--bogus'/],
    [[], /--environment is required/],
    [['--environment', ENV.name, '--task', 'nope'], /task must be a task id/],
  ])('bad flags %j: exit 2 with the reason', async (args, message) => {
    const { code, output } = await runDoctorCli(args, world.env());
    expect(output).toMatch(message);
    expect(code).toBe(2);
  });

  it('no credentials: exit 2 with what to do', async () => {
    const env = world.env();
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) delete env[name];
    const { code, output } = await runDoctorCli(['--environment', ENV.name], {
      ...env,
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    });
    expect(output).toContain('No AWS credentials found');
    expect(code).toBe(2);
  });
});
