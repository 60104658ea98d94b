import {
  AWS_REGION_PATTERN,
  booleanInput,
  integerInput,
  matchInput,
  optionalInput,
  requiredInput,
  type InputReader,
} from '../../shared/src/inputs.js';

/** action.yml input names. */
export const INPUT = {
  roleToAssume: 'role-to-assume',
  awsRegion: 'aws-region',
  audience: 'audience',
  roleSessionName: 'role-session-name',
  roleDurationSeconds: 'role-duration-seconds',
  maskAwsAccountId: 'mask-aws-account-id',
} as const;

/** The validated inputs of the credentials action. */
export interface Inputs {
  readonly roleArn: string;
  readonly region: string;
  /** @default 'sts.amazonaws.com' */
  readonly audience: string;
  readonly roleSessionName: string;
  /** @default 3600 */
  readonly durationSeconds: number;
  /** @default false */
  readonly maskAccountId: boolean;
}

/** The run the default session name is derived from (GITHUB_* variables). */
export interface RunContext {
  readonly repository?: string;
  readonly runId?: string;
  readonly runAttempt?: string;
}

const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

export function parseInputs(read: InputReader, run: RunContext): Inputs {
  const roleArn = matchInput(
    INPUT.roleToAssume,
    requiredInput(read, INPUT.roleToAssume, 'the ARN of the role to assume'),
    ROLE_ARN,
    'a role ARN such as arn:aws:iam::123456789012:role/dev-github-deploy',
  );
  const region = matchInput(
    INPUT.awsRegion,
    requiredInput(read, INPUT.awsRegion, 'the AWS region, e.g. ap-northeast-1'),
    AWS_REGION_PATTERN,
    'an AWS region such as ap-northeast-1',
  );
  const sessionName = optionalInput(read, INPUT.roleSessionName);
  return {
    roleArn,
    region,
    audience: optionalInput(read, INPUT.audience) ?? 'sts.amazonaws.com',
    roleSessionName: sessionName
      ? matchInput(INPUT.roleSessionName, sessionName, SESSION_NAME, "2-64 characters of letters, digits and '_+=,.@-'")
      : defaultSessionName(run),
    durationSeconds: integerInput(read, INPUT.roleDurationSeconds, { defaultValue: 3600, min: 900, max: 43200 }),
    maskAccountId: booleanInput(read, INPUT.maskAwsAccountId, false),
  };
}

/**
 * `gha-<owner>-<repo>-<run id>-<attempt>`, reduced to STS's characters and 64 characters, so that
 * CloudTrail shows which run used the credentials. The run id and attempt are kept when the
 * repository part has to be shortened.
 */
export function defaultSessionName(run: RunContext): string {
  const clean = (value: string): string => value.replace(/[^\w+=,.@-]/g, '-');
  const suffix = [run.runId, run.runAttempt]
    .filter(Boolean)
    .map((v) => clean(v!))
    .join('-');
  const repository = clean(run.repository ?? 'local');
  const room = 64 - 'gha-'.length - (suffix ? suffix.length + 1 : 0);
  return ['gha', repository.slice(0, Math.max(room, 1)), suffix].filter(Boolean).join('-').slice(0, 64);
}
