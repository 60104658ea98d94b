import { UserInputError } from '../../shared/src/errors.js';
import { readActionYaml } from '../../../test/helpers/action-runner.js';
import { resourceNames } from '../../../infra/lib/names.js';
import { ENVIRONMENTS } from '../../../infra/lib/project.js';
import { INPUT, bodyMatcher, parseInputs } from '../src/inputs.js';

/** A configured environment's name: the action takes any valid one. */
const ENV = ENVIRONMENTS[0]!.name;

const parse = (values: Record<string, string>) => parseInputs((name) => values[name] ?? '');

describe('parseInputs', () => {
  it('takes the service from the environment with the defaults', () => {
    expect(parse({ environment: ENV })).toMatchObject({
      source: { kind: 'stack', environment: ENV },
      container: undefined, // the service stack's ContainerName output decides
      port: undefined,
      path: '/',
      expectedStatus: 200,
      timeoutSeconds: 600,
      engine: 'native',
    });
    expect(parse({ environment: ENV }).expectedBody.test('<h1>Welcome to nginx!</h1>')).toBe(true);
  });

  it('prefers cluster/service, then outputs, then environment', () => {
    expect(parse({ cluster: 'c', service: 's', outputs: '{}', environment: ENV }).source).toEqual({
      kind: 'explicit',
      cluster: 'c',
      service: 's',
    });
    expect(
      parse({
        outputs: JSON.stringify({ [resourceNames({ name: ENV }).serviceStack]: { ClusterName: 'c' } }),
        environment: ENV,
      }).source.kind,
    ).toBe('outputs');
  });

  it.each([
    [
      {},
      "Say which service to test: 'environment' (e.g. dev), or 'outputs' from the deploy job, or 'cluster' and 'service'.",
    ],
    [{ cluster: 'c' }, "Inputs 'cluster' and 'service' go together"],
    [{ outputs: 'not json' }, "Input 'outputs' must be the deploy job's stack outputs JSON"],
    [
      { environment: 'Dev Env' },
      "Input 'environment' must be an environment name of gitops.config.json (2-15 lower-case letters, digits and single dashes, starting with a letter and not ending with a dash), got 'Dev Env'.",
    ],
    [{ environment: ENV, path: 'index.html' }, "Input 'path' must start with '/', got 'index.html'."],
    [{ environment: ENV, 'expected-status': '2000' }, "Input 'expected-status' must be 100-599, got '2000'."],
    [{ environment: ENV, 'timeout-seconds': '5' }, "Input 'timeout-seconds' must be 10-3600, got '5'."],
    [{ environment: ENV, port: '0' }, "Input 'port' must be 1-65535, got '0'."],
    [{ environment: ENV, engine: 'ssh' }, "engine must be one of native, plugin, got 'ssh'."],
    [{ environment: ENV, 'expected-body': '/(unclosed/' }, "Input 'expected-body' is not a valid regular expression"],
  ])('rejects %j', (values, message) => {
    expect(() => parse(values)).toThrow(UserInputError);
    expect(() => parse(values)).toThrow(message);
  });

  it('declares exactly the inputs it reads', () => {
    expect(Object.keys(readActionYaml('ssm-smoke-test').inputs ?? {}).sort()).toEqual(Object.values(INPUT).sort());
  });
});

describe('bodyMatcher', () => {
  it('matches a substring, or a /regex/ with flags', () => {
    expect(bodyMatcher('Welcome').test('x Welcome y')).toBe(true);
    expect(bodyMatcher('Welcome').test('welcome')).toBe(false);
    expect(bodyMatcher('/welcome to \\w+/i').test('Welcome to nginx')).toBe(true);
    expect(bodyMatcher('/^ok$/').description).toBe('matching /^ok$/');
  });
});
