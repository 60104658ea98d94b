import * as core from '@actions/core';
import { errorMessage } from '../../shared/src/errors.js';
import { STATE_EXPORTED, clearCredentials } from './export-credentials.js';

/** Post step: clear the exported credentials (they expire anyway; this keeps later steps clean). */
try {
  const cleared = clearCredentials(core.getState(STATE_EXPORTED), core);
  core.info(cleared.length > 0 ? `Cleared ${cleared.join(', ')}.` : 'Nothing to clear.');
} catch (error) {
  // A failed clean-up must not fail a job whose work is done: report it as a warning.
  core.warning(`Clearing the AWS credentials failed: ${errorMessage(error)}`);
}
