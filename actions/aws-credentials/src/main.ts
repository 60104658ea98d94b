import * as core from '@actions/core';
import { errorMessage } from '../../shared/src/errors.js';
import { actionsLogger } from '../../shared/src/logger.js';
import { assumeRole, stsClients } from './assume-role.js';
import { exportCredentials } from './export-credentials.js';
import { requestIdToken } from './id-token.js';
import { parseInputs } from './inputs.js';

/** The only place where inputs are read and a failure becomes the step's failure. */
export async function run(): Promise<void> {
  try {
    const inputs = parseInputs((name) => core.getInput(name), {
      repository: process.env.GITHUB_REPOSITORY,
      runId: process.env.GITHUB_RUN_ID,
      runAttempt: process.env.GITHUB_RUN_ATTEMPT,
    });
    const token = await requestIdToken(inputs.audience, {
      env: process.env,
      getIDToken: (aud) => core.getIDToken(aud),
    });
    const role = await assumeRole(inputs, token, {
      ...stsClients(inputs.region),
      logger: actionsLogger,
      mask: (secret) => core.setSecret(secret),
    });
    exportCredentials(role, inputs.region, inputs.maskAccountId, core);
    core.info(
      `Assumed ${role.assumedRoleArn}${inputs.maskAccountId ? '' : ` in account ${role.accountId}`}, ` +
        `valid until ${role.expiration.toISOString()}; exported to the following steps.`,
    );
  } catch (error) {
    core.setFailed(errorMessage(error));
  }
}
