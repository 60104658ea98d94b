import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { GITHUB_OIDC_HOST, STS_AUDIENCE } from '../names.js';

/**
 * Token claims a trust may require besides `sub` and `aud`, each as the exact values it accepts.
 * AWS STS exposes these GitHub claims as condition keys `token.actions.githubusercontent.com:<claim>`
 * on AssumeRoleWithWebIdentity (AWS STS, "validation of identity provider specific claims", 2026).
 */
export type GitHubClaim = 'job_workflow_ref' | 'repository_id' | 'repository_owner_id';

export interface GitHubOidcRoleProps {
  readonly roleName: string;
  readonly description: string;
  readonly providerArn: string;
  /** Exact OIDC subjects allowed to assume the role. No wildcards: each is a full `sub` claim. */
  readonly subjects: readonly string[];
  /**
   * Further claims the token must carry, each with the exact values accepted (one of them). A
   * token without the claim is refused (StringEquals on a missing key is false).
   * @default - only `sub` and `aud`
   */
  readonly claims?: Partial<Readonly<Record<GitHubClaim, readonly string[]>>>;
  readonly statements: readonly iam.PolicyStatement[];
  /** @default 1 hour */
  readonly maxSessionDuration?: Duration;
}

const single = (values: readonly string[]): string | string[] => (values.length === 1 ? values[0]! : [...values]);

/**
 * An IAM role that only GitHub Actions jobs of one repository, with one of the listed exact
 * subjects (and, when given, the listed claims) and the STS audience, can assume through the
 * GitHub OIDC provider.
 */
export class GitHubOidcRole extends Construct {
  readonly role: iam.Role;
  /** The role's permissions, as a managed policy (reviewable, and reusable by ARN, on its own). */
  readonly policy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: GitHubOidcRoleProps) {
    super(scope, id);
    const exact = (values: readonly string[]): boolean => values.length > 0 && !values.some((v) => /[*?]/.test(v));
    if (!exact(props.subjects)) {
      throw new Error(`${props.roleName}: trust needs exact subjects, got ${JSON.stringify(props.subjects)}`);
    }
    const claims = Object.entries(props.claims ?? {}) as Array<[GitHubClaim, readonly string[]]>;
    for (const [claim, values] of claims) {
      if (!exact(values)) {
        throw new Error(`${props.roleName}: trust needs exact ${claim} values, got ${JSON.stringify(values)}`);
      }
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
          [`${GITHUB_OIDC_HOST}:sub`]: single(props.subjects),
          ...Object.fromEntries(claims.map(([claim, values]) => [`${GITHUB_OIDC_HOST}:${claim}`, single(values)])),
        },
      }),
      managedPolicies: [this.policy],
    });
  }
}
