/**
 * A small evaluator of IAM trust (resource) policies, for the operators this project's trust
 * policies use. npm's IAM simulators either drop the GitHub OIDC condition keys or crash on trust
 * policies (see shared platform notes), so the trust matrix uses this instead; its own tests
 * prove it on cases that must be allowed and cases that must be denied.
 *
 * Supported: Effect Allow/Deny; Principal `*`, `{ Federated | AWS | Service }`; Action with `*`/`?`
 * wildcards; Condition operators StringEquals, StringNotEquals, StringLike, StringNotLike,
 * StringEqualsIgnoreCase, Bool, each with the `ForAnyValue:`/`ForAllValues:` prefixes and the
 * `IfExists` suffix. Anything else throws: an evaluator that guessed would make the matrix lie.
 */

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

export interface TrustRequest {
  readonly action: string;
  /** The calling principal, e.g. `{ Federated: <provider arn or its CloudFormation reference> }`. */
  readonly principal: { readonly type: 'Federated' | 'AWS' | 'Service'; readonly id: unknown };
  /** Condition keys (case-insensitive) and their values; a missing key is absent from the request. */
  readonly context: Readonly<Record<string, string | readonly string[]>>;
}

interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: unknown;
  readonly Action?: string | string[];
  readonly NotAction?: unknown;
  readonly NotPrincipal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  readonly Statement: Statement | readonly Statement[];
}

export function evaluate(policy: PolicyDocument, request: TrustRequest): Decision {
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement as Statement];
  let allowed = false;
  for (const statement of statements) {
    if (statement.NotAction !== undefined || statement.NotPrincipal !== undefined) {
      throw new Error('NotAction/NotPrincipal are not supported by this evaluator');
    }
    if (!matchesAction(statement.Action, request.action)) continue;
    if (!matchesPrincipal(statement.Principal, request.principal)) continue;
    if (!matchesConditions(statement.Condition ?? {}, request.context)) continue;
    if (statement.Effect === 'Deny') return 'ExplicitDeny';
    if (statement.Effect === 'Allow') allowed = true;
    else throw new Error(`Unknown Effect ${JSON.stringify(statement.Effect)}`);
  }
  return allowed ? 'Allow' : 'ImplicitDeny';
}

function toList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** IAM's wildcard match: `*` any run of characters, `?` one character. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, ignoreCase ? 'is' : 's').test(value);
}

function matchesAction(actions: unknown, action: string): boolean {
  // Action names are case-insensitive in IAM.
  return toList(actions).some((pattern) => typeof pattern === 'string' && globMatch(pattern, action, true));
}

function matchesPrincipal(principal: unknown, caller: TrustRequest['principal']): boolean {
  if (principal === '*') return true;
  if (!principal || typeof principal !== 'object') return false;
  const ids = toList((principal as Record<string, unknown>)[caller.type]);
  const wanted = JSON.stringify(caller.id);
  return ids.some((id) => id === '*' || JSON.stringify(id) === wanted);
}

function matchesConditions(
  conditions: Record<string, Record<string, unknown>>,
  context: TrustRequest['context'],
): boolean {
  const lowered = new Map(
    Object.entries(context).map(([key, value]) => [key.toLowerCase(), toList(value) as string[]]),
  );
  return Object.entries(conditions).every(([operator, entries]) =>
    Object.entries(entries).every(([key, expected]) =>
      evaluateOperator(operator, toList(expected).map(String), lowered.get(key.toLowerCase())),
    ),
  );
}

const COMPARATORS: Record<string, { match: (expected: string, actual: string) => boolean; negated: boolean }> = {
  StringEquals: { match: (e, a) => e === a, negated: false },
  StringNotEquals: { match: (e, a) => e === a, negated: true },
  StringEqualsIgnoreCase: { match: (e, a) => e.toLowerCase() === a.toLowerCase(), negated: false },
  StringLike: { match: (e, a) => globMatch(e, a), negated: false },
  StringNotLike: { match: (e, a) => globMatch(e, a), negated: true },
  Bool: { match: (e, a) => e.toLowerCase() === a.toLowerCase(), negated: false },
};

function evaluateOperator(operator: string, expected: string[], actual: string[] | undefined): boolean {
  const qualifier = /^(ForAnyValue|ForAllValues):/.exec(operator)?.[1];
  let name = qualifier ? operator.slice(qualifier.length + 1) : operator;
  const ifExists = name.endsWith('IfExists');
  if (ifExists) name = name.slice(0, -'IfExists'.length);
  const comparator = COMPARATORS[name];
  if (!comparator) throw new Error(`Condition operator ${operator} is not supported by this evaluator`);

  const present = actual !== undefined && actual.length > 0;
  if (!present) {
    if (ifExists) return true;
    if (qualifier === 'ForAllValues') return true; // vacuously true over an empty set
    if (qualifier === 'ForAnyValue') return false;
    return comparator.negated; // e.g. StringNotEquals on a missing key matches
  }
  const matchesAny = (value: string): boolean => expected.some((e) => comparator.match(e, value));
  if (qualifier === 'ForAllValues') {
    return actual.every((value) => (comparator.negated ? !matchesAny(value) : matchesAny(value)));
  }
  if (qualifier === 'ForAnyValue') {
    return actual.some((value) => (comparator.negated ? !matchesAny(value) : matchesAny(value)));
  }
  if (actual.length > 1)
    throw new Error(`A single-valued operator (${operator}) got several values: use ForAnyValue/ForAllValues`);
  const [value] = actual as [string];
  return comparator.negated ? !matchesAny(value) : matchesAny(value);
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
