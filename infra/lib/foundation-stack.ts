import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { AdministratorSynthesizer } from './administrator-synthesizer.js';
import { subjectPrefix, type EnvironmentConfig } from './config.js';
import { GitHubOidcRole } from './constructs/github-oidc-role.js';
import {
  cloudFormationExecutionStatements,
  executionBoundaryStatements,
  operatorDiagnosticStatements,
  permissionsBoundaryStatements,
  portForwardingStatements,
  type PolicyScope,
} from './iam-policies.js';
import { bootstrapNames, oidcProviderArn, resourceNames } from './names.js';
import { acknowledgeWildcards } from './nag.js';

export interface FoundationStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/** The CDK bootstrap roles (default synthesizer) the deploy role may assume, and nothing else. */
const BOOTSTRAP_ROLE_KINDS = ['deploy', 'file-publishing', 'image-publishing', 'lookup'] as const;

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
      clusterName: names.cluster,
      workloadStackNames: [names.networkStack, names.serviceStack],
      boundaryPolicyName: names.permissionsBoundary,
      executionPolicyName: names.cloudFormationExecutionPolicy,
      executionBoundaryName: names.cloudFormationExecutionBoundary,
      bootstrapQualifier: config.bootstrapQualifier,
    };
    const bootstrapRoleArn = bootstrap.roleArn;

    const boundary = new iam.ManagedPolicy(this, 'WorkloadBoundary', {
      managedPolicyName: names.permissionsBoundary,
      description: 'Permissions boundary of every role the network and service stacks create',
      statements: permissionsBoundaryStatements(),
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
    const mainBranch = `${prefix}:ref:refs/heads/${github.mainBranch}`;
    const deployEnvironment = `${prefix}:environment:${github.deployEnvironment}`;

    const pullRequest = new GitHubOidcRole(this, 'PullRequest', {
      roleName: names.pullRequestRole,
      description: `Pull requests of ${github.owner}/${github.repo}: read-only template diff of ${config.name}`,
      providerArn,
      subjects: [`${prefix}:pull_request`],
      statements: [
        new iam.PolicyStatement({
          sid: 'AssumeCdkLookupRoleOnly',
          actions: ['sts:AssumeRole', 'sts:TagSession'],
          resources: [bootstrapRoleArn('lookup')],
        }),
        new iam.PolicyStatement({
          sid: 'ReadDeployedTemplates',
          actions: ['cloudformation:GetTemplate', 'cloudformation:DescribeStacks', 'cloudformation:ListStackResources'],
          resources: [names.networkStack, names.serviceStack].map(
            (stack) => `arn:${this.partition}:cloudformation:${this.region}:${this.account}:stack/${stack}/*`,
          ),
        }),
      ],
    });
    this.pullRequestRole = pullRequest.role;

    const deploy = new GitHubOidcRole(this, 'Deploy', {
      roleName: names.deployRole,
      description: `Pushes to ${github.mainBranch} of ${github.owner}/${github.repo}: deploy ${config.name} through the CDK bootstrap roles`,
      providerArn,
      subjects: [mainBranch, deployEnvironment],
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
          resources: [
            `arn:${this.partition}:ssm:${this.region}:${this.account}:parameter${bootstrap.versionParameter}`,
          ],
        }),
      ],
    });
    this.deployRole = deploy.role;

    const operator = new GitHubOidcRole(this, 'Operator', {
      roleName: names.operatorRole,
      description: `Smoke tests of ${config.name} from ${github.owner}/${github.repo}: port forwarding only`,
      providerArn,
      subjects: [mainBranch, deployEnvironment],
      statements: [
        ...portForwardingStatements(policyScope),
        ...operatorDiagnosticStatements(policyScope, names.operatorRole),
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
        "Tasks and services are scoped to this cluster (their ids are generated at run time); ecs:ListTasks has no resource type and is scoped by the ecs:cluster condition; sessions are scoped to those the caller started (their aws:ssmmessages:session-id tag is the caller's aws:userid). The operator role's read-only diagnostics (ECS DescribeTaskDefinition/DescribeClusters, EC2 Describe*, logs:DescribeLogGroups) have no resource type; IAM reads are limited to this environment's workload roles and policies, the simulation to the role itself, the stack read to the service stack (its id is generated).",
      );
    }
    acknowledgeWildcards(
      boundary,
      'A permissions boundary is a ceiling, not a grant: the roles it caps scope their own resources. ecr:GetAuthorizationToken and the ssmmessages channel actions have no resource type.',
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
      "CloudFormation creates VPCs, subnets, endpoints, clusters and task definitions whose ids do not exist before the deploy; those statements are limited to this region (aws:RequestedRegion) and to actions that cannot open an internet path. IAM and log-group rights are scoped to the names CloudFormation generates for this environment's stacks (<stack>-*), and role creation requires the permissions boundary.",
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
