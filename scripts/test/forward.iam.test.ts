import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { AttachRolePolicyCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { SSMClient, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { resourceNames } from '../../infra/lib/names.js';
import { ENVIRONMENTS } from '../../infra/lib/project.js';
import { synthesize } from '../../infra/test/helpers/app.js';
import { startForward } from '../../test/helpers/forward-process.js';
import { IamGate } from '../../test/helpers/iam/gate.js';
import { startMoto, type LocalAws } from '../../test/helpers/moto.js';
import { startNginx, type LocalNginx } from '../../test/helpers/nginx.js';
import { SsmEmulator } from '../../test/helpers/ssm-emulator/emulator.js';
import { healthyScenario } from '../../test/helpers/ssm-emulator/scenario.js';

const ENV = ENVIRONMENTS[0]!;
const NAMES = resourceNames(ENV);
const run = promisify(execFile);

/**
 * `npm run forward` as a developer whose only rights are the foundation's developer policy (as an
 * SSO permission set would give them), through the IAM gate: every call it makes must be allowed
 * by that policy, and a developer without it is refused at the first call.
 */
describe('npm run forward with the developer policy, under IAM', () => {
  let aws: LocalAws;
  let gate: IamGate;
  let nginx: LocalNginx;
  let emulator: SsmEmulator;
  let admin: { accessKeyId: string; secretAccessKey: string };

  /** A role trusting the account, with the given managed policies, and a session of it. */
  async function developer(name: string, policies: string[]): Promise<Record<string, string>> {
    const iam = new IAMClient({ endpoint: gate.endpoint, region: aws.region, credentials: admin });
    await iam.send(
      new CreateRoleCommand({
        RoleName: name,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${aws.account}:root` }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    );
    for (const policy of policies)
      await iam.send(
        new AttachRolePolicyCommand({ RoleName: name, PolicyArn: `arn:aws:iam::${aws.account}:policy/${policy}` }),
      );
    const sts = new STSClient({ endpoint: gate.endpoint, region: aws.region, credentials: admin });
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${aws.account}:role/${name}`, RoleSessionName: 'alice' }),
    );
    return {
      AWS_ACCESS_KEY_ID: Credentials!.AccessKeyId!,
      AWS_SECRET_ACCESS_KEY: Credentials!.SecretAccessKey!,
      AWS_SESSION_TOKEN: Credentials!.SessionToken!,
      AWS_REGION: ENV.region,
      AWS_ENDPOINT_URL: gate.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }

  beforeAll(async () => {
    aws = await startMoto();
    nginx = await startNginx();
    emulator = await new SsmEmulator(healthyScenario({ target: { host: '127.0.0.1', port: nginx.port } })).start();
    gate = await new IamGate({ aws, emulator }).start();
    admin = gate.administrator();
    // The foundation, as the administrator deploys it: it holds the developer policy.
    const cloudformation = new CloudFormationClient({
      endpoint: gate.endpoint,
      region: aws.region,
      credentials: admin,
    });
    await cloudformation.send(
      new CreateStackCommand({
        StackName: NAMES.foundationStack,
        TemplateBody: JSON.stringify(synthesize(ENV).foundation.toJSON()),
        Capabilities: ['CAPABILITY_NAMED_IAM'],
      }),
    );
  }, 120_000);

  afterAll(async () => {
    await gate?.stop();
    await emulator?.stop();
    await nginx?.stop();
    await aws?.stop();
  });

  it('forwards the service and ends its session with nothing but the developer policy', async () => {
    const credentials = await developer('developer', [NAMES.developerPolicy]);
    const before = gate.decisions.length;
    const tunnel = startForward(['--environment', ENV.name, '--local-port', '0'], credentials);
    const url = await tunnel.waitForUrl(30_000);
    const { stdout } = await run('curl', ['--silent', '--max-time', '20', `${url}/`]);
    expect(stdout).toContain('Welcome to nginx!');
    expect(await tunnel.interrupt()).toBe(0);
    const calls = gate.decisions.slice(before);
    expect(calls.filter((d) => d.outcome !== 'allowed')).toEqual([]);
    // Every call was the developer's, each authorized by the developer policy.
    expect(calls.every((d) => d.caller.includes('assumed-role/developer/alice'))).toBe(true);
    expect(calls.map((d) => d.call)).toEqual(
      expect.arrayContaining(['ecs:ListTasks', 'ecs:DescribeTasks', 'ssm:StartSession']),
    );
    expect(emulator.activeSessions()).toEqual([]);
  }, 90_000);

  it("lets a developer end their own session through the API, and nobody else's", async () => {
    const owner = await developer('owner', [NAMES.developerPolicy]);
    const colleague = await developer('colleague', [NAMES.developerPolicy]);
    const tunnel = startForward(['--environment', ENV.name, '--local-port', '0'], owner);
    await tunnel.waitForUrl(30_000);
    const [session] = emulator.activeSessions();
    const terminate = (env: Record<string, string>) =>
      new SSMClient({
        endpoint: gate.endpoint,
        region: ENV.region,
        credentials: {
          accessKeyId: env.AWS_ACCESS_KEY_ID!,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY!,
          sessionToken: env.AWS_SESSION_TOKEN,
        },
      }).send(new TerminateSessionCommand({ SessionId: session!.sessionId }));
    // Session Manager tags a session with its creator's aws:userid; the policy matches it to the caller's.
    await expect(terminate(colleague)).rejects.toThrow(/not authorized to perform: ssm:TerminateSession/);
    await expect(terminate(owner)).resolves.toBeDefined();
    await tunnel.interrupt();
  }, 90_000);

  it('refuses a developer without the policy at the first call, and says which right is missing', async () => {
    const tunnel = startForward(['--environment', ENV.name, '--local-port', '0'], await developer('outsider', []));
    expect(await tunnel.exited).not.toBe(0);
    expect(tunnel.output()).toMatch(/not authorized to perform: ecs:(ListTasks|DescribeServices)/);
    expect(gate.refusals.some((d) => d.caller.includes('assumed-role/outsider/'))).toBe(true);
  }, 60_000);
});
