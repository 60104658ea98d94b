/**
 * The names and patterns every part of the project agrees on: the CDK app, the actions, the
 * scripts, the tests and the docs. Dependency-free on purpose (no CDK, no SDK, no config file), so
 * the bundled actions can import it without pulling the app in.
 *
 * Physical names derive from the environment name, so that the foundation stack can scope its
 * policies to the workload stacks' resources and the actions and scripts can find stacks without
 * cross-stack exports. Changing one renames (and so replaces) a resource: treat them as a contract.
 */

/** An environment name: 2-15 lower-case letters, digits and single dashes, starting with a letter. */
export const ENVIRONMENT_NAME_PATTERN = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,14}$/;
/** What ENVIRONMENT_NAME_PATTERN means, for error messages. */
export const ENVIRONMENT_NAME_RULE =
  '2-15 lower-case letters, digits and single dashes, starting with a letter and not ending with a dash';
/** A 12-digit AWS account id. */
export const ACCOUNT_PATTERN = /^\d{12}$/;
/** An AWS region name, commercial, GovCloud or ISO (e.g. eu-west-1, us-gov-west-1). */
export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$/;
/** A CDK bootstrap qualifier: it ends up in S3 bucket and IAM role names, so lower-case only. */
export const BOOTSTRAP_QUALIFIER_PATTERN = /^[a-z0-9]{1,10}$/;

/** The container the task runs, and the port Nginx listens on inside the task. */
export const CONTAINER_NAME = 'nginx';
export const CONTAINER_PORT = 80;

/** The issuer host GitHub Actions tokens come from; also the prefix of the trust condition keys. */
export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';
/** The audience the credentials action requests (and the only one the roles accept). */
export const STS_AUDIENCE = 'sts.amazonaws.com';
/** The stack that holds the account's GitHub OIDC provider (one per account). */
export const OIDC_PROVIDER_STACK = 'github-oidc-provider';

/** Session Manager documents for port forwarding: to the task itself, or through it to another host. */
export const PORT_FORWARDING_DOCUMENT = 'AWS-StartPortForwardingSession';
export const REMOTE_HOST_FORWARDING_DOCUMENT = 'AWS-StartPortForwardingSessionToRemoteHost';

/**
 * The workflow files (under `.github/workflows/`) whose jobs may assume the roles that change or
 * reach an environment, on the main branch only: the deploy role's and the operator role's trust
 * require the token's `job_workflow_ref` to be one of these, so another workflow of the repository
 * (or one on another branch) that names the environment is refused. The workflows and the trust
 * read the same list.
 */
export const ROLE_WORKFLOWS = {
  // deploy.yml deploys; sleep.yml flips the stacks' Awake parameter with the deployed template.
  deployRole: ['deploy.yml', 'sleep.yml'],
  // Smoke tests (after a deploy, on dispatch, after a wake) and drift detection.
  operatorRole: ['deploy.yml', 'smoke-test.yml', 'sleep.yml', 'drift.yml'],
} as const;

/**
 * GitHub's `job_workflow_ref` claim of a job in a workflow of this repository (not a reusable
 * workflow of another): `OWNER/REPO/.github/workflows/FILE@refs/heads/BRANCH`. GitHub names the
 * repository here by owner and name, in both subject formats.
 */
export function jobWorkflowRef(
  github: { readonly owner: string; readonly repo: string },
  workflowFile: string,
  branch: string,
): string {
  return `${github.owner}/${github.repo}/.github/workflows/${workflowFile}@refs/heads/${branch}`;
}

/** The tag every stack of an environment carries (build-app.ts), and that its resources inherit. */
export const ENVIRONMENT_TAG = 'environment';

/** The label a reviewer adds to a pull request to let a destructive change deploy. */
export const ALLOW_DESTRUCTIVE_LABEL = 'allow-destructive-change';

/** The per-environment names of stacks, the ECS service, roles and policies. */
export interface ResourceNames {
  readonly foundationStack: string;
  readonly networkStack: string;
  readonly serviceStack: string;
  readonly cluster: string;
  readonly service: string;
  readonly container: string;
  readonly containerPort: number;
  readonly pullRequestRole: string;
  readonly deployRole: string;
  readonly operatorRole: string;
  readonly developerPolicy: string;
  /** Ceiling of every role the workload stacks create (task, execution, flow-log roles). */
  readonly permissionsBoundary: string;
  /** What the CDK bootstrap's CloudFormation execution role may do (`--cloudformation-execution-policies`). */
  readonly cloudFormationExecutionPolicy: string;
  /** Ceiling of the execution role itself (`cdk bootstrap --custom-permissions-boundary`). */
  readonly cloudFormationExecutionBoundary: string;
}

export function resourceNames(env: { readonly name: string }): ResourceNames {
  const { name } = env;
  return {
    foundationStack: `${name}-foundation`,
    networkStack: `${name}-network`,
    serviceStack: `${name}-service`,
    cluster: `${name}-cluster`,
    service: `${name}-nginx`,
    container: CONTAINER_NAME,
    containerPort: CONTAINER_PORT,
    pullRequestRole: `${name}-github-pull-request`,
    deployRole: `${name}-github-deploy`,
    operatorRole: `${name}-github-operator`,
    developerPolicy: `${name}-developer-port-forward`,
    permissionsBoundary: `${name}-workload-boundary`,
    cloudFormationExecutionPolicy: `${name}-cfn-execution`,
    cloudFormationExecutionBoundary: `${name}-cfn-execution-boundary`,
  };
}

