import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { GITHUB_OIDC_HOST, STS_AUDIENCE } from '../names.js';

export interface GitHubOidcRoleProps {
  readonly roleName: string;
  readonly description: string;
  readonly providerArn: string;
  /** Exact OIDC subjects allowed to assume the role. No wildcards: each is a full `sub` claim. */
  readonly subjects: readonly string[];
  readonly statements: readonly iam.PolicyStatement[];
  /** @default 1 hour */
  readonly maxSessionDuration?: Duration;
}

/**
 * An IAM role that only GitHub Actions jobs of one repository, with one of the listed exact
 * subjects and the STS audience, can assume through the GitHub OIDC provider.
 */
export class GitHubOidcRole extends Construct {
  readonly role: iam.Role;
  /** The role's permissions, as a managed policy (reviewable, and reusable by ARN, on its own). */
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: GitHubOidcRoleProps) {
    super(scope, id);
    if (props.subjects.length === 0 || props.subjects.some((subject) => /[*?]/.test(subject))) {
      throw new Error(`${props.roleName}: trust needs exact subjects, got ${JSON.stringify(props.subjects)}`);
    }
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `Permissions of ${props.roleName}`,
      statements: [...props.statements],
    });
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: props.description,
      maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
      assumedBy: new iam.WebIdentityPrincipal(props.providerArn, {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: STS_AUDIENCE,
          [`${GITHUB_OIDC_HOST}:sub`]: props.subjects.length === 1 ? props.subjects[0] : [...props.subjects],
        },
      }),
      managedPolicies: [this.policy],
    });
  }
}
