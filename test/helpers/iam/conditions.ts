/**
 * Template conditions as CloudFormation applies them on every create and update, for the local
 * AWS: moto evaluates a resource's `Condition` when it creates a stack, but on an update it only
 * compares resource definitions, so a condition that turns false (the `Awake` parameter of a
 * sleeping environment) deletes nothing and an `Fn::If` that changes branch updates nothing. The
 * gate forwards moto the template with its conditions applied (resources and outputs whose
 * condition is false left out, `Fn::If` resolved), which is what CloudFormation provisions.
 */
import { TemplateResolver, type Template } from './intrinsics.js';

/** The template with its resolvable conditions applied; the same object when it has none. */
export function applyConditions(
  template: Template,
  where: { readonly account: string; readonly region: string; readonly partition: string; readonly stackName: string },
  parameters: Readonly<Record<string, string>>,
): Template {
  if (!template.Conditions || Object.keys(template.Conditions).length === 0) return template;
  const resolver = new TemplateResolver(template, { ...where, parameters });
  const holds = (name: unknown): boolean | undefined =>
    typeof name === 'string' ? resolver.conditionHolds(name) : undefined;
  const removed = new Set<string>();
  const resources: Record<string, unknown> = {};
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    const condition = holds(resource.Condition);
    if (condition === false) {
      removed.add(id);
      continue;
    }
    const { Condition, ...rest } = resource as unknown as Record<string, unknown>;
    resources[id] = condition === true ? rest : { ...rest, ...(Condition !== undefined ? { Condition } : {}) };
  }
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const node = value as Record<string, unknown>;
    const keys = Object.keys(node);
    if (keys.length === 1 && keys[0] === 'Fn::If') {
      const [name, whenTrue, whenFalse] = node['Fn::If'] as [string, unknown, unknown];
      const condition = holds(name);
      if (condition !== undefined) return walk(condition ? whenTrue : whenFalse);
    }
    if (keys.length === 1 && keys[0] === 'Ref' && node.Ref === 'AWS::NoValue') return NO_VALUE;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node)) {
      const walked = walk(child);
      if (walked !== NO_VALUE) out[key] = walked;
    }
    return out;
  };
  const kept = walk(resources) as Record<string, Record<string, unknown>>;
  for (const resource of Object.values(kept)) {
    const dependsOn = resource.DependsOn;
    if (Array.isArray(dependsOn)) resource.DependsOn = dependsOn.filter((id) => !removed.has(String(id)));
    else if (typeof dependsOn === 'string' && removed.has(dependsOn)) delete resource.DependsOn;
  }
  const outputs = Object.fromEntries(
    Object.entries((template.Outputs ?? {}) as Record<string, Record<string, unknown>>)
      .filter(([, output]) => holds(output.Condition) !== false)
      .map(([id, output]) => [id, walk(output)]),
  );
  return {
    ...template,
    Resources: kept as unknown as Template['Resources'],
    ...(template.Outputs ? { Outputs: outputs } : {}),
  };
}

const NO_VALUE = Symbol('AWS::NoValue');
