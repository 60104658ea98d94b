import { CONTAINER_PORT, ENVIRONMENT_NAME_PATTERN, ENVIRONMENT_NAME_RULE } from '../../../infra/lib/names.js';
import { UserInputError } from '../../shared/src/errors.js';
import { integerInput, optionalInput, type InputReader } from '../../shared/src/inputs.js';
import { parseEngine, type Engine } from '../../shared/src/ssm/forwarding.js';

export const INPUT = {
  environment: 'environment',
  outputs: 'outputs',
  cluster: 'cluster',
  service: 'service',
  container: 'container',
  port: 'port',
  path: 'path',
  expectedStatus: 'expected-status',
  expectedBody: 'expected-body',
  timeoutSeconds: 'timeout-seconds',
  engine: 'engine',
} as const;

/** Where the service is: given directly, from the deploy job's outputs, or from the stack. */
export type ServiceSource =
  | { readonly kind: 'explicit'; readonly cluster: string; readonly service: string }
  | { readonly kind: 'outputs'; readonly outputs: Record<string, Record<string, string>> }
  | { readonly kind: 'stack'; readonly environment: string };

export interface Inputs {
  readonly source: ServiceSource;
  /** @default - the service stack's ContainerName output, else CONTAINER_NAME (infra/lib/names.ts) */
  readonly container?: string;
  readonly port?: number;
  /** @default '/' */
  readonly path: string;
  /** @default 200 */
  readonly expectedStatus: number;
  /** @default 'Welcome to nginx' */
  readonly expectedBody: BodyMatcher;
  /** @default 600 */
  readonly timeoutSeconds: number;
  /** @default 'native' */
  readonly engine: Engine;
}

export interface BodyMatcher {
  readonly description: string;
  test(body: string): boolean;
}

/** `/regex/flags` is a regular expression; anything else a substring. */
export function bodyMatcher(raw: string): BodyMatcher {
  const regex = /^\/(.+)\/([dgimsuvy]*)$/s.exec(raw);
  if (regex) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(regex[1]!, regex[2]);
    } catch (error) {
      throw new UserInputError(`Input 'expected-body' is not a valid regular expression: ${(error as Error).message}`);
    }
    return { description: `matching ${pattern}`, test: (body) => pattern.test(body) };
  }
  return { description: `containing ${JSON.stringify(raw)}`, test: (body) => body.includes(raw) };
}

export function parseInputs(read: InputReader): Inputs {
  const cluster = optionalInput(read, INPUT.cluster);
  const service = optionalInput(read, INPUT.service);
  const outputs = optionalInput(read, INPUT.outputs);
  const environment = optionalInput(read, INPUT.environment);
  let source: ServiceSource;
  if (cluster || service) {
    if (!cluster || !service)
      throw new UserInputError(
        "Inputs 'cluster' and 'service' go together: give both, or neither (then 'environment' or 'outputs').",
      );
    source = { kind: 'explicit', cluster, service };
  } else if (outputs) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(outputs);
    } catch {
      throw new UserInputError(
        'Input \'outputs\' must be the deploy job\'s stack outputs JSON, e.g. {"dev-service": {"ClusterName": "dev-cluster", ...}}.',
      );
    }
    if (!parsed || typeof parsed !== 'object')
      throw new UserInputError("Input 'outputs' must be a JSON object of stacks and their outputs.");
    source = { kind: 'outputs', outputs: parsed as Record<string, Record<string, string>> };
  } else if (environment) {
    if (!ENVIRONMENT_NAME_PATTERN.test(environment))
      throw new UserInputError(
        `Input 'environment' must be an environment name of gitops.config.json (${ENVIRONMENT_NAME_RULE}), got '${environment}'.`,
      );
    source = { kind: 'stack', environment };
  } else {
    throw new UserInputError(
      "Say which service to test: 'environment' (e.g. dev), or 'outputs' from the deploy job, or 'cluster' and 'service'.",
    );
  }
  const path = optionalInput(read, INPUT.path) ?? '/';
  if (!path.startsWith('/')) throw new UserInputError(`Input 'path' must start with '/', got '${path}'.`);
  const port = optionalInput(read, INPUT.port);
  return {
    source,
    // Unset: the service stack's ContainerName output, else the project's container name.
    container: optionalInput(read, INPUT.container),
    port:
      port === undefined
        ? undefined
        : integerInput(read, INPUT.port, { defaultValue: CONTAINER_PORT, min: 1, max: 65535 }),
    path,
    expectedStatus: integerInput(read, INPUT.expectedStatus, { defaultValue: 200, min: 100, max: 599 }),
    expectedBody: bodyMatcher(read(INPUT.expectedBody) === '' ? 'Welcome to nginx' : read(INPUT.expectedBody)),
    timeoutSeconds: integerInput(read, INPUT.timeoutSeconds, { defaultValue: 600, min: 10, max: 3600 }),
    engine: parseEngine(optionalInput(read, INPUT.engine)),
  };
}
