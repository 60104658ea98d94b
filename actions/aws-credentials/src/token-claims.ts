import { decodeJwt } from 'jose';

/** The claims of a GitHub token that say which job it is, none of them secret. */
export const DESCRIBED_CLAIMS = [
  'sub',
  'aud',
  'repository',
  'ref',
  'environment',
  'event_name',
  'job_workflow_ref',
  'repository_id',
  'repository_owner_id',
] as const;

/** The claims a trust policy of this repository matches, in the order the hint lists them. */
const MATCHED_CLAIMS = ['aud', 'sub', 'job_workflow_ref', 'repository_id', 'repository_owner_id'] as const;

/** Reads the non-secret claims of a token without verifying it (for error messages only). */
export function describeClaims(token: string): Record<string, string> {
  let payload: Record<string, unknown>;
  try {
    payload = decodeJwt(token) as Record<string, unknown>;
  } catch {
    return {};
  }
  const claims: Record<string, string> = {};
  for (const name of DESCRIBED_CLAIMS) {
    const value = payload[name];
    if (value !== undefined) claims[name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return claims;
}

/**
 * Explains a refused AssumeRoleWithWebIdentity: what the token carried beside what the role's
 * trust policy must match for this exact job, so the policy can be fixed in one step.
 */
export function explainTrustFailure(roleArn: string, claims: Record<string, string>): string {
  const width = Math.max(...DESCRIBED_CLAIMS.map((name) => name.length));
  const lines = DESCRIBED_CLAIMS.map((name) => `  ${name.padEnd(width)}  ${claims[name] ?? '(none)'}`);
  const matched: Record<string, string> = {};
  for (const name of MATCHED_CLAIMS) {
    const value = claims[name] ?? (name === 'aud' || name === 'sub' ? `<${name}>` : undefined);
    if (value !== undefined) matched[`token.actions.githubusercontent.com:${name}`] = value;
  }
  const condition = JSON.stringify({ StringEquals: matched }, null, 2);
  return [
    `The trust policy of ${roleArn} did not accept this job's token. The token carries:`,
    ...lines,
    'For this job, the role trust policy needs a statement for sts:AssumeRoleWithWebIdentity with:',
    condition,
    'A job that names an environment gets the subject repo:OWNER/REPO:environment:NAME instead of the branch form.',
    "This repository's deploy and operator roles trust only jobs that name an environment, in the workflows",
    'listed in ROLE_WORKFLOWS (infra/lib/names.ts), run from main (job_workflow_ref): see docs/security.md.',
    'Not retried: an authorization error is not transient.',
  ].join('\n');
}
