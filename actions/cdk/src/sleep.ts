/**
 * Sleep and wake of an environment (docs/workflows.md, "A sleeping environment"): the stacks'
 * `Awake` parameter flipped with the template that is deployed now (`UsePreviousTemplate`) and
 * every other parameter as it was, so a sleep or a wake never deploys anything but the asleep
 * shape (no interface endpoints, no running task) or the awake one: no unreviewed template can
 * ride along, and the review gate's fingerprints (template hashes) stay valid.
 *
 * Order: asleep, the service goes first (its tasks stop before the endpoints they use go); awake,
 * the network first (the endpoints are back before the tasks start and pull their image).
 *
 * It runs as the environment's bootstrap deploy role (as the CDK deploy does), which passes the
 * bootstrap's CloudFormation execution role: the same rights as any deploy, nothing more.
 */
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type Parameter,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { UserInputError, withOperation } from '../../shared/src/errors.js';
import type { Logger } from '../../shared/src/logger.js';
import { describeSchedule, isAwakeAt, type Schedule } from '../../../infra/lib/schedule.js';
import { code, table, text } from './markdown.js';
import {
  bootstrapArgs,
  bootstrapNames,
  cdkCommandLine,
  resourceNames,
  toolkitStackName,
} from '../../../infra/lib/names.js';

/** The template parameter the network and service stacks take (infra/lib/*-stack.ts). */
export const AWAKE_PARAMETER = 'Awake';

export type PowerState = 'asleep' | 'awake';

export interface SleepDeps {
  /** As the caller (the GitHub deploy role): reads the environment's bootstrap stack. */
  readonly cloudformation: CloudFormationClient;
  /** CloudFormation as the bootstrap deploy role `roleArn`. */
  readonly assumeRole: (roleArn: string, region: string) => Promise<CloudFormationClient>;
  readonly logger: Logger;
  readonly sleep: (ms: number) => Promise<void>;
  /** @default 20 minutes per stack */
  readonly timeoutMs?: number;
  /** @default 5 s */
  readonly pollMs?: number;
}

export interface StackPower {
  readonly stack: string;
  /** What was done: `already asleep`, `put to sleep`, `woken`, `not deployed`. */
  readonly result: string;
}

/** Brings the environment's stacks to `state`; returns what happened to each, in order. */
export async function setPower(environment: string, state: PowerState, deps: SleepDeps): Promise<StackPower[]> {
  const bootstrap = await bootstrapOf(environment, deps.cloudformation);
  const cloudformation = await deps.assumeRole(bootstrap.deployRole, bootstrap.region);
  const names = resourceNames({ name: environment });
  const order =
    state === 'asleep' ? [names.serviceStack, names.networkStack] : [names.networkStack, names.serviceStack];
  const results: StackPower[] = [];
  for (const stackName of order) {
    results.push(await setStackPower(stackName, state, bootstrap.executionRole, cloudformation, deps));
  }
  return results;
}

interface Bootstrap {
  readonly region: string;
  readonly deployRole: string;
  readonly executionRole: string;
}

/** The environment's bootstrap roles, from its toolkit stack (qualifier parameter, account and partition of its ARN). */
async function bootstrapOf(environment: string, cloudformation: CloudFormationClient): Promise<Bootstrap> {
  const toolkitStack = toolkitStackName(environment);
  const stack = await describeStack(cloudformation, toolkitStack);
  const qualifier = stack?.Parameters?.find((p) => p.ParameterKey === 'Qualifier')?.ParameterValue;
  const arn = /^arn:([^:]+):cloudformation:([^:]+):(\d{12}):/.exec(stack?.StackId ?? '');
  if (!stack || !qualifier || !arn) {
    throw new UserInputError(
      `${environment} is not bootstrapped: its toolkit stack ${toolkitStack} ${stack ? 'has no Qualifier parameter' : 'does not exist'}. ` +
        `An administrator bootstraps it (docs/setup.md): ${cdkCommandLine(bootstrapArgs({ name: environment, account: '<account>', region: '<region>', qualifier: '<qualifier>' }))}`,
    );
  }
  const [, partition, region, account] = arn;
  const names = bootstrapNames({ name: environment, account: account!, region: region!, qualifier, partition });
  return { region: region!, deployRole: names.roleArn('deploy'), executionRole: names.roleArn('cfn-exec') };
}

