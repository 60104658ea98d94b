/**
 * Trust (role assumption) policy evaluation for the trust matrix and the STS gate: a thin adapter
 * over the full evaluator in `./iam/evaluator.ts`, which follows AWS's documented evaluation logic
 * (every condition operator IAM documents, with `ForAnyValue:`/`ForAllValues:` and `IfExists`) and
 * throws on anything it cannot evaluate rather than guess (see its header for sources and readings).
 *
 * The adapter adds the one rule specific to trust policies: they have no Resource element.
 */
import { evaluatePolicy, globMatch, type Decision, type PolicyDocument, type Statement } from './iam/evaluator.js';

export { globMatch };
export type { Decision, PolicyDocument };

export interface TrustRequest {
  readonly action: string;
  /** The calling principal, e.g. `{ Federated: <provider arn or its CloudFormation reference> }`. */
  readonly principal: { readonly type: 'Federated' | 'AWS' | 'Service'; readonly id: unknown };
  /** Condition keys (case-insensitive) and their values; a missing key is absent from the request. */
  readonly context: Readonly<Record<string, string | readonly string[]>>;
}

/** The trust policy's verdict for an assume-role request. */
export function evaluate(policy: PolicyDocument, request: TrustRequest): Decision {
  for (const statement of statementsOf(policy)) refuseResourceElement(statement);
  // The role the policy is attached to is the resource; trust statements name none, so any matches.
  return evaluatePolicy(policy, {
    action: request.action,
    resource: '*',
    principal: request.principal,
    context: request.context,
  });
}

function statementsOf(policy: PolicyDocument): readonly Statement[] {
  return Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement as Statement];
}

function refuseResourceElement(statement: Statement): void {
  if (statement.Resource !== undefined || statement.NotResource !== undefined) {
    throw new Error('A trust policy has no Resource or NotResource element (IAM rejects it): remove it.');
  }
}

/** The GitHub OIDC claims AWS exposes as condition keys on AssumeRoleWithWebIdentity. */
export interface GitHubClaims {
  readonly sub: string;
  readonly aud: string;
}

export const GITHUB_ISSUER_KEY_PREFIX = 'token.actions.githubusercontent.com';

/** A trust request for `sts:AssumeRoleWithWebIdentity` with a GitHub token's claims. */
export function gitHubWebIdentityRequest(providerRef: unknown, claims: GitHubClaims): TrustRequest {
  return {
    action: 'sts:AssumeRoleWithWebIdentity',
    principal: { type: 'Federated', id: providerRef },
    context: {
      [`${GITHUB_ISSUER_KEY_PREFIX}:sub`]: claims.sub,
      [`${GITHUB_ISSUER_KEY_PREFIX}:aud`]: claims.aud,
    },
  };
}
