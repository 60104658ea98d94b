/**
 * The IAM actions CloudFormation's resource handlers call to create, read, update, delete and list
 * each resource type this project deploys, copied verbatim from AWS's published CloudFormation
 * resource type schemas (`handlers.*.permissions`). The deploy role's permissions must cover what
 * the handlers call, not just what the template names: a missing one only shows up as a failed
 * stack update in a real account, so tests check the role against this data instead.
 *
 * The data lives in `./data/cloudformation-handler-permissions.json`, each type pinned to the
 * exact schema file (repository, commit, path) it was read from.
 */
import { readFileSync } from 'node:fs';

/** The CloudFormation resource handlers a schema can declare permissions for. */
export type HandlerName = 'create' | 'read' | 'update' | 'delete' | 'list';

interface ResourceTypeEntry {
  readonly source: string;
  /** `null` only for a type whose schema declares no handlers (then `note` says where we looked). */
  readonly handlers: Readonly<Partial<Record<HandlerName, readonly string[]>>> | null;
  readonly note?: string;
}

interface HandlerPermissionsData {
  readonly description: string;
  readonly retrieved: string;
  readonly resourceTypes: Readonly<Record<string, ResourceTypeEntry>>;
}

const DATA: HandlerPermissionsData = JSON.parse(
  readFileSync(new URL('./data/cloudformation-handler-permissions.json', import.meta.url), 'utf8'),
) as HandlerPermissionsData;

const WHERE_TO_FIND_SCHEMAS =
  'AWS publishes them at https://schema.cloudformation.us-east-1.amazonaws.com/CloudformationSchema.zip; ' +
  'copies are kept in github.com/pulumi/pulumi-aws-native (aws-cloudformation-schema/) and ' +
  'github.com/cdklabs/awscdk-service-spec (sources/CloudFormationSchema/us-east-1/)';

function entry(resourceType: string): ResourceTypeEntry {
  const found = Object.hasOwn(DATA.resourceTypes, resourceType) ? DATA.resourceTypes[resourceType] : undefined;
  if (found === undefined) {
    throw new Error(
      `No CloudFormation handler permissions recorded for ${resourceType}: add it to ` +
        `test/helpers/iam/data/cloudformation-handler-permissions.json, copying handlers.*.permissions ` +
        `verbatim from its resource type schema (${WHERE_TO_FIND_SCHEMAS}) and pinning the source URL to a commit.`,
    );
  }
  return found;
}

/** The date the schemas were read, so a reader knows how stale the lists may be. */
export const HANDLER_PERMISSIONS_RETRIEVED: string = DATA.retrieved;

/** Every resource type the data file records, sorted. */
export const HANDLER_PERMISSIONS_TYPES: readonly string[] = Object.keys(DATA.resourceTypes).sort();

/**
 * The IAM actions CloudFormation calls for `handler` on `resourceType`, exactly as the schema lists
 * them. Throws for a type the data file does not record, so a new resource in the stack cannot
 * silently go unchecked; returns `[]` when the type is recorded but its schema has no such handler
 * (for example, AWS::IAM::Policy has no read or list handler).
 */
export function handlerPermissions(resourceType: string, handler: HandlerName): readonly string[] {
  return entry(resourceType).handlers?.[handler] ?? [];
}

/** The pinned URL of the schema file a type's permissions were copied from, for error messages and audits. */
export function handlerPermissionsSource(resourceType: string): string {
  return entry(resourceType).source;
}
