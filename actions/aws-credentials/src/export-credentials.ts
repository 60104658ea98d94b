import type { AssumedRole } from './assume-role.js';

/** The variables the action exports, in the order it exports them; the post step clears them. */
export const EXPORTED_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
] as const;

/** The state key under which main tells post what to clear. */
export const STATE_EXPORTED = 'exported-variables';

/** What the action needs of the runner to hand credentials to the next steps. */
export interface Exporter {
  setSecret(value: string): void;
  exportVariable(name: string, value: string): void;
  setOutput(name: string, value: string): void;
  saveState(name: string, value: string): void;
}

export function exportCredentials(role: AssumedRole, region: string, maskAccountId: boolean, runner: Exporter): void {
  // Already masked when they arrived; masking again is harmless and keeps this function safe alone.
  runner.setSecret(role.credentials.accessKeyId);
  runner.setSecret(role.credentials.secretAccessKey);
  runner.setSecret(role.credentials.sessionToken);
  if (maskAccountId) runner.setSecret(role.accountId);
  const values: Record<(typeof EXPORTED_VARIABLES)[number], string> = {
    AWS_ACCESS_KEY_ID: role.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: role.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: role.credentials.sessionToken,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
  };
  for (const name of EXPORTED_VARIABLES) runner.exportVariable(name, values[name]);
  runner.setOutput('aws-account-id', role.accountId);
  runner.setOutput('assumed-role-arn', role.assumedRoleArn);
  runner.setOutput('expiration', role.expiration.toISOString());
  runner.saveState(STATE_EXPORTED, EXPORTED_VARIABLES.join(','));
}

/** The post step: empties what main exported, so later post steps of the job hold no credentials. */
export function clearCredentials(exported: string, runner: Pick<Exporter, 'exportVariable'>): string[] {
  const names = exported
    .split(',')
    .map((name) => name.trim())
    .filter((name): name is (typeof EXPORTED_VARIABLES)[number] =>
      (EXPORTED_VARIABLES as readonly string[]).includes(name),
    );
  for (const name of names) runner.exportVariable(name, '');
  return names;
}
