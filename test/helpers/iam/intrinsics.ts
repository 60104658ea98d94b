/**
 * Resolves the CloudFormation intrinsic functions a template uses, as far as the values are known
 * before CloudFormation runs it: parameters, pseudo parameters, conditions, Fn::If, Fn::Join,
 * Fn::Sub, Fn::Select, Fn::Split, Fn::Equals/Not/And/Or. What only exists once a resource is
 * created (a Ref or Fn::GetAtt of a resource, Fn::GetAZs, Fn::ImportValue) becomes an Unresolved
 * value that names it, so a check can tell "unknown until deploy" from a literal.
 */

/** A value known only at deploy time. */
export class Unresolved {
  constructor(readonly description: string) {}
  toString(): string {
    return `<${this.description}>`;
  }
}

export interface ResolveContext {
  readonly account: string;
  readonly region: string;
  readonly partition?: string;
  readonly stackName: string;
  /** Parameter values by name (defaults from the template apply to the others). */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Values for `Ref`/`Fn::GetAtt` of resources, when the caller knows them (e.g. a created ARN). */
  readonly resourceValues?: Readonly<Record<string, string>>;
  /** Values other stacks export, by export name, for `Fn::ImportValue` (unknown ones stay unresolved). */
  readonly imports?: Readonly<Record<string, string>>;
}

export interface Template {
  readonly Parameters?: Record<string, { readonly Default?: unknown; readonly Type?: string }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Resources?: Record<string, TemplateResource>;
  readonly Outputs?: Record<string, unknown>;
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Condition?: string;
  readonly DependsOn?: string | string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

/** Resolves every intrinsic of a template fragment it can; throws on a malformed intrinsic. */
export class TemplateResolver {
  private readonly conditionCache = new Map<string, boolean | Unresolved>();

  constructor(
    private readonly template: Template,
    private readonly context: ResolveContext,
  ) {}

  /** Whether the named condition holds; undefined when it depends on what is not known. */
  conditionHolds(name: string): boolean | undefined {
    const holds = this.condition(name);
    return typeof holds === 'boolean' ? holds : undefined;
  }

