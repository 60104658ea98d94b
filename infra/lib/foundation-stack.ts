import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { AdministratorSynthesizer } from './administrator-synthesizer.js';
import { subjectPrefix, type EnvironmentConfig } from './config.js';
import { GitHubOidcRole } from './constructs/github-oidc-role.js';
import {
  cloudFormationExecutionStatements,
  executionBoundaryStatements,
  driftDetectionStatements,
  operatorDiagnosticStatements,
  permissionsBoundaryStatements,
  portForwardingStatements,
  type PolicyScope,
} from './iam-policies.js';
import { bootstrapNames, jobWorkflowRef, oidcProviderArn, resourceNames, ROLE_WORKFLOWS } from './names.js';
import { cachedRepositoryName } from './image-cache.js';
import { acknowledgeWildcards } from './nag.js';

export interface FoundationStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/**
 * The CDK bootstrap roles (default synthesizer) the deploy role may assume, and nothing else. Not
 * the lookup role: the app does no lookups, and the workload stacks do stack reads with the
 * caller's own credentials (`useLookupRoleForStackOperations: false`, build-app.ts).
 */
const BOOTSTRAP_ROLE_KINDS = ['deploy', 'file-publishing', 'image-publishing'] as const;

/**
 * What a template diff of the workload stacks reads, and nothing more: their deployed templates
 * and status (the CDK toolkit's DescribeStacks and GetTemplate; ListStackResources only for nested
 * stacks, which the app has none of).
 */
const TEMPLATE_READS = ['cloudformation:DescribeStacks', 'cloudformation:GetTemplate'];

/**
 * One environment's foundation in its account, deployed by an administrator with their own
 * credentials (never through a CDK bootstrap role, and never by the deploy workflow): the
 * pull-request, deploy and operator roles GitHub Actions assume, the developers' port-forwarding
 * policy, and the guardrails the environment's own CDK bootstrap is created with instead of
 * AdministratorAccess: the CloudFormation execution policy, the execution role's permissions
 * boundary, and the boundary of every role the workload stacks create. It exists before the
 * bootstrap that names its policies, so nothing is circular.
 */
export class FoundationStack extends Stack {
  readonly pullRequestRole: iam.Role;
  readonly deployRole: iam.Role;
  readonly operatorRole: iam.Role;

