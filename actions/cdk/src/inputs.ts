import { ENVIRONMENT_NAME_PATTERN, ENVIRONMENT_NAME_RULE } from '../../../infra/lib/names.js';
import { scheduleProblems, type Schedule } from '../../../infra/lib/schedule.js';
import { UserInputError } from '../../shared/src/errors.js';
import { booleanInput, optionalInput, requiredInput, type InputReader } from '../../shared/src/inputs.js';

/** The action.yml input names, in one place. */
export const INPUT = {
  command: 'command',
  environment: 'environment',
  stacks: 'stacks',
  app: 'app',
  assemblyDir: 'assembly-dir',
  outputDir: 'output-dir',
  workingDirectory: 'working-directory',
  diffMethod: 'diff-method',
  deploymentMethod: 'deployment-method',
  githubToken: 'github-token',
  comment: 'comment',
  failOnDestructive: 'fail-on-destructive',
  allowDestructiveLabel: 'allow-destructive-label',
  reportFile: 'report-file',
  dataFile: 'data-file',
  dataDir: 'data-dir',
  pullRequest: 'pull-request',
  headSha: 'head-sha',
  reviewedFingerprint: 'reviewed-fingerprint',
  reviewGate: 'review-gate',
  schedule: 'schedule',
} as const;

export type Command = 'synth' | 'diff' | 'comment' | 'deploy' | 'drift' | 'sleep' | 'wake' | 'schedule';

/** The validated inputs of the cdk action. */
export interface Inputs {
  readonly command: Command;
  readonly environment: string;
  /** Stack name patterns; empty means the environment's default selection. */
  readonly stacks: readonly string[];
  /** @default - cdk.json's app */
  readonly app?: string;
  /** A pre-synthesized assembly; when set nothing is synthesized. */
  readonly assemblyDir?: string;
  /** @default 'cdk.out' */
  readonly outputDir: string;
  /** @default - the workspace */
  readonly workingDirectory?: string;
  readonly diffMethod: 'template' | 'change-set';
  readonly deploymentMethod: 'change-set' | 'direct';
  readonly githubToken?: string;
  /** 'auto' becomes true on pull_request events in `shouldComment`. */
  readonly comment: boolean | 'auto';
  readonly failOnDestructive: boolean;
  readonly allowDestructiveLabel?: string;
  readonly reportFile?: string;
  /** diff: where to write the data the comment command renders from. */
  readonly dataFile?: string;
  /** comment: the directory of diff data files. */
  readonly dataDir?: string;
  /** comment: the pull request to comment on. */
  readonly pullRequest?: number;
  /** comment: the head commit the data must be for. */
  readonly headSha?: string;
  /** deploy: the override of the review gate. */
  readonly reviewedFingerprint?: string;
  /** deploy: whether the review gate runs. @default true */
  readonly reviewGate: boolean;
  /** schedule: the environment's schedule (none: always awake). */
  readonly schedule?: Schedule;
}

const STACK_PATTERN = /^[A-Za-z0-9*][A-Za-z0-9*-]*$/;

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UserInputError(`Input '${name}' must be one of ${allowed.join(', ')}, got '${value}'.`);
  }
  return value as T;
}

