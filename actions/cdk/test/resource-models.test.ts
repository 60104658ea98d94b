import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serviceSpecResources } from '../../../scripts/lib/resource-model-table.js';
import {
  RESOURCE_MODELS_FILE,
  compactResourceModels,
  expandResourceModel,
  resourceModelDatabase,
  type ResourceModelTable,
} from '../src/resource-models.js';

const BUNDLED_TABLE = fileURLToPath(new URL(`../dist/${RESOURCE_MODELS_FILE}`, import.meta.url));

/**
 * The bundled action answers the CloudFormation diff's resource-model lookups from a table instead
 * of the AWS service spec database: it must answer exactly what the database answers in the fields
 * the diff reads, or security changes and replacements would be misclassified.
 */
describe('the resource-model table of the bundled cdk action', () => {
  const resources = serviceSpecResources();
  const table = compactResourceModels(resources);

  it('answers every resource type of the database as the database does', () => {
    expect(resources.length).toBeGreaterThan(1000);
    const mismatches: string[] = [];
    for (const resource of resources) {
      const expanded = expandResourceModel(table, resource.cloudFormationType);
      const expected = {
        scrutinizable: resource.scrutinizable,
        properties: Object.fromEntries(
          Object.entries(resource.properties)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([name, property]) => [
              name,
              { causesReplacement: property.causesReplacement, scrutinizable: property.scrutinizable },
            ]),
        ),
      };
      const actual = {
        scrutinizable: expanded?.scrutinizable,
        properties: Object.fromEntries(
          Object.entries(expanded?.properties ?? {})
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([name, property]) => [
              name,
              { causesReplacement: property.causesReplacement, scrutinizable: property.scrutinizable },
            ]),
        ),
      };
      if (JSON.stringify(actual) !== JSON.stringify(expected)) mismatches.push(resource.cloudFormationType);
    }
    expect(mismatches).toEqual([]);
  });

  it('keeps what the diff classifies by: IAM policies, security group rules, replacements', () => {
    const role = expandResourceModel(table, 'AWS::IAM::Role')!;
    expect(role.properties.AssumeRolePolicyDocument?.scrutinizable).toBe('InlineResourcePolicy');
    expect(role.properties.RoleName?.causesReplacement).toBe('yes');
    expect(expandResourceModel(table, 'AWS::EC2::SecurityGroupIngress')?.scrutinizable).toBe('IngressRuleResource');
    expect(expandResourceModel(table, 'AWS::EC2::VPC')?.properties.CidrBlock?.causesReplacement).toBe('yes');
    expect(expandResourceModel(table, 'AWS::Not::AType')).toBeUndefined();
    expect(expandResourceModel(table, 'constructor')).toBeUndefined();
  });

  it('is what dist/ ships (rebuild with npm run build:actions after a dependency upgrade)', () => {
    const bundled = JSON.parse(readFileSync(BUNDLED_TABLE, 'utf8')) as ResourceModelTable;
    expect(bundled).toEqual(table);
  });

  it('answers only the lookup the diff makes, and fails loudly on any other', () => {
    const database = resourceModelDatabase(BUNDLED_TABLE);
    expect(database.lookup('resource', 'cloudFormationType', 'equals', 'AWS::ECS::Service')).toHaveLength(1);
    expect(database.lookup('resource', 'cloudFormationType', 'equals', 'AWS::Nope::Nope')).toEqual([]);
    expect(() => database.lookup('service', 'name', 'equals', 'ecs')).toThrow(
      /answers lookups of a resource by cloudFormationType only, not service\.name equals/,
    );
  });
});
