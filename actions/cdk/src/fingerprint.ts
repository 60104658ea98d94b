import { createHash } from 'node:crypto';

/**
 * What a reviewer approved, per stack: the template the pull request would deploy (`head`) and the
 * template that was deployed when the diff was computed (`base`; `none` when the stack did not
 * exist). The diff comment records it; the deploy recomputes it for the merge and deploys only when
 * both agree, so the change that reaches the account is the change that was reviewed (not a stale
 * pull request, another merge in between, or drift).
 */
export interface ReviewFingerprint {
  readonly environment: string;
  /** The pull request's head commit the diff was computed for. */
  readonly commit: string;
  readonly stacks: readonly StackFingerprint[];
}

export interface StackFingerprint {
  readonly stack: string;
  readonly head: string;
  readonly base: string;
}

/** `base` of a stack that is not deployed yet. */
export const NOT_DEPLOYED = 'none';

/** SHA-256 of a template's canonical JSON (keys sorted at every level): equal templates, equal hashes. */
export function templateHash(template: unknown): string {
  return createHash('sha256').update(canonicalJson(template)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${canonicalJson(child)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The fingerprint of deploying `templates` over `deployed` (a missing deployed template: not deployed). */
export function fingerprintOf(
  environment: string,
  commit: string,
  stacks: readonly { readonly stack: string; readonly template: unknown; readonly deployed: unknown }[],
): ReviewFingerprint {
  return {
    environment,
    commit,
    stacks: stacks
      .map(({ stack, template, deployed }) => ({
        stack,
        head: templateHash(template),
        base: deployed === undefined || deployed === null ? NOT_DEPLOYED : templateHash(deployed),
      }))
      .sort((a, b) => a.stack.localeCompare(b.stack)),
  };
}

/** A short, stable id of a fingerprint's stacks (what an operator copies for the override). */
export function fingerprintId(fingerprint: Pick<ReviewFingerprint, 'stacks'>): string {
  return templateHash(fingerprint.stacks).slice(0, 16);
}

const PREFIX = 'private-aws-gitops:reviewed';

/** The fingerprint as a hidden line of the diff comment. Its fields are hex, validated names and a sha. */
export function formatFingerprint(fingerprint: ReviewFingerprint): string {
  return `<!-- ${PREFIX} ${JSON.stringify(fingerprint)} -->`;
}

const SHA = /^[0-9a-f]{64}$/;
const NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/**
 * The fingerprint of `environment` recorded in a comment body, or undefined when there is none or
 * it is malformed (a fingerprint is only trusted from a comment the workflow itself wrote, and is
 * still checked field by field).
 */
export function parseFingerprint(body: string, environment: string): ReviewFingerprint | undefined {
  for (const match of body.matchAll(/<!-- private-aws-gitops:reviewed (\{[^\n]*?\}) -->/g)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(match[1]!);
    } catch {
      continue;
    }
    const candidate = parsed as Partial<ReviewFingerprint>;
    if (candidate.environment !== environment || typeof candidate.commit !== 'string') continue;
    if (!Array.isArray(candidate.stacks)) continue;
    const stacks = candidate.stacks.filter(
      (s): s is StackFingerprint =>
        typeof s?.stack === 'string' &&
        NAME.test(s.stack) &&
        typeof s.head === 'string' &&
        SHA.test(s.head) &&
        typeof s.base === 'string' &&
        (s.base === NOT_DEPLOYED || SHA.test(s.base)),
    );
    if (stacks.length !== candidate.stacks.length) continue;
    return { environment, commit: candidate.commit, stacks };
  }
  return undefined;
}

/** What differs between the reviewed and the current fingerprint, one line per stack; empty when equal. */
export function fingerprintDifferences(reviewed: ReviewFingerprint, current: ReviewFingerprint): string[] {
  const differences: string[] = [];
  const short = (hash: string): string => (hash === NOT_DEPLOYED ? 'not deployed' : hash.slice(0, 12));
  for (const now of current.stacks) {
    const then = reviewed.stacks.find((s) => s.stack === now.stack);
    if (!then) {
      differences.push(`${now.stack}: not in the reviewed diff`);
      continue;
    }
    if (then.head !== now.head)
      differences.push(
        `${now.stack}: the template to deploy is ${short(now.head)}, the reviewed one ${short(then.head)}`,
      );
    if (then.base !== now.base)
      differences.push(
        `${now.stack}: what is deployed is ${short(now.base)}, the diff was against ${short(then.base)} (another deploy, or drift, since the review)`,
      );
  }
  for (const then of reviewed.stacks) {
    if (!current.stacks.some((s) => s.stack === then.stack))
      differences.push(`${then.stack}: reviewed but not deployed now`);
  }
  return differences;
}
