/**
 * `npm run configure`: writes gitops.config.json, the one place an adopter changes, after validating
 * it, and prints the set-up commands that follow from it.
 *
 * Environments are listed in promotion order. An environment that keeps its name keeps its CIDR
 * and every setting it had (task size, image, AZs...); a new one gets the defaults and the next
 * free VPC range. Changing the repository without ids drops the old repository's ids.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format } from 'prettier';
import { errorMessage } from '../actions/shared/src/errors.js';
import { CONFIG_FILE, ConfigError, parseProjectFile, type ProjectFile } from '../infra/lib/config.js';
import { cliArgs, type CliSpec } from './lib/args.js';
import { CODEOWNERS_FILE, codeOwnersFile } from './lib/code-owners.js';
import { applyOptions, nextSteps, summary } from './lib/configure-options.js';

const CLI = {
  command: 'npm run configure',
  usage:
    'Usage: npm run configure -- --owner OWNER --repo REPO [--owner-id N --repo-id M] --region REGION\n' +
    '         --environment NAME=ACCOUNT[:REGION] [--environment ...] [--cidr NAME=CIDR ...]\n' +
    '       npm run configure -- --show',
  description:
    `Validates and writes ${CONFIG_FILE}: the GitHub repository whose workflows may deploy, and the ` +
    'environments in promotion order (the first is deployed first). Options left out keep their current ' +
    'value. Then prints the set-up commands for the configuration (docs/setup.md).',
  options: {
    owner: {
      type: 'string',
      value: 'owner',
      description: 'GitHub owner (user or organization)',
      defaultText: 'unchanged',
    },
    repo: { type: 'string', value: 'repo', description: 'GitHub repository name', defaultText: 'unchanged' },
    'owner-id': {
      type: 'string',
      value: 'n',
      description: "Numeric owner id, for GitHub's immutable OIDC subjects (gh api repos/O/R --jq .owner.id)",
      defaultText: 'unchanged; dropped when the repository changes',
    },
    'repo-id': {
      type: 'string',
      value: 'n',
      description: 'Numeric repository id (gh api repos/O/R --jq .id); with --owner-id',
      defaultText: 'unchanged; dropped when the repository changes',
    },
    'main-branch': {
      type: 'string',
      value: 'branch',
      description: 'The branch whose pushes deploy',
      defaultText: 'unchanged (main)',
    },
    region: {
      type: 'string',
      value: 'region',
      description: 'Region of the environments that name none (with no --environment: of every environment)',
      defaultText: 'unchanged',
    },
    environment: {
      type: 'string',
      multiple: true,
      value: 'name=account[:region]',
      description: 'An environment, in promotion order; repeat for each. Replaces the list.',
      defaultText: 'unchanged',
    },
    cidr: {
      type: 'string',
      multiple: true,
      value: 'name=cidr',
      description: 'VPC range of an environment (/16 to /24)',
      defaultText: 'kept, or the next free 10.x0.0.0/22',
    },
    'existing-oidc-provider': {
      type: 'string',
      multiple: true,
      value: 'account',
      description: "An account that already has GitHub's OIDC provider (the foundation then does not create it)",
      defaultText: 'unchanged',
    },
    'code-owner': {
      type: 'string',
      multiple: true,
      value: '@user|@org/team',
      description: 'Who must review .github/, actions/, infra/ and the configuration (.github/CODEOWNERS)',
      defaultText: 'unchanged; @OWNER for a new owner',
    },
    'dry-run': { type: 'boolean', description: 'Validate and print, but write nothing', default: false },
    show: { type: 'boolean', description: 'Print the current configuration and its set-up commands', default: false },
  },
  examples: [
    'npm run configure -- --owner acme --repo platform-live --owner-id 4242 --repo-id 987654 --region eu-west-1 --environment dev=210987654321 --environment prod=210987654321',
    'npm run configure -- --show',
  ],
  exitCodes: [
    [0, 'written (or shown)'],
    [1, 'the configuration would be invalid: nothing written'],
    [2, 'bad options'],
  ],
} as const satisfies CliSpec;

const CONFIG_PATH = fileURLToPath(new URL(`../${CONFIG_FILE}`, import.meta.url));
const CODEOWNERS_PATH = fileURLToPath(new URL(`../${CODEOWNERS_FILE}`, import.meta.url));

/**
 * The current file, or an empty one when it is missing or not JSON (configure then needs --owner,
 * --repo and --environment, and repairs it).
 */
function readCurrent(): ProjectFile {
  try {
    const parsed = JSON.parse(readFileSync(CONFIG_PATH, 'utf8')) as Partial<ProjectFile>;
    return {
      github: { owner: '', repo: '', ...parsed.github },
      environments: Array.isArray(parsed.environments) ? parsed.environments : [],
    };
  } catch (error) {
    console.error(
      `warning: ${CONFIG_FILE} could not be read (${errorMessage(error)}); starting from an empty configuration.`,
    );
    return { github: { owner: '', repo: '' }, environments: [] };
  }
}

async function main(): Promise<number> {
  const values = cliArgs(CLI);
  const raw = readCurrent();
  if (values.show) {
    const project = parseProjectFile(raw);
    console.log(`${summary(project)}\n\n${nextSteps(project)}`);
    return 0;
  }
  const next = applyOptions(raw, {
    owner: values.owner,
    repo: values.repo,
    ownerId: values['owner-id'],
    repoId: values['repo-id'],
    mainBranch: values['main-branch'],
    region: values.region,
    environments: values.environment,
    cidrs: values.cidr,
    existingOidcProviders: values['existing-oidc-provider'],
    codeOwners: values['code-owner'],
  });
  const project = parseProjectFile(next, `the configuration these options make (${CONFIG_FILE} is unchanged)`);
  const text = await format(JSON.stringify(next, null, 2), { parser: 'json', filepath: CONFIG_PATH });
  if (values['dry-run']) {
    console.log(`Dry run: ${CONFIG_FILE} would read:\n${text}`);
  } else {
    writeFileSync(CONFIG_PATH, text);
    writeFileSync(CODEOWNERS_PATH, codeOwnersFile(project));
    console.log(`Wrote ${CONFIG_FILE} and ${CODEOWNERS_FILE}.`);
  }
  console.log(`\n${summary(project)}\n\n${nextSteps(project)}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`configure: ${errorMessage(error)}`);
    process.exit(error instanceof ConfigError ? 1 : 2);
  },
);
