import { UserInputError, errorMessage, withOperation } from '../src/errors.js';
import { booleanInput, integerInput, requiredInput } from '../src/inputs.js';

const reader = (values: Record<string, string>) => (name: string) => values[name] ?? '';

describe('shared inputs', () => {
  it('requires a required input with what it is for', () => {
    expect(() => requiredInput(reader({}), 'role-to-assume', 'the ARN of the role')).toThrow(
      "Input 'role-to-assume' is required: the ARN of the role. Add it under 'with:' in the step.",
    );
    expect(requiredInput(reader({ x: ' v ' }), 'x', 'x')).toBe('v');
  });

  it.each([
    ['true', true],
    ['True', true],
    ['FALSE', false],
    ['', true],
  ])('reads boolean %j', (raw, expected) => {
    expect(booleanInput(reader({ b: raw }), 'b', true)).toBe(expected);
  });

  it('rejects a boolean that YAML would not read as one', () => {
    expect(() => booleanInput(reader({ b: 'yes' }), 'b', false)).toThrow("Input 'b' must be true or false, got 'yes'.");
  });

  it.each([
    ['100', "Input 'd' must be 900-43200, got '100'."],
    ['50000', "Input 'd' must be 900-43200, got '50000'."],
    ['1h', "Input 'd' must be a whole number from 900 to 43200, got '1h'."],
    ['-1', "Input 'd' must be a whole number from 900 to 43200, got '-1'."],
  ])('rejects integer %j', (raw, message) => {
    const read = () => integerInput(reader({ d: raw }), 'd', { defaultValue: 3600, min: 900, max: 43200 });
    expect(read).toThrow(UserInputError);
    expect(read).toThrow(message);
  });
});

describe('errors', () => {
  it('gives a message for anything thrown', () => {
    expect(errorMessage(new Error('a'))).toBe('a');
    expect(errorMessage('b')).toBe('b');
    expect(errorMessage({ c: 1 })).toBe('{"c":1}');
  });

  it('names the operation and the AWS error code, keeping the cause', () => {
    const cause = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    const wrapped = withOperation('AssumeRoleWithWebIdentity', cause);
    expect(wrapped.message).toBe('AssumeRoleWithWebIdentity failed: Throttling: Rate exceeded');
    expect(wrapped.cause).toBe(cause);
  });
});