/** Reads and validates every input; throws a UserInputError naming the input on a bad value. */
export function parseInputs(read: InputReader): Inputs {
  const command = oneOf(
    INPUT.command,
    requiredInput(read, INPUT.command, 'synth, diff, comment, deploy, drift, sleep, wake or schedule'),
    ['synth', 'diff', 'comment', 'deploy', 'drift', 'sleep', 'wake', 'schedule'] as const,
  );
  // The comment command takes its environments from the diff data it is given.
  const environment =
    command === 'comment'
      ? (optionalInput(read, INPUT.environment) ?? '')
      : requiredInput(read, INPUT.environment, 'an environment name of gitops.config.json');
  if (command !== 'comment' && !ENVIRONMENT_NAME_PATTERN.test(environment)) {
    throw new UserInputError(
      `Input 'environment' must be an environment name of gitops.config.json (${ENVIRONMENT_NAME_RULE}), got '${environment}'.`,
    );
  }
  const stacks = (optionalInput(read, INPUT.stacks) ?? '').split(/[\s,]+/).filter(Boolean);
  for (const pattern of stacks) {
    if (!STACK_PATTERN.test(pattern)) {
      throw new UserInputError(
        `Input 'stacks' must hold stack names or patterns with * (e.g. dev-network dev-*), got '${pattern}'.`,
      );
    }
  }
  const commentRaw = optionalInput(read, INPUT.comment) ?? 'auto';
  const comment = commentRaw === 'auto' ? 'auto' : booleanInput(read, INPUT.comment, true);
  return {
    command,
    environment,
    stacks,
    app: optionalInput(read, INPUT.app),
    assemblyDir: optionalInput(read, INPUT.assemblyDir),
    outputDir: optionalInput(read, INPUT.outputDir) ?? 'cdk.out',
    workingDirectory: optionalInput(read, INPUT.workingDirectory),
    diffMethod: oneOf(INPUT.diffMethod, optionalInput(read, INPUT.diffMethod) ?? 'template', [
      'template',
      'change-set',
    ] as const),
    deploymentMethod: oneOf(INPUT.deploymentMethod, optionalInput(read, INPUT.deploymentMethod) ?? 'change-set', [
      'change-set',
      'direct',
    ] as const),
    githubToken: optionalInput(read, INPUT.githubToken),
    comment,
    failOnDestructive: booleanInput(read, INPUT.failOnDestructive, true),
    allowDestructiveLabel: optionalInput(read, INPUT.allowDestructiveLabel),
    reportFile: optionalInput(read, INPUT.reportFile),
    dataFile: optionalInput(read, INPUT.dataFile),
    ...commentInputs(read, command),
    reviewedFingerprint: matchOptional(
      read,
      INPUT.reviewedFingerprint,
      /^[0-9a-f]{16}$/,
      'the 16 hex characters a refused deploy printed',
    ),
    reviewGate:
      oneOf(INPUT.reviewGate, optionalInput(read, INPUT.reviewGate) ?? 'enforce', ['enforce', 'off'] as const) ===
      'enforce',
    ...(command === 'schedule' ? { schedule: scheduleInput(read) } : {}),
  };
}

/** `schedule`: the matrix entry's schedule as JSON (`null` or empty: the environment never sleeps). */
function scheduleInput(read: InputReader): Schedule | undefined {
  const raw = optionalInput(read, INPUT.schedule);
  if (raw === undefined || raw === 'null') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UserInputError(
      `Input 'schedule' must be the environment's schedule as JSON (\${{ toJSON(matrix.environment.schedule) }}), got '${raw}'.`,
    );
  }
  const problems = scheduleProblems(parsed);
  if (problems.length > 0)
    throw new UserInputError(
      `Input 'schedule' is not a valid schedule: ${problems.map((p) => `${p.field}: expected ${p.expected}, found ${JSON.stringify(p.found)}`).join('; ')}.`,
    );
  return parsed as Schedule;
}

/** The comment command's own inputs: where the data is, which pull request, which head commit. */
function commentInputs(read: InputReader, command: Command): Pick<Inputs, 'dataDir' | 'pullRequest' | 'headSha'> {
  if (command !== 'comment') return {};
  const dataDir = requiredInput(read, INPUT.dataDir, "the directory the diff jobs' data was downloaded to");
  const number = requiredInput(
    read,
    INPUT.pullRequest,
    'the pull request number (github.event.workflow_run.pull_requests[0].number)',
  );
  if (!/^[1-9]\d*$/.test(number))
    throw new UserInputError(`Input 'pull-request' must be a pull request number, got '${number}'.`);
  return {
    dataDir,
    pullRequest: Number(number),
    headSha: matchOptional(read, INPUT.headSha, /^[0-9a-f]{40}$/, 'a 40-character commit sha'),
  };
}

function matchOptional(read: InputReader, name: string, pattern: RegExp, expected: string): string | undefined {
  const value = optionalInput(read, name);
  if (value !== undefined && !pattern.test(value))
    throw new UserInputError(`Input '${name}' must be ${expected}, got '${value}'.`);
  return value;
}

/** `comment: auto` means: on pull-request events, when there is a pull request number. */
export function shouldComment(inputs: Pick<Inputs, 'comment'>, eventName: string | undefined): boolean {
  if (inputs.comment === 'auto') return eventName === 'pull_request' || eventName === 'pull_request_target';
  return inputs.comment;
}
