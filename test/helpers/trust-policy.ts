/**
 * Trust (role assumption) policy evaluation for the trust matrix and the STS gate: a thin adapter
 * over the full evaluator in `./iam/evaluator.ts`, which follows AWS's documented evaluation logic
 * and throws on anything it cannot evaluate (see its header for sources and readings).
 *
 * The adapter keeps this module's own contract: it evaluates only the condition operators this
 * project's trust policies use (StringEquals, StringNotEquals, StringLike, StringNotLike,
 * StringEqualsIgnoreCase, Bool, each with `ForAnyValue:`/`ForAllValues:` and `IfExists`) and
 * refuses any other, so a trust policy that starts using a new operator is looked at (and its cases
 * added to the trust matrix) before it is trusted. Trust policies have no Resource element.
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

const TRUST_OPERATORS = new Set([
  'StringEquals',
  'StringNotEquals',
  'StringLike',
  'StringNotLike',
  'StringEqualsIgnoreCase',
  'Bool',
]);

/** The trust policy's verdict for an assume-role request. */
export function evaluate(policy: PolicyDocument, request: TrustRequest): Decision {
  for (const statement of statementsOf(policy)) refuseOutsideTrustSubset(statement);
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

function refuseOutsideTrustSubset(statement: Statement): void {
  if (statement.Resource !== undefined || statement.NotResource !== undefined) {
    throw new Error('A trust policy has no Resource or NotResource element (IAM rejects it): remove it.');
  }
  for (const operator of Object.keys(statement.Condition ?? {})) {
    const base = operator.replace(/^(ForAnyValue|ForAllValues):/, '').replace(/IfExists$/, '');
    if (!TRUST_OPERATORS.has(base)) {
      throw new Error(
        `Condition operator ${operator} is not supported by this evaluator for trust policies: expected one of ` +
          `${[...TRUST_OPERATORS].join(', ')}. Add it here together with trust-matrix cases that exercise it.`,
      );
    }
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
