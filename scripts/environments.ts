/**
 * `npm run environments`: the configured environments as the workflows use them (a job matrix),
 * so that no workflow lists environments, accounts, regions or role ARNs by hand: they all come
 * from gitops.config.json.
 */
import { appendFileSync } from 'node:fs';
import { errorMessage } from '../actions/shared/src/errors.js';
import { gitHubRoleArn, resourceNames } from '../infra/lib/names.js';
import { configuredEnvironment, ENVIRONMENTS } from '../infra/lib/project.js';
import type { Schedule } from '../infra/lib/schedule.js';
import { cliArgs, type CliSpec } from './lib/args.js';

const CLI = {
  command: 'npm run environments',
  usage: 'Usage: npm run environments [-- --environment NAME | --scheduled] [--github-output]',
  description:
    'Prints the environments of gitops.config.json, in promotion order, with what a workflow needs for each: ' +
    'the account, the region, the GitHub roles to assume and the stacks. With --github-output, also writes them ' +
    'as the step outputs `matrix` (a JSON list, for strategy.matrix), `names` and `first` to $GITHUB_OUTPUT.',
  options: {
    environment: {
      type: 'string',
      value: 'name',
      description: 'Only this environment (an unknown name fails, listing the known ones)',
      defaultText: 'every environment',
    },
    scheduled: {
      type: 'boolean',
      default: false,
      description: 'Only the environments with a schedule (the ones the sleep workflow puts to sleep and wakes)',
    },
    'github-output': { type: 'boolean', default: false, description: 'Also write the step outputs to $GITHUB_OUTPUT' },
  },
  examples: ['npm run environments', 'npm run environments -- --environment dev --github-output'],
  exitCodes: [
    [0, 'printed'],
    [1, 'an unknown environment or an invalid configuration'],
    [2, 'bad options'],
  ],
} as const satisfies CliSpec;

/** One environment as a workflow job sees it. */
export interface WorkflowEnvironment {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly pullRequestRole: string;
  readonly deployRole: string;
  readonly operatorRole: string;
  readonly stacks: readonly string[];
  /** When it is awake (null: always), for the sleep workflow. */
  readonly schedule: Schedule | null;
}

function main(): number {
  const values = cliArgs(CLI);
  const selected = (values.environment ? [configuredEnvironment(values.environment)] : ENVIRONMENTS).filter(
    (env) => !values.scheduled || env.schedule !== undefined,
  );
  const matrix: WorkflowEnvironment[] = selected.map((env) => {
    const names = resourceNames(env);
    return {
      name: env.name,
      account: env.account,
      region: env.region,
      pullRequestRole: gitHubRoleArn(env, 'pullRequestRole'),
      deployRole: gitHubRoleArn(env, 'deployRole'),
      operatorRole: gitHubRoleArn(env, 'operatorRole'),
      stacks: [names.networkStack, names.serviceStack],
      schedule: env.schedule ?? null,
    };
  });
  console.log(JSON.stringify(matrix, null, 2));
  if (values['github-output']) {
    const file = process.env.GITHUB_OUTPUT;
    if (!file) throw new Error('--github-output: GITHUB_OUTPUT is not set (it is, in a GitHub Actions step).');
    appendFileSync(
      file,
      `matrix=${JSON.stringify(matrix)}\nnames=${JSON.stringify(matrix.map((env) => env.name))}\nfirst=${JSON.stringify(matrix[0] ?? null)}\ncount=${matrix.length}\n`,
    );
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`environments: ${errorMessage(error)}`);
  process.exitCode = 1;
}
