import type { Template } from 'aws-cdk-lib/assertions';

/** A resource of a synthesized template, loosely typed for assertions. */
export interface TemplateResource {
  readonly Type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly Properties: Record<string, any>;
}

export function resourcesOfType(template: Template, type: string): TemplateResource[] {
  return Object.values(template.findResources(type)) as TemplateResource[];
}

/** Every value at any depth of a JSON value, for "nothing anywhere looks like X" assertions. */
export function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(allStrings);
  return [];
}
