/**
 * Every script answers --help (and -h) with its usage before doing any work, and refuses an unknown
 * option with exit 2. The scripts are listed from the folder, so a new one is covered at once.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const SCRIPTS = readdirSync(new URL('../', import.meta.url))
  .filter((name) => name.endsWith('.ts'))
  .sort();

/** A fake AWS endpoint that records what reaches it and refuses it at once. */
let aws: Server;
let awsRequests: string[] = [];
let awsEndpoint: string;

beforeAll(async () => {
  aws = createServer((request, response) => {
    awsRequests.push(`${request.method} ${request.url} ${request.headers['x-amz-target'] ?? ''}`.trim());
    response.writeHead(503).end();
  });
  await new Promise<void>((resolve) => aws.listen(0, '127.0.0.1', resolve));
  awsEndpoint = `http://127.0.0.1:${(aws.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => aws.close(resolve));
});
beforeEach(() => {
  awsRequests = [];
});

function runScript(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.AWS_PROFILE;
    delete env.AWS_DEFAULT_PROFILE;
    const child = spawn(TSX, [`scripts/${script}`, ...args], {
      cwd: ROOT,
      env: {
        ...env,
        NODE_OPTIONS: '',
        // Any AWS call goes to the recorder, with credentials that need no lookup.
        AWS_ENDPOINT_URL: awsEndpoint,
        AWS_ACCESS_KEY_ID: 'AKIDHELPTEST',
        AWS_SECRET_ACCESS_KEY: 'help-test',
        AWS_REGION: 'ap-northeast-1',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Help must come before any work: a script still running after this did not stop at --help.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
}

it('finds the scripts', () => {
  expect(SCRIPTS).toEqual(expect.arrayContaining(['synth.ts', 'forward.ts', 'doctor.ts', 'bench-forward.ts']));
});

describe.each(SCRIPTS)('scripts/%s', (script) => {
  it.each(['--help', '-h'])('%s prints the usage to stdout and exits 0, calling no AWS API', async (flag) => {
    const { code, stdout, stderr } = await runScript(script, [flag]);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^Usage: /m);
    expect(awsRequests).toEqual([]);
  });

  it('refuses an unknown option with exit 2, naming it and pointing at --help', async () => {
    const { code, stdout, stderr } = await runScript(script, ['--no-such-option']);
    expect({ code, output: stdout + stderr }).toEqual({
      code: 2,
      output: expect.stringMatching(/'--no-such-option'[\s\S]*--help/),
    });
    expect(awsRequests).toEqual([]);
  });
});