  /** Whether the resource's Condition (if any) holds; Unresolved conditions count as true. */
  isCreated(resource: TemplateResource): boolean {
    if (!resource.Condition) return true;
    return this.condition(resource.Condition) !== false;
  }

  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item)).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object' || value instanceof Unresolved) return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, argument] = entries[0]!;
      if (key === 'Ref') return this.ref(String(argument));
      if (key.startsWith('Fn::') || key === 'Condition') return this.intrinsic(key, argument);
    }
    const resolved: Record<string, unknown> = {};
    for (const [key, child] of entries) {
      const result = this.resolve(child);
      if (result !== NO_VALUE) resolved[key] = result;
    }
    return resolved;
  }

  /** A string when the value resolved to one, else undefined. */
  resolveString(value: unknown): string | undefined {
    const resolved = this.resolve(value);
    return typeof resolved === 'string' ? resolved : undefined;
  }

  private ref(name: string): unknown {
    const partition = this.context.partition ?? 'aws';
    const pseudo: Record<string, unknown> = {
      'AWS::AccountId': this.context.account,
      'AWS::Region': this.context.region,
      'AWS::Partition': partition,
      'AWS::URLSuffix': partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com',
      'AWS::StackName': this.context.stackName,
      'AWS::StackId': `arn:${partition}:cloudformation:${this.context.region}:${this.context.account}:stack/${this.context.stackName}/00000000-0000-0000-0000-000000000000`,
      'AWS::NoValue': NO_VALUE,
      'AWS::NotificationARNs': [],
    };
    if (name in pseudo) return pseudo[name];
    const parameter = this.template.Parameters?.[name];
    if (parameter) {
      const given = this.context.parameters?.[name];
      const raw = given ?? parameter.Default;
      if (raw === undefined) return new Unresolved(`parameter ${name}`);
      // SSM-typed parameters hold a parameter name; CloudFormation resolves it at deploy time.
      if (parameter.Type?.startsWith('AWS::SSM::Parameter::Value'))
        return new Unresolved(`SSM parameter ${String(raw)}`);
      if (parameter.Type === 'CommaDelimitedList' || parameter.Type?.startsWith('List<'))
        return String(raw) === '' ? [] : String(raw).split(',');
      return String(raw);
    }
    if (this.context.resourceValues?.[name] !== undefined) return this.context.resourceValues[name];
    if (this.template.Resources?.[name]) return new Unresolved(`Ref ${name}`);
    throw new Error(`Ref to unknown ${name} in ${this.context.stackName}`);
  }

  private condition(name: string): boolean | Unresolved {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new Error(`Unknown condition ${name} in ${this.context.stackName}`);
    const value = this.resolve(definition);
    const result = typeof value === 'boolean' ? value : new Unresolved(`condition ${name}`);
    this.conditionCache.set(name, result);
    return result;
  }

  private intrinsic(key: string, argument: unknown): unknown {
    switch (key) {
      case 'Condition':
        return this.condition(String(argument));
      case 'Fn::If': {
        const [name, whenTrue, whenFalse] = argument as [string, unknown, unknown];
        const holds = this.condition(name);
        if (holds instanceof Unresolved) return new Unresolved(`Fn::If ${name}`);
        return this.resolve(holds ? whenTrue : whenFalse);
      }
      case 'Fn::Equals': {
        const [a, b] = (argument as unknown[]).map((item) => this.resolve(item));
        if (a instanceof Unresolved || b instanceof Unresolved) return new Unresolved('Fn::Equals');
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::Not': {
        const [inner] = (argument as unknown[]).map((item) => this.resolve(item));
        return typeof inner === 'boolean' ? !inner : new Unresolved('Fn::Not');
      }
      case 'Fn::And':
      case 'Fn::Or': {
        const values = (argument as unknown[]).map((item) => this.resolve(item));
        if (values.some((v) => v instanceof Unresolved)) return new Unresolved(key);
        return key === 'Fn::And' ? values.every(Boolean) : values.some(Boolean);
      }
      case 'Fn::Join': {
        const [delimiter, parts] = argument as [string, unknown];
        const values = this.resolve(parts);
        if (!Array.isArray(values)) return new Unresolved('Fn::Join');
        if (values.some((v) => v instanceof Unresolved || typeof v === 'object'))
          return new Unresolved(`Fn::Join ${values.map(String).join(delimiter)}`);
        return values.join(delimiter);
      }
      case 'Fn::Sub':
        return this.sub(argument);
      case 'Fn::Select': {
        const [index, list] = argument as [unknown, unknown];
        const values = this.resolve(list);
        const at = Number(this.resolve(index));
        if (!Array.isArray(values)) return new Unresolved('Fn::Select');
        return values[at] ?? new Unresolved('Fn::Select');
      }
      case 'Fn::Split': {
        const [delimiter, source] = argument as [string, unknown];
        const value = this.resolve(source);
        return typeof value === 'string' ? value.split(delimiter) : new Unresolved('Fn::Split');
      }
      case 'Fn::GetAtt': {
        const [resource, attribute] = (Array.isArray(argument) ? argument : String(argument).split('.')) as [
          string,
          string,
        ];
        const known = this.context.resourceValues?.[`${resource}.${attribute}`];
        return known ?? new Unresolved(`Fn::GetAtt ${resource}.${attribute}`);
      }
      case 'Fn::GetAZs':
        return [new Unresolved('AZ 1'), new Unresolved('AZ 2'), new Unresolved('AZ 3')];
      case 'Fn::ImportValue': {
        const name = this.resolve(argument);
        const known = typeof name === 'string' ? this.context.imports?.[name] : undefined;
        return known ?? new Unresolved(`Fn::ImportValue ${String(name)}`);
      }
      case 'Fn::Base64':
      case 'Fn::Cidr':
      case 'Fn::FindInMap':
      case 'Fn::GetStackOutput':
      case 'Fn::ToJsonString':
      case 'Fn::Length':
        return new Unresolved(key);
      default:
        throw new Error(`Unknown intrinsic ${key} in ${this.context.stackName}`);
    }
  }

  private sub(argument: unknown): unknown {
    const [text, variables] = (typeof argument === 'string' ? [argument, {}] : argument) as [
      string,
      Record<string, unknown>,
    ];
    let unresolved = false;
    const result = text.replace(/\$\{([^}!][^}]*)\}/g, (_match, name: string) => {
      const value =
        name in variables
          ? this.resolve(variables[name])
          : name.includes('.')
            ? this.intrinsic('Fn::GetAtt', name)
            : this.ref(name);
      if (typeof value === 'string') return value;
      unresolved = true;
      return `<${name}>`;
    });
    return unresolved ? new Unresolved(`Fn::Sub ${result}`) : result.replace(/\$\{!/g, '${');
  }
}

/** AWS::NoValue: the property is removed. */
const NO_VALUE = Symbol('AWS::NoValue');