/** The stacks the deploy workflow deploys, in dependency order. The foundation is never one of them. */
export function deployableStacks(env: { readonly name: string }): string[] {
  const names = resourceNames(env);
  return [names.networkStack, names.serviceStack];
}

/**
 * The default bootstrap qualifier of an environment: its name without dashes, cut to 10 characters.
 * Each environment gets its own bootstrap (own roles, own execution policy), so that bootstrapping
 * one environment never changes another's and one environment's deploy role cannot use another's.
 */
export function defaultBootstrapQualifier(environmentName: string): string {
  return environmentName.replace(/-/g, '').slice(0, 10);
}

/** Where one environment's CDK bootstrap lives. */
export interface BootstrapTarget {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly qualifier: string;
  /** @default 'aws' */
  readonly partition?: string;
}

/** The kinds of role a CDK bootstrap creates. */
export type BootstrapRoleKind = 'deploy' | 'file-publishing' | 'image-publishing' | 'lookup' | 'cfn-exec';

/** The names a bootstrap with this project's flags creates, and what it is created with. */
export interface BootstrapNames {
  /** `--toolkit-stack-name`: one bootstrap stack per environment, so each has its own. */
  readonly toolkitStack: string;
  /** The SSM parameter with the bootstrap version that every template checks. */
  readonly versionParameter: string;
  readonly executionPolicyArn: string;
  readonly executionBoundaryName: string;
  readonly roleArn: (kind: BootstrapRoleKind) => string;
}

/** The bootstrap (toolkit) stack of an environment: one per environment (`--toolkit-stack-name`). */
export function toolkitStackName(environmentName: string): string {
  return `${environmentName}-cdk-bootstrap`;
}

export function bootstrapNames(target: BootstrapTarget): BootstrapNames {
  const partition = target.partition ?? 'aws';
  const names = resourceNames(target);
  return {
    toolkitStack: toolkitStackName(target.name),
    versionParameter: `/cdk-bootstrap/${target.qualifier}/version`,
    executionPolicyArn: `arn:${partition}:iam::${target.account}:policy/${names.cloudFormationExecutionPolicy}`,
    executionBoundaryName: names.cloudFormationExecutionBoundary,
    roleArn: (kind) =>
      `arn:${partition}:iam::${target.account}:role/cdk-${target.qualifier}-${kind}-role-${target.account}-${target.region}`,
  };
}

/**
 * The administrator's `cdk bootstrap` of one environment, as argv after `npx cdk`: its own
 * qualifier and toolkit stack, the foundation's execution policy instead of AdministratorAccess,
 * and the foundation's boundary on the execution role; from the assembly `npm run synth` wrote
 * (the CLI would synthesize the app again otherwise). docs/setup.md, `npm run configure`, the
 * rehearsal and the deploy preflight's error all print this one.
 */
export function bootstrapArgs(target: BootstrapTarget, options: { readonly app?: string } = {}): string[] {
  const names = bootstrapNames(target);
  return [
    'bootstrap',
    '--app',
    options.app ?? 'cdk.out',
    `aws://${target.account}/${target.region}`,
    '--qualifier',
    target.qualifier,
    '--toolkit-stack-name',
    names.toolkitStack,
    '--cloudformation-execution-policies',
    names.executionPolicyArn,
    '--custom-permissions-boundary',
    names.executionBoundaryName,
  ];
}

/**
 * The administrator's deploy of one environment's foundation (with their own credentials), from
 * the assembly `npm run synth` wrote to cdk.out, as argv after `npx cdk`.
 */
export function foundationDeployArgs(
  env: { readonly name: string },
  options: { readonly app?: string } = {},
): string[] {
  return [
    'deploy',
    '--app',
    options.app ?? 'cdk.out',
    resourceNames(env).foundationStack,
    '--method=direct',
    '--require-approval',
    'never',
  ];
}

/** The four variables docs/setup.md's commands use, as one `export` line for a shell. */
export function setupVariables(target: BootstrapTarget): string {
  return `export ENV=${target.name} ACCOUNT=${target.account} REGION=${target.region} QUALIFIER=${target.qualifier}`;
}

/** A CDK CLI command line as the docs and messages print it: `npx cdk <argv>`. */
export function cdkCommandLine(argv: readonly string[]): string {
  return `npx cdk ${shellLine(argv)}`;
}

/** argv as one shell line, quoting only what needs it. */
export function shellLine(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The ARN of the account's GitHub OIDC provider: IAM names it after the issuer URL, one per account. */
export function oidcProviderArn(account: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:oidc-provider/${GITHUB_OIDC_HOST}`;
}

/** The partition of a region: aws-cn for China, aws-us-gov for GovCloud, aws elsewhere. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The ARN of one of an environment's GitHub roles. */
export function gitHubRoleArn(
  env: { readonly name: string; readonly account: string; readonly region: string },
  role: 'pullRequestRole' | 'deployRole' | 'operatorRole',
): string {
  return `arn:${partitionOf(env.region)}:iam::${env.account}:role/${resourceNames(env)[role]}`;
}
