import { ENVIRONMENT_NAME_PATTERN, ENVIRONMENT_NAME_RULE } from '../../../infra/lib/names.js';
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
} as const;

export type Command = 'synth' | 'diff' | 'deploy';

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
  const command = oneOf(INPUT.command, requiredInput(read, INPUT.command, 'synth, diff or deploy'), [
    'synth',
    'diff',
    'deploy',
  ] as const);
  const environment = requiredInput(read, INPUT.environment, 'the environment name, e.g. dev');
  if (!ENVIRONMENT_NAME_PATTERN.test(environment)) {
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
  };
}

/** `comment: auto` means: on pull-request events, when there is a pull request number. */
export function shouldComment(inputs: Pick<Inputs, 'comment'>, eventName: string | undefined): boolean {
  if (inputs.comment === 'auto') return eventName === 'pull_request' || eventName === 'pull_request_target';
  return inputs.comment;
}
