/**
 * Just enough IAM evaluation to answer "does this role's policy allow these actions on `*`":
 * Allow and Deny statements with Action/NotAction wildcards. Conditions are not evaluated (a
 * statement with one is reported as conditional), resources must cover `*` (the ssmmessages
 * channel actions have no resource type).
 */
import type { NamedPolicy, PolicyStatement } from './types.js';

export type ActionDecision = 'allowed' | 'conditional' | 'denied' | 'implicitDeny';

function list<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** IAM wildcard match (`*` and `?`), case-insensitive as action names are. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 'i').test(value);
}

function statementMatches(statement: PolicyStatement, action: string): boolean {
  const actionMatches =
    statement.NotAction !== undefined
      ? !list(statement.NotAction).some((pattern) => wildcardMatch(pattern, action))
      : list(statement.Action).some((pattern) => wildcardMatch(pattern, action));
  const resourceMatches = list(statement.Resource).some((pattern) => pattern === '*' || wildcardMatch(pattern, '*'));
  return actionMatches && (statement.Resource === undefined || resourceMatches);
}

function statements(policies: readonly NamedPolicy[]): PolicyStatement[] {
  return policies.flatMap((policy) => list(policy.document.Statement));
}

/** The decision of a set of identity policies for one action on `*`. */
export function decide(policies: readonly NamedPolicy[], action: string): ActionDecision {
  const all = statements(policies).filter((statement) => statementMatches(statement, action));
  if (all.some((s) => s.Effect === 'Deny' && s.Condition === undefined)) return 'denied';
  const allows = all.filter((s) => s.Effect === 'Allow');
  if (allows.some((s) => s.Condition === undefined)) {
    return all.some((s) => s.Effect === 'Deny') ? 'conditional' : 'allowed';
  }
  return allows.length > 0 ? 'conditional' : 'implicitDeny';
}