async function setStackPower(
  stackName: string,
  state: PowerState,
  executionRole: string,
  cloudformation: CloudFormationClient,
  deps: SleepDeps,
): Promise<StackPower> {
  const stack = await describeStack(cloudformation, stackName);
  if (!stack) return { stack: stackName, result: 'not deployed' };
  const parameters = stack.Parameters ?? [];
  const current = parameters.find((p) => p.ParameterKey === AWAKE_PARAMETER);
  if (!current) {
    throw new UserInputError(
      `${stackName} has no ${AWAKE_PARAMETER} parameter: it was deployed before environments could sleep. Deploy main to it first (the deploy workflow), then sleep or wake it.`,
    );
  }
  const wanted = state === 'awake' ? 'true' : 'false';
  if (current.ParameterValue === wanted) return { stack: stackName, result: `already ${state}` };

  const changeSetName = `${state === 'awake' ? 'wake' : 'sleep'}-${Date.now()}`;
  const next: Parameter[] = parameters.map((p) =>
    p.ParameterKey === AWAKE_PARAMETER
      ? { ParameterKey: AWAKE_PARAMETER, ParameterValue: wanted }
      : { ParameterKey: p.ParameterKey, UsePreviousValue: true },
  );
  deps.logger.info(
    `${stackName}: ${AWAKE_PARAMETER}=${wanted} with the deployed template (change set ${changeSetName}).`,
  );
  await call(`CreateChangeSet ${stackName}`, () =>
    cloudformation.send(
      new CreateChangeSetCommand({
        StackName: stackName,
        ChangeSetName: changeSetName,
        ChangeSetType: 'UPDATE',
        UsePreviousTemplate: true,
        Parameters: next,
        RoleARN: executionRole,
        Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
        Description: `${state === 'awake' ? 'Wake' : 'Sleep'} (sleep workflow): ${AWAKE_PARAMETER}=${wanted}, the deployed template`,
      }),
    ),
  );
  const deadline = Date.now() + (deps.timeoutMs ?? 20 * 60_000);
  const poll = deps.pollMs ?? 5000;
  for (;;) {
    const set = await call(`DescribeChangeSet ${changeSetName}`, () =>
      cloudformation.send(new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName })),
    );
    if (set.Status === 'CREATE_COMPLETE') break;
    if (set.Status === 'FAILED') {
      await cloudformation.send(new DeleteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }));
      if (/didn't contain changes|No updates/i.test(set.StatusReason ?? ''))
        return { stack: stackName, result: `already ${state}` };
      throw new Error(`The change set of ${stackName} failed: ${set.StatusReason ?? 'no reason given'}.`);
    }
    if (Date.now() > deadline) throw new Error(`The change set of ${stackName} was not ready in time (${set.Status}).`);
    await deps.sleep(poll);
  }
  await call(`ExecuteChangeSet ${changeSetName}`, () =>
    cloudformation.send(new ExecuteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName })),
  );
  for (;;) {
    const status = (await describeStack(cloudformation, stackName))?.StackStatus ?? 'DELETED';
    if (status === 'UPDATE_COMPLETE') break;
    if (/FAILED|ROLLBACK|DELETED/.test(status)) {
      throw new Error(
        `${stackName} did not become ${state}: ${status}. See its events (aws cloudformation describe-stack-events --stack-name ${stackName}).`,
      );
    }
    if (Date.now() > deadline) throw new Error(`${stackName} did not finish in time (${status}).`);
    await deps.sleep(poll);
  }
  return { stack: stackName, result: state === 'awake' ? 'woken' : 'put to sleep' };
}

/** Runs an AWS call, naming the operation in its error. */
async function call<T>(operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw withOperation(operation, error);
  }
}

async function describeStack(cloudformation: CloudFormationClient, stackName: string): Promise<Stack | undefined> {
  try {
    const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    return Stacks?.[0];
  } catch (error) {
    if (/does not exist/.test(String((error as Error).message))) return undefined;
    throw withOperation(`DescribeStacks ${stackName}`, error);
  }
}

export interface PowerOutcome {
  readonly command: 'power';
  readonly state: PowerState;
  /** True when a stack changed state (a wake the smoke test should check). */
  readonly changed: boolean;
  readonly summary: string;
  readonly message: string;
}

/**
 * sleep, wake, or schedule (the state the schedule wants now: awake inside its window, asleep
 * outside it; an environment without a schedule is always awake).
 */
export async function runPower(
  command: 'sleep' | 'wake' | 'schedule',
  environment: string,
  schedule: Schedule | undefined,
  now: Date,
  deps: SleepDeps,
): Promise<PowerOutcome> {
  const state: PowerState =
    command === 'sleep' ? 'asleep' : command === 'wake' ? 'awake' : isAwakeAt(schedule, now) ? 'awake' : 'asleep';
  const why =
    command === 'schedule'
      ? schedule
        ? `the schedule (${describeSchedule(schedule)}) wants it ${state} at ${now.toISOString()}`
        : 'it has no schedule: always awake'
      : `${command} asked by hand`;
  deps.logger.info(`${environment}: ${state} (${why}).`);
  const results = await setPower(environment, state, deps);
  const changed = results.some((r) => r.result === 'woken' || r.result === 'put to sleep');
  const summary = [
    `### ${environment}: ${state}`,
    '',
    text(`Why: ${why}.`),
    '',
    table(
      ['stack', 'result'],
      results.map((r) => [code(r.stack), text(r.result)]),
    ),
    '',
  ].join('\n');
  return {
    command: 'power',
    state,
    changed,
    summary,
    message: `${environment} is ${state}: ${results.map((r) => `${r.stack} ${r.result}`).join(', ')}.`,
  };
}
