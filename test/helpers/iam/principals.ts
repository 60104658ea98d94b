/**
 * Who signs each request the gate sees, and what IAM holds about them: administrators' static keys,
 * and role sessions the gate itself handed out through STS (their keys come back in the
 * AssumeRole* responses). A role's policies are read from the local AWS's IAM on each request, so
 * a change a deploy makes (a new policy version, a boundary) applies at once, as in AWS.
 */
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import type { PolicyDocument } from './evaluator.js';

export type Caller =
  | { readonly kind: 'administrator'; readonly account: string; readonly arn: string; readonly userId: string }
  | {
      readonly kind: 'role';
      readonly account: string;
      /** The session: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`. */
      readonly arn: string;
      readonly roleArn: string;
      readonly roleName: string;
      /** aws:userid of a role session: `ROLEID:SESSION`. */
      readonly userId: string;
    };

/** A role as IAM evaluates it: its identity policies, boundary and trust policy. */
export interface RolePolicies {
  readonly roleArn: string;
  readonly roleId: string;
  readonly identityPolicies: PolicyDocument[];
  readonly permissionsBoundary?: PolicyDocument;
  readonly trust: PolicyDocument;
}

export class Principals {
  private readonly keys = new Map<string, Caller>();

  constructor(private readonly iam: IAMClient) {}

  /** Registers a static key as an administrator of `account` (AdministratorAccess). */
  addAdministrator(accessKeyId: string, account: string, partition = 'aws'): Caller {
    const caller: Caller = {
      kind: 'administrator',
      account,
      arn: `arn:${partition}:iam::${account}:user/administrator`,
      userId: `AIDA${accessKeyId.slice(-12).toUpperCase()}`,
    };
    this.keys.set(accessKeyId, caller);
    return caller;
  }

  /** Registers the key of a role session STS handed out. */
  addRoleSession(accessKeyId: string, session: { sessionArn: string; roleArn: string; userId: string }): void {
    const account = session.roleArn.split(':')[4] ?? '';
    this.keys.set(accessKeyId, {
      kind: 'role',
      account,
      arn: session.sessionArn,
      roleArn: session.roleArn,
      roleName: session.roleArn.split('/').pop() ?? '',
      userId: session.userId,
    });
  }

  caller(accessKeyId: string | undefined): Caller | undefined {
    return accessKeyId ? this.keys.get(accessKeyId) : undefined;
  }

  /**
   * Roles read since the last change that went through the gate (see `forget`). Every role-signed
   * call needs its role's policies, and reading them from moto (6 to 10 IAM calls) was most of the
   * gate's time in a trace of the rehearsal. Only roles that exist are kept: a role created
   * directly in moto is read when first used.
   */
  private readonly roles = new Map<string, Promise<RolePolicies | undefined>>();

  /** Drops what was read of IAM: the gate calls it around every call that may change it. */
  forget(): void {
    this.roles.clear();
  }

  /** The role's policies as IAM holds them now, or undefined when the role does not exist. */
  role(roleName: string): Promise<RolePolicies | undefined> {
    const known = this.roles.get(roleName);
    if (known) return known;
    const read = this.readRole(roleName);
    this.roles.set(roleName, read);
    // A role that does not exist (yet), or a failed read, is read again next time.
    const drop = (): void => {
      if (this.roles.get(roleName) === read) this.roles.delete(roleName);
    };
    read.then((found) => {
      if (!found) drop();
    }, drop);
    return read;
  }

  private async readRole(roleName: string): Promise<RolePolicies | undefined> {
    let role;
    try {
      ({ Role: role } = await this.iam.send(new GetRoleCommand({ RoleName: roleName })));
    } catch (error) {
      if (
        (error as { name?: string }).name === 'NoSuchEntityException' ||
        (error as { name?: string }).name === 'NoSuchEntity'
      )
        return undefined;
      throw error;
    }
    if (!role) return undefined;
    // Every role-signed call reads the role's policies: the reads go out side by side (the gate's
    // latency on each call is mostly these round trips to moto), in the order IAM lists them.
    const [inline, attached] = await Promise.all([
      this.iam.send(new ListRolePoliciesCommand({ RoleName: roleName })),
      this.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName })),
    ]);
    const boundaryArn = role.PermissionsBoundary?.PermissionsBoundaryArn;
    const [inlinePolicies, managedPolicies, permissionsBoundary] = await Promise.all([
      Promise.all(
        (inline.PolicyNames ?? []).map(async (policyName) => {
          const { PolicyDocument: document } = await this.iam.send(
            new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }),
          );
          return { ...decode(document), name: `${roleName}/${policyName}` };
        }),
      ),
      Promise.all((attached.AttachedPolicies ?? []).map(({ PolicyArn }) => this.managedPolicy(PolicyArn!))),
      boundaryArn ? this.managedPolicy(boundaryArn) : Promise.resolve(undefined),
    ]);
    return {
      roleArn: role.Arn!,
      roleId: role.RoleId!,
      identityPolicies: [...inlinePolicies, ...managedPolicies],
      permissionsBoundary,
      trust: decode(role.AssumeRolePolicyDocument),
    };
  }

  /** A managed policy's default version, or undefined when it does not exist. */
  async managedPolicyIfExists(policyArn: string): Promise<PolicyDocument | undefined> {
    try {
      return await this.managedPolicy(policyArn);
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'NoSuchEntityException' || name === 'NoSuchEntity') return undefined;
      throw error;
    }
  }

  private async managedPolicy(policyArn: string): Promise<PolicyDocument> {
    const { Policy } = await this.iam.send(new GetPolicyCommand({ PolicyArn: policyArn }));
    const { PolicyVersion } = await this.iam.send(
      new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: Policy!.DefaultVersionId! }),
    );
    return { ...decode(PolicyVersion?.Document), name: policyArn.split('/').pop() };
  }
}

/**
 * IAM returns policy documents URL-encoded. Two of moto's CloudFormation shortcuts are undone here:
 * an `Fn::If` that resolves to AWS::NoValue is stored as a null statement (CloudFormation drops
 * it), and a role's inline policies (the Policies property) are stored as Python's repr of the
 * document (`{'Statement': [...]}`) instead of JSON.
 */
function decode(document: string | undefined): PolicyDocument {
  const raw = document ?? '{"Statement":[]}';
  const text = /^%7[Bb]/.test(raw) ? decodeURIComponent(raw) : raw;
  const parsed = (text.trimStart().startsWith("{'") ? parsePythonLiteral(text) : JSON.parse(text)) as {
    Statement?: unknown;
  };
  if (Array.isArray(parsed.Statement)) parsed.Statement = parsed.Statement.filter((statement) => statement !== null);
  return parsed as PolicyDocument;
}

/** Python's repr of dicts, lists, strings, numbers, True/False/None, as the JSON value. */
export function parsePythonLiteral(text: string): unknown {
  let json = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === "'" || char === '"') {
      let value = '';
      for (i++; i < text.length && text[i] !== char; i++) {
        if (text[i] === '\\') {
          i++;
          value += text[i] === 'n' ? '\n' : text[i] === 't' ? '\t' : text[i]!;
        } else value += text[i]!;
      }
      json += JSON.stringify(value);
    } else if (text.startsWith('True', i)) {
      json += 'true';
      i += 3;
    } else if (text.startsWith('False', i)) {
      json += 'false';
      i += 4;
    } else if (text.startsWith('None', i)) {
      json += 'null';
      i += 3;
    } else json += char;
  }
  return JSON.parse(json);
}