  constructor(scope: Construct, id: string, props: FoundationStackProps) {
    // No bootstrap: the CLI deploys it with the administrator's credentials and an inline template.
    super(scope, id, { ...props, synthesizer: new AdministratorSynthesizer() });
    const { config } = props;
    const names = resourceNames(config);
    const { github } = config;
    const bootstrap = bootstrapNames({
      name: config.name,
      account: this.account,
      region: this.region,
      partition: this.partition,
      qualifier: config.bootstrapQualifier,
    });
    const providerArn = oidcProviderArn(this.account, this.partition);

    const policyScope: PolicyScope = {
      account: this.account,
      region: this.region,
      partition: this.partition,
      environmentName: config.name,
      clusterName: names.cluster,
      workloadStackNames: [names.networkStack, names.serviceStack],
      boundaryPolicyName: names.permissionsBoundary,
      executionPolicyName: names.cloudFormationExecutionPolicy,
      executionBoundaryName: names.cloudFormationExecutionBoundary,
      bootstrapQualifier: config.bootstrapQualifier,
      imageRepositories: [
        config.image.kind === 'pull-through-cache' ? `${config.image.repositoryPrefix}/*` : config.image.repositoryName,
      ],
      remoteHostForwarding: config.remoteHostForwarding,
    };
    const bootstrapRoleArn = bootstrap.roleArn;

    const boundary = new iam.ManagedPolicy(this, 'WorkloadBoundary', {
      managedPolicyName: names.permissionsBoundary,
      description: 'Permissions boundary of every role the network and service stacks create',
      statements: permissionsBoundaryStatements(policyScope),
    });
    const executionPolicy = new iam.ManagedPolicy(this, 'CloudFormationExecutionPolicy', {
      managedPolicyName: names.cloudFormationExecutionPolicy,
      description:
        'What CloudFormation may do when deploying this environment (cdk bootstrap --cloudformation-execution-policies)',
      statements: cloudFormationExecutionStatements(policyScope),
    });
    const executionBoundary = new iam.ManagedPolicy(this, 'CloudFormationExecutionBoundary', {
      managedPolicyName: names.cloudFormationExecutionBoundary,
      description:
        'Permissions boundary of the CDK bootstrap execution role (cdk bootstrap --custom-permissions-boundary)',
      statements: executionBoundaryStatements(policyScope),
    });

    const prefix = subjectPrefix(github);
    const deployEnvironment = `${prefix}:environment:${github.deployEnvironment}`;
    const workloadStackArns = [names.networkStack, names.serviceStack].map(
      (stack) => `arn:${this.partition}:cloudformation:${this.region}:${this.account}:stack/${stack}/*`,
    );
    const bootstrapVersionArn = `arn:${this.partition}:ssm:${this.region}:${this.account}:parameter${bootstrap.versionParameter}`;
    /**
     * Who may act on the environment: a job that names it (GitHub then enforces the environment's
     * reviewers and branch rule before it hands out the token), in one of this repository's own
     * workflows on the main branch (so another workflow, or the same one on another branch, that
     * names the environment is refused), of this repository by id when the ids are configured (a
     * repository created later under the same name is refused).
     */
    const environmentTrust = (workflows: readonly string[]) => ({
      subjects: [deployEnvironment],
      claims: {
        job_workflow_ref: workflows.map((file) => jobWorkflowRef(github, file, github.mainBranch)),
        ...(github.repoId !== undefined && github.ownerId !== undefined
          ? { repository_id: [github.repoId], repository_owner_id: [github.ownerId] }
          : {}),
      },
    });

    const pullRequest = new GitHubOidcRole(this, 'PullRequest', {
      roleName: names.pullRequestRole,
      description: `Pull requests of ${github.owner}/${github.repo}: read-only template diff of ${config.name}`,
      providerArn,
      subjects: [`${prefix}:pull_request`],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadDeployedTemplates',
          actions: TEMPLATE_READS,
          resources: workloadStackArns,
        }),
        new iam.PolicyStatement({
          sid: 'ReadOwnBootstrapVersion',
          actions: ['ssm:GetParameter'],
          resources: [bootstrapVersionArn],
        }),
      ],
    });
    this.pullRequestRole = pullRequest.role;

    const deploy = new GitHubOidcRole(this, 'Deploy', {
      roleName: names.deployRole,
      description: `The deploy workflow of ${github.owner}/${github.repo} on ${github.mainBranch}, in the ${config.name} environment: deploy through the CDK bootstrap roles`,
      providerArn,
      ...environmentTrust(ROLE_WORKFLOWS.deployRole),
      statements: [
        new iam.PolicyStatement({
          sid: 'AssumeCdkBootstrapRolesOnly',
          actions: ['sts:AssumeRole', 'sts:TagSession'],
          resources: BOOTSTRAP_ROLE_KINDS.map(bootstrapRoleArn),
        }),
        new iam.PolicyStatement({
          // The deploy preflight: is this environment bootstrapped, with its qualifier and policies?
          sid: 'ReadOwnBootstrapStack',
          actions: ['cloudformation:DescribeStacks'],
          resources: [
            `arn:${this.partition}:cloudformation:${this.region}:${this.account}:stack/${bootstrap.toolkitStack}/*`,
          ],
        }),
        new iam.PolicyStatement({
          sid: 'ReadOwnBootstrapVersion',
          actions: ['ssm:GetParameter'],
          resources: [bootstrapVersionArn],
        }),
        new iam.PolicyStatement({
          // The toolkit reads the deployed templates with the caller's credentials (no lookup
          // role): the security diff before a deploy, and the deploy-time re-check of the change.
          sid: 'ReadDeployedTemplates',
          actions: TEMPLATE_READS,
          resources: workloadStackArns,
        }),
        ...(config.image.kind === 'pull-through-cache'
          ? [
              new iam.PolicyStatement({
                // The deploy preflight: does the pull-through cache hold the tag the tasks pull?
                sid: 'ReadOwnImageCache',
                actions: ['ecr:DescribeImages'],
                resources: [
                  `arn:${this.partition}:ecr:${this.region}:${this.account}:repository/${cachedRepositoryName(config.image)}`,
                ],
              }),
            ]
          : []),
      ],
    });
    this.deployRole = deploy.role;

    const operator = new GitHubOidcRole(this, 'Operator', {
      roleName: names.operatorRole,
      description: `Smoke tests of ${config.name} from ${github.owner}/${github.repo} on ${github.mainBranch}: port forwarding only`,
      providerArn,
      ...environmentTrust(ROLE_WORKFLOWS.operatorRole),
      statements: [
        ...portForwardingStatements(policyScope),
        ...operatorDiagnosticStatements(policyScope, names.operatorRole),
        ...driftDetectionStatements(policyScope),
      ],
    });
    this.operatorRole = operator.role;

    const developerPolicy = new iam.ManagedPolicy(this, 'DeveloperPortForwardPolicy', {
      managedPolicyName: names.developerPolicy,
      description: `Attach to developers' SSO permission set: port-forward to the ${config.name} service, nothing else`,
      statements: portForwardingStatements(policyScope),
    });

    for (const policy of [pullRequest.policy, deploy.policy]) {
      acknowledgeWildcards(
        policy,
        'The stack ARNs end in the stack id CloudFormation generates; the wildcard stands for that id only.',
      );
    }
    for (const forwarding of [operator.policy, developerPolicy]) {
      acknowledgeWildcards(
        forwarding,
        "Tasks and services are scoped to this cluster (their ids are generated at run time); ecs:ListTasks has no resource type and is scoped by the ecs:cluster condition; sessions are scoped to those the caller started (their aws:ssmmessages:session-id tag is the caller's aws:userid). The operator role's read-only diagnostics (ECS DescribeTaskDefinition/DescribeClusters, EC2 Describe*, logs:DescribeLogGroups) have no resource type; IAM reads are limited to this environment's workload roles and policies, the simulation to the role itself, the stack read to the service stack (its id is generated). Drift detection reads what the stacks hold: the two workload stacks (ids generated), their log groups (<stack>-*) and KMS keys (ids generated); its Describe* reads have no resource type.",
      );
    }
    acknowledgeWildcards(
      boundary,
      "A permissions boundary is a ceiling, not a grant: the roles it caps scope their own resources. ecr:GetAuthorizationToken, logs:DescribeLogGroups and the ssmmessages channel actions have no resource type; the rest is this environment's only: its image repositories (the pull-through cache prefix's <prefix>/*), its stacks' log groups (<stack>-*) and KMS keys tagged with its name (key ids are generated).",
    );
    const ceilingReason =
      'A permissions boundary is a ceiling, not a grant: what the execution role may do is its execution policy; this boundary only adds the denials no change to that policy can lift.';
    acknowledgeWildcards(executionBoundary, ceilingReason);
    for (const id of [
      'NIST.800.53.R5-IAMPolicyNoStatementsWithAdminAccess',
      'NIST.800.53.R5-IAMPolicyNoStatementsWithFullAccess',
    ]) {
      Validations.of(executionBoundary).acknowledge({ id, reason: ceilingReason });
    }
    acknowledgeWildcards(
      executionPolicy,
      "CloudFormation creates VPCs, subnets, endpoints, flow logs and keys whose ids do not exist before the deploy: EC2 statements name the resource types (vpc/*, subnet/*...) and require the environment's tag (aws:RequestTag on create, aws:ResourceTag on every resource a change names), interface endpoints only to Amazon's services (ec2:VpceServiceOwner). EC2 Describe*, the ECS and ECR calls and kms:CreateKey have no resource-level scope here and are limited to this region (aws:RequestedRegion), kms:CreateKey to keys tagged for the environment. IAM and log-group rights are scoped to the names CloudFormation generates for this environment's stacks (<stack>-*), and role creation requires the permissions boundary.",
    );

    const outputs: Record<string, [string, string]> = {
      GitHubOidcProviderArn: [providerArn, 'GitHub OIDC provider the roles trust'],
      PullRequestRoleArn: [
        this.pullRequestRole.roleArn,
        'The pull-request role (the pr workflow derives it from gitops.config.json)',
      ],
      DeployRoleArn: [
        this.deployRole.roleArn,
        'The deploy role (the deploy workflow derives it from gitops.config.json)',
      ],
      OperatorRoleArn: [
        this.operatorRole.roleArn,
        'The operator role of the smoke test (derived from gitops.config.json)',
      ],
      DeveloperPolicyArn: [developerPolicy.managedPolicyArn, "Attach to developers' permission set"],
      PermissionsBoundaryArn: [boundary.managedPolicyArn, 'Boundary of every workload role'],
      CloudFormationExecutionPolicyArn: [
        executionPolicy.managedPolicyArn,
        'Pass to cdk bootstrap --cloudformation-execution-policies',
      ],
      CloudFormationExecutionBoundaryName: [
        executionBoundary.managedPolicyName,
        'Pass to cdk bootstrap --custom-permissions-boundary',
      ],
    };
    for (const [outputId, [value, description]] of Object.entries(outputs)) {
      new CfnOutput(this, outputId, { value, description });
    }
  }
}
