import { ENVIRONMENTS } from '../../infra/lib/project.js';

/** A valid environment name that the configuration does not have (for the "unknown environment" errors). */
export const UNCONFIGURED_ENVIRONMENT = ['nosuchenv', 'missing-env', 'other-env'].find(
  (name) => !ENVIRONMENTS.some((e) => e.name === name),
)!;

/** `text` as a literal part of a regular expression. */
export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
