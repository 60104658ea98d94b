import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetTemplateCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { parse as parseYaml } from 'yaml';
import { ENVIRONMENT_NAME_PATTERN } from '../../../infra/lib/names.js';
import { awsErrorName, UserInputError, withOperation } from '../../shared/src/errors.js';
import type { NagFinding } from './nag.js';

/**
 * What a pull request's `cdk diff` job hands over to the trusted comment workflow: per stack, the
 * template the pull request would deploy and the template deployed now. The comment workflow
 * computes the diff, the report and the review fingerprint from these itself, with its own code:
 * the job that produced them ran the pull request's code and holds no write token.
 */
export interface DiffData {
  readonly version: 1;
  readonly environment: string;
  readonly account: string;
  readonly region: string;
  /** The pull request's head commit the templates were synthesized from. */
  readonly commit: string;
  readonly method: 'template' | 'change-set';
  readonly stacks: readonly StackData[];
  /** cdk-nag's findings of the synthesis (advisory in the comment; the synth enforces them). */
  readonly nag: readonly NagFinding[];
}

export interface StackData {
  readonly stackName: string;
  readonly template: Record<string, unknown>;
  /** null when the stack is not deployed. */
  readonly deployed: Record<string, unknown> | null;
}

/** The template CloudFormation holds for a stack now, or null when there is no such stack. */
export async function deployedTemplate(
  cloudformation: CloudFormationClient,
  stackName: string,
): Promise<Record<string, unknown> | null> {
  try {
    const { TemplateBody } = await cloudformation.send(
      new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' }),
    );
    if (!TemplateBody) return null;
    return (TemplateBody.trimStart().startsWith('{') ? JSON.parse(TemplateBody) : parseYaml(TemplateBody)) as Record<
      string,
      unknown
    >;
  } catch (error) {
    if (awsErrorName(error) === 'ValidationError' && /does not exist/.test(String((error as Error).message)))
      return null;
    throw withOperation(`Reading the deployed template of ${stackName}`, error);
  }
}

export function writeDiffData(file: string, data: DiffData): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(data));
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads and checks a data file field by field: it comes from a job that ran the pull request's
 * code, so nothing in it is trusted beyond its shape (every string rendered later is escaped).
 */
export function readDiffData(file: string): DiffData {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UserInputError(`${file} is not a diff data file (JSON): ${(error as Error).message}`);
  }
  const problems: string[] = [];
  const data = isObject(raw) ? raw : {};
  if (data.version !== 1) problems.push(`version: expected 1, found ${JSON.stringify(data.version)}`);
  if (typeof data.environment !== 'string' || !ENVIRONMENT_NAME_PATTERN.test(data.environment))
    problems.push(`environment: expected an environment name, found ${JSON.stringify(data.environment)}`);
  for (const field of ['account', 'region', 'commit'] as const)
    if (typeof data[field] !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(data[field] as string))
      problems.push(`${field}: expected a plain string, found ${JSON.stringify(data[field])}`);
  if (data.method !== 'template' && data.method !== 'change-set')
    problems.push(`method: expected template or change-set, found ${JSON.stringify(data.method)}`);
  const stacks = Array.isArray(data.stacks) ? data.stacks : [];
  if (stacks.length === 0) problems.push('stacks: expected at least one stack');
  stacks.forEach((stack: unknown, index) => {
    const s = isObject(stack) ? stack : {};
    if (typeof s.stackName !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(s.stackName))
      problems.push(`stacks[${index}].stackName: expected a stack name, found ${JSON.stringify(s.stackName)}`);
    if (!isObject(s.template)) problems.push(`stacks[${index}].template: expected a template object`);
    if (s.deployed !== null && !isObject(s.deployed))
      problems.push(`stacks[${index}].deployed: expected a template object or null`);
  });
  if (!Array.isArray(data.nag)) problems.push('nag: expected a list');
  if (problems.length > 0) throw new UserInputError(`${file} is not valid diff data:\n  - ${problems.join('\n  - ')}`);
  return raw as DiffData;
}

/** Every data file of a directory (one per environment), sorted by name. */
export function readDiffDataDir(dir: string): DiffData[] {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort();
  if (files.length === 0) throw new UserInputError(`No diff data (*.json) in ${dir}: did the diff jobs upload any?`);
  return files.map((name) => readDiffData(join(dir, name)));
}
