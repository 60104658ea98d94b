import { UserInputError } from './errors.js';

/** Reads one input by its action.yml name; '' when unset (as @actions/core's getInput). */
export type InputReader = (name: string) => string;

export function requiredInput(read: InputReader, name: string, what: string): string {
  const value = read(name).trim();
  if (value === '') throw new UserInputError(`Input '${name}' is required: ${what}. Add it under 'with:' in the step.`);
  return value;
}

export function optionalInput(read: InputReader, name: string): string | undefined {
  const value = read(name).trim();
  return value === '' ? undefined : value;
}

/** YAML 1.2 core-schema booleans, like @actions/core's getBooleanInput, with a clearer error. */
export function booleanInput(read: InputReader, name: string, defaultValue: boolean): boolean {
  const value = read(name).trim();
  if (value === '') return defaultValue;
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new UserInputError(`Input '${name}' must be true or false, got '${value}'.`);
}

export function integerInput(
  read: InputReader,
  name: string,
  options: { readonly defaultValue: number; readonly min: number; readonly max: number },
): number {
  const raw = read(name).trim();
  if (raw === '') return options.defaultValue;
  if (!/^\d+$/.test(raw)) {
    throw new UserInputError(
      `Input '${name}' must be a whole number from ${options.min} to ${options.max}, got '${raw}'.`,
    );
  }
  const value = Number(raw);
  if (value < options.min || value > options.max) {
    throw new UserInputError(`Input '${name}' must be ${options.min}-${options.max}, got '${raw}'.`);
  }
  return value;
}

/** Checks a value against a pattern; the error shows an example of what is expected. */
export function matchInput(name: string, value: string, pattern: RegExp, expected: string): string {
  if (!pattern.test(value)) throw new UserInputError(`Input '${name}' must be ${expected}, got '${value}'.`);
  return value;
}

/** The region pattern every part of the project shares (infra/lib/names.ts). */
export { REGION_PATTERN as AWS_REGION_PATTERN } from '../../../infra/lib/names.js';
