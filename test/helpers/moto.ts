import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENVIRONMENTS } from '../../infra/lib/project.js';
import { freePort, stopProcess, waitFor } from './ports.js';

/**
 * The account the local AWS plays by default: the first configured environment's (moto's own
 * default, 123456789012, would let a test pass only on configurations that happen to use it).
 */
export const LOCAL_ACCOUNT = ENVIRONMENTS[0]!.account;
/** The region the local AWS plays by default: the first configured environment's. */
export const LOCAL_REGION = ENVIRONMENTS[0]!.region;

/** A running moto server: the local AWS the tests and the rehearsal deploy into. */
export interface LocalAws {
  /** `http://localhost:<port>`: the host must be `localhost`, with 127.0.0.1 moto misreads S3 URLs. */
  readonly endpoint: string;
  readonly port: number;
  readonly account: string;
  readonly region: string;
  /** Environment for an SDK client or the CDK CLI in a child process, pointed at this moto only. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** Forget every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Variables that would point a child process at a real AWS account; never passed on. */
export const AMBIENT_AWS_VARIABLES = [
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
];

/**
 * How to get moto's server (and cfn-lint, which the tests also need) on any machine: a venv, as the
 * GitHub workflow does, since a plain `pip install` fails on Debian's and the runners' Python
 * (PEP 668: externally-managed-environment). Same command as .ci/run's.
 */
export const MOTO_INSTALL_COMMAND =
  "python3 -m venv ~/.venvs/moto && ~/.venvs/moto/bin/pip install 'moto[server]==5.2.1' cfn-lint " +
  '&& export PATH="$HOME/.venvs/moto/bin:$PATH"';

/** The Pythons already found to have moto's server (the probe runs once per process). */
const motoPythons = new Set<string>();

/**
 * Fails with the fix when python3 or moto is missing, instead of a spawn error later. The probe
 * finds moto's server modules without importing them: importing moto.server costs most of a second.
 */
export function assertMotoInstalled(python = 'python3'): void {
  if (motoPythons.has(python)) return;
  const probe = spawnSync(
    python,
    [
      '-c',
      'import importlib.util as u, sys; missing = [m for m in ("moto", "flask", "flask_cors", "werkzeug") if u.find_spec(m) is None]; ' +
        'sys.exit("No module named " + ", ".join(missing) if missing else 0)',
    ],
    { encoding: 'utf8' },
  );
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `The local AWS needs moto's server for ${python}, and ${python} -c 'import moto.server' failed ` +
        `(${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}). ` +
        `Install it in a venv first on PATH: ${MOTO_INSTALL_COMMAND}`,
    );
  }
  motoPythons.add(python);
}

/** Starts `python3 -m moto.server` on a free loopback port and waits until it answers. */
export async function startMoto(
  options: {
    region?: string;
    account?: string;
    python?: string;
    env?: Record<string, string>;
    /** Load AWS managed policies (ReadOnlyAccess...) into IAM, as AWS has them: needed where roles attach them. */
    awsManagedPolicies?: boolean;
  } = {},
): Promise<LocalAws> {
  const python = options.python ?? 'python3';
  const region = options.region ?? LOCAL_REGION;
  const account = options.account ?? LOCAL_ACCOUNT;
  assertMotoInstalled(python);
  const port = await freePort();
  const endpoint = `http://localhost:${port}`;
  const child: ChildProcess = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // MOTO_ACCOUNT_ID: the account every unknown access key (the tests' static keys) acts in.
    env: {
      ...process.env,
      MOTO_ACCOUNT_ID: account,
      ...(options.awsManagedPolicies ? { MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' } : {}),
      ...options.env,
    },
  });
  let stderr = '';
  // MOTO_LOG=<file>: keep moto's whole log (requests and Python tracebacks) for debugging.
  const log = process.env.MOTO_LOG ? createWriteStream(process.env.MOTO_LOG, { flags: 'a' }) : undefined;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    log?.write(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The CDK CLI caches the account of each access key in $CDK_HOME forever: a home of its own per
  // local AWS, so a run against another configuration's account never reads a stale one.
  const cdkHome = mkdtempSync(join(tmpdir(), 'cdk-home-'));

  try {
    await waitFor(`moto on ${endpoint}`, async () => {
      if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode}: ${stderr}`);
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      return response.ok;
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }

  return {
    endpoint,
    port,
    account,
    region,
    env(extra = {}) {
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const name of AMBIENT_AWS_VARIABLES) delete env[name];
      return {
        ...env,
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_EC2_METADATA_DISABLED: 'true',
        CDK_DEFAULT_ACCOUNT: account,
        CDK_HOME: cdkHome,
        CDK_DEFAULT_REGION: region,
        ...extra,
      };
    },
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
    },
    async stop() {
      await stopProcess(child, exited);
      rmSync(cdkHome, { recursive: true, force: true });
    },
  };
}

/** SDK client configuration for a LocalAws (static test credentials, the moto endpoint). */
export function motoClientConfig(aws: LocalAws): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  return {
    endpoint: aws.endpoint,
    region: aws.region,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

/**
 * One cheap read per service the flows use, so that moto imports each service's code (the first
 * CloudFormation call took 2 s in a trace of the rehearsal) while the flow does something else,
 * such as synthesizing. Resolves when all have answered; never rejects (a service that fails here
 * fails again, with its error, when the flow calls it).
 */
export async function warmUpMoto(aws: LocalAws): Promise<void> {
  const authorization = (service: string): string =>
    `AWS4-HMAC-SHA256 Credential=testing/20260101/${aws.region}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
  const query = (service: string, body: string) => ({
    method: 'POST',
    headers: { authorization: authorization(service), 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const json = (service: string, target: string) => ({
    method: 'POST',
    headers: {
      authorization: authorization(service),
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': target,
    },
    body: '{}',
  });
  const calls: RequestInit[] = [
    query('cloudformation', 'Action=DescribeStacks&Version=2010-05-15'),
    query('iam', 'Action=ListRoles&Version=2010-05-08'),
    query('ec2', 'Action=DescribeVpcs&Version=2016-11-15'),
    query('sts', 'Action=GetCallerIdentity&Version=2011-06-15'),
    json('ssm', 'AmazonSSM.DescribeParameters'),
    json('ecs', 'AmazonEC2ContainerServiceV20141113.ListClusters'),
    json('logs', 'Logs_20140328.DescribeLogGroups'),
    json('kms', 'TrentService.ListKeys'),
    { method: 'GET', headers: { authorization: authorization('s3') } },
  ];
  await Promise.allSettled(
    calls.map((init) => fetch(`${aws.endpoint}/`, init).then((response) => response.arrayBuffer())),
  );
}
