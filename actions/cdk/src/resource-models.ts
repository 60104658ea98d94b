/**
 * What the CloudFormation diff needs to know of each resource type, in a table small enough to
 * read at every run of the action.
 *
 * `@aws-cdk/cloudformation-diff` asks the AWS service spec database (`@aws-cdk/aws-service-spec`,
 * a 2.6 MB gzipped JSON of every resource type with its documentation) for one thing: the resource
 * model of a type, of which it reads whether the resource and each property are security-relevant
 * (`scrutinizable`: IAM policies, security group rules...) and whether changing a property replaces
 * the resource (`causesReplacement`). Loading that database took 1.1 s of CPU of every diff, deploy
 * and comment (a CPU profile of the bundled action); this table of just those fields, built from
 * the same database when the action is bundled (`npm run build:actions`), parses in milliseconds.
 *
 * The bundle swaps the database for `resourceModelDatabase` below (see
 * scripts/lib/resource-model-table.ts); a test checks the table answers every type as the
 * database does.
 */
import { readFileSync } from 'node:fs';

/** The table's file name, next to the bundle. */
export const RESOURCE_MODELS_FILE = 'resource-models.json';

/** Per property: [causesReplacement, scrutinizable], 0 where the database has none. */
type CompactProperty = readonly [string | 0, string | 0];

/** Per resource type: its scrutiny type (0: none) and its properties. */
export interface CompactResourceModel {
  readonly s: string | 0;
  readonly p: Readonly<Record<string, CompactProperty>>;
}

export type ResourceModelTable = Readonly<Record<string, CompactResourceModel>>;

/** The fields of a resource model the diff reads, as the database gives them. */
export interface ResourceModel {
  readonly cloudFormationType: string;
  readonly scrutinizable?: string;
  readonly properties: Record<string, { readonly causesReplacement?: string; readonly scrutinizable?: string }>;
}

/** The table of the given resources (the database's), keys in a stable order. */
export function compactResourceModels(resources: Iterable<ResourceModel>): ResourceModelTable {
  const table: Record<string, CompactResourceModel> = {};
  const sorted = [...resources].sort((a, b) => a.cloudFormationType.localeCompare(b.cloudFormationType));
  for (const resource of sorted) {
    const properties: Record<string, CompactProperty> = {};
    for (const name of Object.keys(resource.properties).sort()) {
      const property = resource.properties[name]!;
      properties[name] = [property.causesReplacement ?? 0, property.scrutinizable ?? 0];
    }
    table[resource.cloudFormationType] = { s: resource.scrutinizable ?? 0, p: properties };
  }
  return table;
}

/** The resource model of one type from the table, shaped as the database returns it. */
export function expandResourceModel(table: ResourceModelTable, type: string): ResourceModel | undefined {
  const compact = Object.hasOwn(table, type) ? table[type] : undefined;
  if (!compact) return undefined;
  const properties: ResourceModel['properties'] = {};
  for (const [name, [causesReplacement, scrutinizable]] of Object.entries(compact.p)) {
    properties[name] = {
      ...(causesReplacement ? { causesReplacement } : {}),
      ...(scrutinizable ? { scrutinizable } : {}),
    };
  }
  return { cloudFormationType: type, ...(compact.s ? { scrutinizable: compact.s } : {}), properties };
}

/**
 * The bundle's stand-in for what `@aws-cdk/aws-service-spec`'s `loadAwsServiceSpecSync()` returns:
 * a database that answers the one query the diff makes (a resource by its CloudFormation type)
 * from the table file. Any other query fails loudly rather than answering wrong.
 */
export function resourceModelDatabase(file: string): {
  lookup(entity: string, field: string, operator: string, value: string): ResourceModel[];
} {
  const table = JSON.parse(readFileSync(file, 'utf8')) as ResourceModelTable;
  const cache = new Map<string, ResourceModel | undefined>();
  return {
    lookup(entity, field, operator, value) {
      if (entity !== 'resource' || field !== 'cloudFormationType' || operator !== 'equals') {
        throw new Error(
          `The bundled resource-model table answers lookups of a resource by cloudFormationType only, not ` +
            `${entity}.${field} ${operator}: @aws-cdk/cloudformation-diff changed; update actions/cdk/src/resource-models.ts.`,
        );
      }
      if (!cache.has(value)) cache.set(value, expandResourceModel(table, value));
      const model = cache.get(value);
      return model ? [model] : [];
    },
  };
}
