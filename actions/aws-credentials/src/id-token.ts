import { UserInputError, errorMessage } from '../../shared/src/errors.js';

/** The runner variables a job gets only with `permissions: id-token: write`. */
export const TOKEN_REQUEST_VARIABLES = ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN'] as const;

export const MISSING_PERMISSION_MESSAGE = `No GitHub OIDC token can be requested: ${TOKEN_REQUEST_VARIABLES.join(' and ')} are not set.
The job needs permission to request one. Add this to the job (or the workflow):

permissions:
  id-token: write
  contents: read

Pull requests from forks never get a token: run this step only when
github.event.pull_request.head.repo.full_name == github.repository.`;

/**
 * Requests the job's OIDC token for `audience`, failing at once with the YAML to add when the job
 * has no permission to request one.
 */
export async function requestIdToken(
  audience: string,
  deps: { readonly env: NodeJS.ProcessEnv; readonly getIDToken: (audience: string) => Promise<string> },
): Promise<string> {
  if (TOKEN_REQUEST_VARIABLES.some((name) => !deps.env[name])) throw new UserInputError(MISSING_PERMISSION_MESSAGE);
  try {
    return await deps.getIDToken(audience);
  } catch (error) {
    throw new Error(`Requesting the GitHub OIDC token (audience '${audience}') failed: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}
