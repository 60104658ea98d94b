/**
 * `npm run doctor -- --environment dev`: checks everything ECS Exec (and so SSM port forwarding)
 * needs for the environment's service, the way aws-samples' ecs-exec-checker does, and prints each
 * problem with its exact fix. Read-only: it changes nothing.
 *
 *   npm run doctor -- --environment dev [--task TASK_ID] [--profile NAME] [--region REGION]
 *
 * Exit codes: 0 nothing fails (warnings and skipped checks allowed), 1 a check fails, 2 bad flags
 * or no credentials.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { failed, formatFindings, runDoctor } from '../actions/shared/src/doctor/index.js';
import { UserInputError, errorMessage } from '../actions/shared/src/errors.js';
import { ENVIRONMENTS } from '../infra/lib/project.js';
import { cliArgs, type CliSpec } from './lib/args.js';
import { cliEnvironment, consoleLogger } from './lib/cli.js';

const USAGE = `Usage: npm run doctor -- --environment <${ENVIRONMENTS.map((e) => e.name).join('|')}> [--task TASK_ID]
       [--profile NAME] [--region REGION]`;

interface DoctorArgs {
  readonly environment: string;
  readonly task?: string;
  readonly profile?: string;
  readonly region?: string;
}

const CLI = {
  command: 'npm run doctor',
  usage: USAGE,
  description:
    "Checks everything ECS Exec (and so SSM port forwarding) needs for the environment's service, the way " +
    "aws-samples' ecs-exec-checker does: the service and task settings, the agent, the task role, the VPC " +
    'endpoints, your own permissions. Prints each problem with its exact fix. Read-only: it changes nothing.',
  options: {
    environment: {
      type: 'string',
      short: 'e',
      value: 'name',
      description: `The environment to check, one of ${ENVIRONMENTS.map((e) => e.name).join(', ')}`,
      required: true,
    },
    task: {
      type: 'string',
      value: 'id',
      description: 'Examine this task, by id or ARN',
      defaultText: "a running task of the service's current task definition",
    },
    profile: {
      type: 'string',
      value: 'name',
      description: 'The AWS profile to use',
      defaultText: 'the default credential chain: AWS_PROFILE, environment variables, SSO...',
    },
    region: {
      type: 'string',
      value: 'region',
      description: 'The AWS region',
      defaultText: "AWS_REGION, else the environment's region",
    },
  },
  examples: ['npm run doctor -- --environment dev', 'npm run doctor -- --environment dev --profile dev-sso'],
  exitCodes: [
    [0, 'nothing fails (warnings and skipped checks allowed)'],
    [1, 'a check fails (its fix is printed)'],
    [2, 'bad options or no AWS credentials'],
  ],
} as const satisfies CliSpec;

function parse(argv: string[]): DoctorArgs {
  const values = cliArgs(CLI, argv);
  if (!values.environment) throw new UserInputError(`--environment is required.\n${USAGE}`);
  if (!ENVIRONMENTS.some((env) => env.name === values.environment)) {
    throw new UserInputError(
      `Unknown environment '${values.environment}': expected one of ${ENVIRONMENTS.map((e) => e.name).join(', ')}.`,
    );
  }
  return { environment: values.environment, task: values.task, profile: values.profile, region: values.region };
}

const logger = consoleLogger('DOCTOR_DEBUG');

async function main(): Promise<number> {
  const args = parse(process.argv.slice(2));
  const { names, region, clientConfig } = await cliEnvironment(args);
  const target = {
    cluster: names.cluster,
    service: names.service,
    container: names.container,
    region,
    ...(args.task ? { taskId: args.task } : {}),
  };
  console.log(
    `ECS Exec doctor: ${target.cluster}/${target.service}, container ${target.container}, ${region}${args.task ? `, task ${args.task}` : ''}`,
  );
  const findings = await runDoctor(
    {
      ecs: new ECSClient(clientConfig),
      ec2: new EC2Client(clientConfig),
      iam: new IAMClient(clientConfig),
      sts: new STSClient(clientConfig),
      logs: new CloudWatchLogsClient(clientConfig),
      logger,
    },
    target,
  );
  console.log(formatFindings(findings));
  return failed(findings).length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`doctor: ${errorMessage(error)}`);
    process.exit(error instanceof UserInputError ? 2 : 1);
  },
);
