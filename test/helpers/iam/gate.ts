/**
 * The local AWS's front door: every API call of the flow under test goes through it, and it
 * refuses what AWS would refuse before the call reaches moto (which authorizes everything) or the
 * project's SSM/ECS emulator.
 *
 * - Who: administrators' static keys, and role sessions handed out through it by STS.
 * - AssumeRoleWithWebIdentity: the token's RS256 signature against the local OIDC issuer, the
 *   GitHub provider in IAM with the token's audience, and the role's trust policy with the token's
 *   claims as condition keys.
 * - Every other call by a role session: the operation's action, resource and condition keys
 *   (operations.ts), against the role's identity policies, permissions boundary and, for
 *   sts:AssumeRole, the target role's trust policy, with the IAM evaluator (evaluator.ts).
 *   Administrators are allowed everything (AdministratorAccess).
 * - CreateStack, UpdateStack, CreateChangeSet, for anyone: what CloudFormation would refuse while
 *   running the template as the execution role or the caller (cloudformation-rules.ts).
 *
 * Why not moto's own enforcement (`INITIAL_NO_AUTH_ACTION_COUNT`): checked on moto 5.2.1, it
 * authorizes every action except IAM, STS, S3 and SQS on the resource `*` (so a policy scoped to a
 * stack ARN is refused) and ignores conditions (a statement limited to another Region still
 * allows). Least-privilege policies would fail it and broad ones would pass.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  GetTemplateCommand,
  ListStackResourcesCommand,
  type Parameter,
  type StackResourceSummary,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteVpcEndpointsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ECSClient } from '@aws-sdk/client-ecs';
import { KMSClient } from '@aws-sdk/client-kms';
import { IAMClient, ListOpenIDConnectProvidersCommand, GetOpenIDConnectProviderCommand } from '@aws-sdk/client-iam';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { parse as parseYaml } from 'yaml';
import { GITHUB_OIDC_HOST } from '../../../infra/lib/names.js';
import { motoClientConfig, type LocalAws } from '../moto.js';
import type { OidcIssuer } from '../oidc-issuer.js';
import { parseAwsCall, queryStructList, type AwsCall } from './aws-call.js';
import {
  attachStackManagedPolicies,
  provisionOidcProviders,
  regionExports,
  stackRefusal,
} from './cloudformation-rules.js';
import { applyConditions } from './conditions.js';
import { templatePermissionFindings } from './deploy-permissions.js';
import {
  detectStackDrift,
  DRIFT_CHECKED_TYPES,
  type DriftClients,
  type DriftDetection,
  type ResourceDrift,
} from './drift.js';
import { ADMINISTRATOR } from './foundation-policies.js';
import { authorize, type PolicyDocument } from './evaluator.js';
import type { Template } from './intrinsics.js';
import { requiredPermissions, UnmodelledOperation, type RequiredPermission } from './operations.js';
import { Principals, type Caller } from './principals.js';

/** What the gate decided about one call (tests read these; a denial is also the caller's error). */
export interface GateDecision {
  readonly caller: string;
  readonly call: string;
  readonly outcome: 'allowed' | 'denied' | 'unmodelled' | 'refused-by-cloudformation' | 'invalid-token';
  readonly reason?: string;
}

export interface GateOptions {
  readonly aws: LocalAws;
  /** The local GitHub OIDC issuer whose tokens AssumeRoleWithWebIdentity accepts. */
  readonly issuer?: OidcIssuer;
  /** The SSM/ECS emulator: ECS calls and Session Manager calls go there, the rest to moto. */
  readonly emulator?: { readonly endpoint: string };
  /** @default 'aws' */
  readonly partition?: string;
}

/** CloudFormation's drift operations, which moto lacks: served here (drift.ts). */
const DRIFT_OPERATIONS = new Set([
  'DetectStackDrift',
  'DescribeStackDriftDetectionStatus',
  'DescribeStackResourceDrifts',
]);
/** Session Manager operations the emulator serves (moto does not implement them). */
const SESSION_OPERATIONS = new Set(['StartSession', 'ResumeSession', 'TerminateSession', 'DescribeSessions']);
/** GitHub token claims AWS exposes as condition keys on AssumeRoleWithWebIdentity. */
export const TOKEN_CLAIM_KEYS = [
  'sub',
  'aud',
  'actor',
  'environment',
  'event_name',
  'job_workflow_ref',
  'ref',
  'ref_type',
  'repository',
  'repository_id',
  'repository_owner',
  'repository_owner_id',
  'workflow',
] as const;

/**
 * The condition keys STS sets from a GitHub token: `token.actions.githubusercontent.com:<claim>` for
 * each claim present, `aud` being the audience the provider matched.
 */
export function tokenConditionContext(payload: JWTPayload, aud: string | undefined): Record<string, string> {
  const context: Record<string, string> = {};
  for (const claim of TOKEN_CLAIM_KEYS) {
    const value = claim === 'aud' ? aud : payload[claim];
    if (typeof value === 'string') context[`${GITHUB_OIDC_HOST}:${claim}`] = value;
  }
  return context;
}

export class IamGate {
  readonly decisions: GateDecision[] = [];
  private server?: Server;
  private readonly partition: string;
  private readonly iam: IAMClient;
  private readonly s3: S3Client;
  private readonly principals: Principals;
  private readonly jwks?: ReturnType<typeof createRemoteJWKSet>;
  /** Drift detections by id, and the latest of each stack. */
  private readonly detections = new Map<string, DriftDetection>();
  /** The templates as sent, by `<region>/<stack>`, where moto was given them with conditions applied. */
  private readonly originals = new Map<string, string>();
  private readonly latestDetection = new Map<string, DriftDetection>();
  /** aws:userid of the creator of each Session Manager session (Session Manager tags it so). */
  private readonly sessionOwners = new Map<string, string>();

  constructor(private readonly options: GateOptions) {
    this.partition = options.partition ?? 'aws';
    this.iam = new IAMClient(motoClientConfig(options.aws));
    this.s3 = new S3Client({ ...motoClientConfig(options.aws), forcePathStyle: true });
    this.principals = new Principals(this.iam);
    if (options.issuer) this.jwks = createRemoteJWKSet(new URL(`${options.issuer.url}/.well-known/jwks`));
  }

  get endpoint(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://localhost:${port}`;
  }

  /** The refusals so far (every decision but `allowed`). */
  get refusals(): GateDecision[] {
    return this.decisions.filter((decision) => decision.outcome !== 'allowed');
  }

  /** New static credentials of an administrator (AdministratorAccess) of the local account. */
  administrator(account = this.options.aws.account): { accessKeyId: string; secretAccessKey: string } {
    const accessKeyId = `AKIAADMIN${randomBytes(6).toString('hex').toUpperCase()}`;
    this.principals.addAdministrator(accessKeyId, account, this.partition);
    return { accessKeyId, secretAccessKey: randomBytes(20).toString('hex') };
  }

  /** The ARN the gate records as the caller of the administrators' calls (see `administrator`). */
  administratorArn(account = this.options.aws.account): string {
    return `arn:${this.partition}:iam::${account}:user/administrator`;
  }

  /** Environment for a child process (the CDK CLI, the AWS CLI) that talks to the local AWS through the gate. */
  env(
    credentials: { accessKeyId: string; secretAccessKey: string },
    extra: Record<string, string> = {},
  ): NodeJS.ProcessEnv {
    return this.options.aws.env({
      AWS_ENDPOINT_URL: this.endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      ...extra,
    });
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const started = Date.now();
      let call = '';
      void readBody(req)
        .then((body) => {
          call = apiCallName(req, body);
          return this.handle(req, body);
        })
        .then(({ status, body, headers }) => {
          if (process.env.IAM_GATE_DEBUG)
            console.error(`gate: ${req.method} ${req.url} -> ${status} ${body.subarray(0, 300).toString()}`);
          res.writeHead(status, headers);
          res.end(body);
          // GATE_TRACE=<file>: one line per call (start in ms, duration in ms, the call), to see where a flow waits.
          if (process.env.GATE_TRACE)
            appendFileSync(process.env.GATE_TRACE, `${started} ${Date.now() - started} ${call} ${status}\n`);
        })
        .catch((error: unknown) => {
          if (process.env.IAM_GATE_DEBUG) console.error(`gate: ${req.method} ${req.url} failed: ${String(error)}`);
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`The IAM gate failed: ${error instanceof Error ? error.stack : String(error)}`);
        });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, body: Buffer): Promise<Reply> {
    const call = parseAwsCall(req.method ?? 'GET', req.url ?? '/', req.headers, body);
    if (call.service === 'sts' && call.operation === 'AssumeRoleWithWebIdentity') return this.webIdentity(req, call);

    // What the gate read of IAM is stale once a call may have changed it (IAM, or a stack's roles).
    const changes = mayChangeIam(call);
    if (changes) this.principals.forget();
    try {
      return await this.answer(req, call, body);
    } finally {
      if (changes) this.principals.forget();
    }
  }

  private async answer(req: IncomingMessage, call: AwsCall, body: Buffer): Promise<Reply> {
    const caller = this.principals.caller(call.accessKeyId);
    const label = `${call.service}:${call.operation}`;
    if (!caller) {
      this.record('unknown', label, 'denied', `unknown access key ${call.accessKeyId ?? '(unsigned)'}`);
      return errorReply(call, 403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    }
    if (caller.kind === 'role') {
      const denial = await this.authorizeRoleCall(caller, call);
      if (denial) return denial;
    }
    if (call.service === 'cloudformation' && DRIFT_OPERATIONS.has(call.operation)) {
      this.record(caller.arn, label, 'allowed');
      return this.drift(caller, call);
    }
    let forwardBody = body;
    if (
      call.service === 'cloudformation' &&
      ['CreateStack', 'UpdateStack', 'CreateChangeSet'].includes(call.operation)
    ) {
      const checked = await this.cloudFormation(caller, call);
      if ('refusal' in checked) {
        this.record(caller.arn, label, 'refused-by-cloudformation', checked.refusal);
        return errorReply(call, 400, 'ValidationError', checked.refusal);
      }
      forwardBody = checked.body;
    }
    this.record(caller.arn, label, 'allowed');
    const updating =
      call.service === 'cloudformation' && ['UpdateStack', 'ExecuteChangeSet'].includes(call.operation)
        ? await this.stackResources(String(call.params.StackName ?? ''), call.region)
        : undefined;
    let reply = normalize(call, await this.forward(req, call, forwardBody));
    if (updating && reply.status === 200)
      await this.deleteRemoved(String(call.params.StackName ?? ''), call.region, updating);
    if (call.service === 'cloudformation' && call.operation === 'GetTemplate')
      reply = this.originalTemplate(call, reply);
    await this.afterReply(caller, call, reply);
    return reply;
  }

  /**
   * GetTemplate answers with the template as it was sent (AWS's default stage, `Original`), not
   * the one with its conditions applied that moto was given (see conditions.ts).
   */
  private originalTemplate(call: AwsCall, reply: Reply): Reply {
    const original = this.originals.get(`${call.region}/${String(call.params.StackName ?? '')}`);
    if (!original || reply.status !== 200) return reply;
    const text = reply.body.toString('utf8');
    const replaced = text.replace(
      /<TemplateBody>[\s\S]*<\/TemplateBody>/,
      `<TemplateBody>${escapeXml(original)}</TemplateBody>`,
    );
    return { ...reply, body: Buffer.from(replaced) };
  }

  /** The call's permissions against the role's policies; a reply when refused. */
  private async authorizeRoleCall(
    caller: Extract<Caller, { kind: 'role' }>,
    call: AwsCall,
  ): Promise<Reply | undefined> {
    const label = `${call.service}:${call.operation}`;
    let permissions: RequiredPermission[];
    try {
      permissions = requiredPermissions(call, { account: caller.account, partition: this.partition });
    } catch (error) {
      if (!(error instanceof UnmodelledOperation)) throw error;
      this.record(caller.arn, label, 'unmodelled', error.message);
      return errorReply(call, 403, 'AccessDenied', error.message);
    }
    const role = await this.principals.role(caller.roleName);
    if (!role) {
      this.record(caller.arn, label, 'denied', `role ${caller.roleName} no longer exists`);
      return errorReply(call, 403, 'AccessDenied', `The role ${caller.roleArn} does not exist.`);
    }
    for (const permission of permissions) {
      const context = {
        'aws:userid': caller.userId,
        'aws:PrincipalArn': caller.roleArn,
        'aws:PrincipalAccount': caller.account,
        // IAM is global: its calls name us-east-1 as the requested Region.
        'aws:RequestedRegion': call.service === 'iam' ? 'us-east-1' : call.region,
        // The account that owns the resource (S3 ARNs name none: the buckets here are the caller's).
        'aws:ResourceAccount': permission.resource.split(':')[4] || caller.account,
        ...this.sessionContext(call),
        ...permission.context,
      };
      const resourcePolicy = await this.resourcePolicy(permission);
      const { decision, reason } = authorize({
        identityPolicies: role.identityPolicies,
        permissionsBoundary: role.permissionsBoundary,
        resourcePolicy,
        request: {
          action: permission.action,
          resource: permission.resource,
          principal: resourcePolicy ? { type: 'AWS', id: caller.arn, account: caller.account } : undefined,
          context,
        },
      });
      if (decision !== 'Allow') {
        const message = `User: ${caller.arn} is not authorized to perform: ${permission.action} on resource: ${permission.resource} (${reason})`;
        this.record(caller.arn, label, 'denied', message);
        return errorReply(call, 403, call.protocol === 'json' ? 'AccessDeniedException' : 'AccessDenied', message);
      }
    }
    return undefined;
  }

  /** The resource policy IAM consults: a role's trust policy for sts:AssumeRole. */
  private async resourcePolicy(permission: RequiredPermission): Promise<PolicyDocument | undefined> {
    if (!/^sts:(AssumeRole|TagSession)$/i.test(permission.action)) return undefined;
    const target = await this.principals.role(permission.resource.split('/').pop() ?? '');
    return target?.trust ?? { Version: '2012-10-17', Statement: [] };
  }

  /** ssm:resourceTag/aws:ssmmessages:session-id of the session a call names: its creator's aws:userid. */
  private sessionContext(call: AwsCall): Record<string, string> {
    const sessionId = call.service === 'ssm' ? call.params.SessionId : undefined;
    const owner = typeof sessionId === 'string' ? this.sessionOwners.get(sessionId) : undefined;
    return owner ? { 'ssm:resourceTag/aws:ssmmessages:session-id': owner } : {};
  }

  /** The CloudFormation rules of a stack creation or update; the body to forward when it passes. */
  private async cloudFormation(caller: Caller, call: AwsCall): Promise<{ body: Buffer } | { refusal: string }> {
    const stackName = String(call.params.StackName ?? '');
    // UsePreviousTemplate (sleep and wake): the deployed template, checked again with the new
    // parameters, since they decide which resources exist (the asleep shape deletes some).
    const previous = call.params.UsePreviousTemplate === 'true';
    const template = previous ? await this.deployedTemplate(stackName, call.region) : await this.templateOf(call);
    if (!template) return { body: call.body };
    const roleArn = call.params.RoleARN;
    let deployer = ADMINISTRATOR;
    if (typeof roleArn === 'string') {
      const role = await this.principals.role(roleArn.split('/').pop() ?? '');
      if (!role) return { refusal: `Role ${roleArn} is invalid or cannot be assumed (it does not exist).` };
      deployer = {
        name: roleArn.split('/').pop()!,
        identityPolicies: role.identityPolicies,
        permissionsBoundary: role.permissionsBoundary,
      };
    } else if (caller.kind === 'role') {
      const role = await this.principals.role(caller.roleName);
      deployer = {
        name: caller.roleName,
        identityPolicies: role?.identityPolicies ?? [],
        permissionsBoundary: role?.permissionsBoundary,
      };
    }
    const parameters = Object.fromEntries(
      queryStructList(call.params, 'Parameters')
        .filter((p) => p.ParameterValue !== undefined)
        .map((p) => [p.ParameterKey ?? '', p.ParameterValue ?? '']),
    );
    const isUpdate = call.operation === 'UpdateStack' || call.params.ChangeSetType === 'UPDATE';
    const deployed = isUpdate ? await this.deployedStack(stackName, call.region) : undefined;
    const given = queryStructList(call.params, 'Tags');
    // An update without Tags keeps the stack's tags (UpdateStack, CreateChangeSet: "If you don't
    // specify this parameter, CloudFormation doesn't modify the stack's tags").
    const tags = Object.fromEntries(
      (given.length > 0 ? given : (deployed?.Tags ?? [])).map((t) => [t.Key ?? '', t.Value ?? '']),
    );
    const where = { account: caller.account, region: call.region, partition: this.partition, stackName };
    const refusal = await stackRefusal(
      {
        ...where,
        template,
        parameters,
        tags,
        deployer,
        isUpdate,
        exports: await regionExports(
          new CloudFormationClient({ ...motoClientConfig(this.options.aws), region: call.region }),
          new KMSClient({ ...motoClientConfig(this.options.aws), region: call.region }),
        ),
      },
      this.principals,
    );
    if (refusal) return { refusal: `Stack ${stackName}: ${refusal}` };
    const body = deployed ? previousParameterValues(call.body, template, deployed.Parameters ?? []) : call.body;
    const provisioned = previous ? template : await provisionOidcProviders(template, where, this.iam);
    // The template with its conditions applied for the parameters it is deployed with (moto does
    // not apply them on update); GetTemplate keeps answering with the original.
    const params = new URLSearchParams(body.toString('utf8'));
    const effective: Record<string, string> = {};
    for (const [name, declared] of Object.entries(template.Parameters ?? {}))
      if (declared.Default !== undefined) effective[name] = String(declared.Default);
    for (const p of queryStructList(Object.fromEntries(params.entries()), 'Parameters'))
      if (p.ParameterKey && p.ParameterValue !== undefined) effective[p.ParameterKey] = p.ParameterValue;
    const conditioned = applyConditions(provisioned, where, effective);
    if (conditioned === template) return { body };
    this.originals.set(`${call.region}/${stackName}`, JSON.stringify(template));
    params.delete('TemplateURL');
    params.delete('UsePreviousTemplate');
    params.set('TemplateBody', JSON.stringify(conditioned));
    return { body: Buffer.from(params.toString()) };
  }

  private async deployedStack(stackName: string, region: string): Promise<Stack | undefined> {
    const cloudformation = new CloudFormationClient({ ...motoClientConfig(this.options.aws), region });
    return cloudformation
      .send(new DescribeStacksCommand({ StackName: stackName }))
      .then(({ Stacks }) => Stacks?.[0])
      .catch(() => undefined);
  }

  private async stackResources(stackName: string, region: string): Promise<StackResourceSummary[]> {
    const cloudformation = new CloudFormationClient({ ...motoClientConfig(this.options.aws), region });
    return cloudformation
      .send(new ListStackResourcesCommand({ StackName: stackName }))
      .then(({ StackResourceSummaries }) => StackResourceSummaries ?? [])
      .catch(() => []);
  }

  /**
   * Deletes what an update took out of the stack where moto does not: moto 5 has no CloudFormation
   * delete for AWS::EC2::VPCEndpoint, so a removed endpoint (the asleep shape) would stay in EC2.
   */
  private async deleteRemoved(
    stackName: string,
    region: string,
    before: readonly StackResourceSummary[],
  ): Promise<void> {
    const after = new Set((await this.stackResources(stackName, region)).map((r) => r.LogicalResourceId));
    const endpoints = before
      .filter((r) => r.ResourceType === 'AWS::EC2::VPCEndpoint' && !after.has(r.LogicalResourceId))
      .map((r) => r.PhysicalResourceId!)
      .filter(Boolean);
    if (endpoints.length === 0) return;
    const ec2 = new EC2Client({ ...motoClientConfig(this.options.aws), region });
    await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: endpoints }));
  }

  private async deployedTemplate(stackName: string, region: string): Promise<Template | undefined> {
    const original = this.originals.get(`${region}/${stackName}`);
    if (original) return parseTemplate(original);
    const cloudformation = new CloudFormationClient({ ...motoClientConfig(this.options.aws), region });
    const { TemplateBody } = await cloudformation.send(new GetTemplateCommand({ StackName: stackName }));
    return TemplateBody ? parseTemplate(TemplateBody) : undefined;
  }

  private async templateOf(call: AwsCall): Promise<Template | undefined> {
    const body = call.params.TemplateBody;
    if (typeof body === 'string') return parseTemplate(body);
    const url = call.params.TemplateURL;
    if (typeof url !== 'string') return undefined; // UsePreviousTemplate: checked when it was sent
    const location = new URL(url);
    const virtual = /^([^.]+)\.s3[.-]/.exec(location.hostname);
    const path = decodeURIComponent(location.pathname.replace(/^\//, ''));
    const [bucket, key] = virtual ? [virtual[1]!, path] : [path.split('/')[0]!, path.split('/').slice(1).join('/')];
    const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return parseTemplate(await object.Body!.transformToString());
  }

  /**
   * Drift detection, which moto lacks. As in AWS, it reads each resource with the caller's own
   * permissions: a caller who may not read a resource type gets DETECTION_FAILED, with the reason.
   */
  private async drift(caller: Caller, call: AwsCall): Promise<Reply> {
    const xml = (operation: string, result: string): Reply => ({
      status: 200,
      headers: { 'content-type': 'text/xml' },
      body: Buffer.from(
        `<${operation}Response xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><${operation}Result>${result}</${operation}Result>` +
          `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${operation}Response>`,
      ),
    });
    const text = (value: unknown): string => escapeXml(String(value ?? ''));
    if (call.operation === 'DetectStackDrift') {
      const stackName =
        String(call.params.StackName ?? '')
          .split('/')
          .slice(-2)[0] ?? '';
      const name = String(call.params.StackName ?? '').startsWith('arn:')
        ? stackName
        : String(call.params.StackName ?? '');
      const where = { account: caller.account, region: call.region, partition: this.partition };
      const clients = this.driftClients(call.region);
      let detection: DriftDetection;
      try {
        detection = await detectStackDrift(name, where, clients);
      } catch (error) {
        return errorReply(call, 400, 'ValidationError', `Stack with id ${name} does not exist (${String(error)})`);
      }
      const unreadable = caller.kind === 'role' ? await this.unreadableResources(caller, name, call.region) : [];
      const recorded = { ...detection, failure: unreadable.length > 0 ? unreadable.join('; ') : undefined };
      this.detections.set(detection.id, recorded);
      this.latestDetection.set(name, recorded);
      return xml('DetectStackDrift', `<StackDriftDetectionId>${detection.id}</StackDriftDetectionId>`);
    }
    if (call.operation === 'DescribeStackDriftDetectionStatus') {
      const detection = this.detections.get(String(call.params.StackDriftDetectionId ?? '')) as
        (DriftDetection & { failure?: string }) | undefined;
      if (!detection) return errorReply(call, 400, 'ValidationError', 'Drift detection id not found');
      const drifted = detection.drifts.filter((d) =>
        ['MODIFIED', 'DELETED'].includes(d.StackResourceDriftStatus),
      ).length;
      return xml(
        'DescribeStackDriftDetectionStatus',
        `<StackId>${text(detection.stackId)}</StackId><StackDriftDetectionId>${detection.id}</StackDriftDetectionId>` +
          (detection.failure
            ? `<DetectionStatus>DETECTION_FAILED</DetectionStatus><DetectionStatusReason>${text(detection.failure)}</DetectionStatusReason>`
            : `<StackDriftStatus>${detection.status}</StackDriftStatus><DetectionStatus>DETECTION_COMPLETE</DetectionStatus>`) +
          `<DriftedStackResourceCount>${drifted}</DriftedStackResourceCount><Timestamp>${detection.timestamp}</Timestamp>`,
      );
    }
    const detection = this.latestDetection.get(String(call.params.StackName ?? ''));
    const filters = Object.entries(call.params)
      .filter(([key]) => key.startsWith('StackResourceDriftStatusFilters.member.'))
      .map(([, value]) => String(value));
    const drifts = (detection?.drifts ?? []).filter(
      (d) => filters.length === 0 || filters.includes(d.StackResourceDriftStatus),
    );
    const member = (drift: ResourceDrift): string =>
      `<member><StackId>${text(drift.StackId)}</StackId><LogicalResourceId>${text(drift.LogicalResourceId)}</LogicalResourceId>` +
      `<PhysicalResourceId>${text(drift.PhysicalResourceId)}</PhysicalResourceId><ResourceType>${text(drift.ResourceType)}</ResourceType>` +
      `<StackResourceDriftStatus>${drift.StackResourceDriftStatus}</StackResourceDriftStatus><Timestamp>${drift.Timestamp}</Timestamp>` +
      `<PropertyDifferences>${drift.PropertyDifferences.map(
        (d) =>
          `<member><PropertyPath>${text(d.PropertyPath)}</PropertyPath><ExpectedValue>${text(d.ExpectedValue)}</ExpectedValue>` +
          `<ActualValue>${text(d.ActualValue)}</ActualValue><DifferenceType>${d.DifferenceType}</DifferenceType></member>`,
      ).join('')}</PropertyDifferences></member>`;
    return xml(
      'DescribeStackResourceDrifts',
      `<StackResourceDrifts>${drifts.map(member).join('')}</StackResourceDrifts>`,
    );
  }

  /** The resources of a stack the caller may not read (drift detection reads them with the caller's rights). */
  private async unreadableResources(
    caller: Extract<Caller, { kind: 'role' }>,
    stackName: string,
    region: string,
  ): Promise<string[]> {
    const role = await this.principals.role(caller.roleName);
    const cloudformation = new CloudFormationClient({ ...motoClientConfig(this.options.aws), region });
    const { TemplateBody = '{}' } = await cloudformation.send(new GetTemplateCommand({ StackName: stackName }));
    const template = parseTemplate(TemplateBody);
    // Only the types drift detection reads (drift.ts): the others are NOT_CHECKED, nothing is read.
    // The whole template is evaluated (a log group's key is another resource, or another stack's export).
    const exports = await regionExports(
      cloudformation,
      new KMSClient({ ...motoClientConfig(this.options.aws), region }),
    );
    // The others stay as placeholders (no handler, nothing read) so that references to them resolve;
    // keys keep their key policies.
    const resources = Object.fromEntries(
      Object.entries(template.Resources ?? {}).map(([id, resource]) => [
        id,
        DRIFT_CHECKED_TYPES.includes(resource.Type) || resource.Type === 'AWS::KMS::Key'
          ? resource
          : { Type: 'AWS::CloudFormation::WaitConditionHandle' },
      ]),
    );
    const findings = templatePermissionFindings(
      { ...template, Resources: resources },
      {
        ...exports,
        stackName,
        account: caller.account,
        region,
        partition: this.partition,
        deployer: {
          name: caller.roleName,
          identityPolicies: role?.identityPolicies ?? [],
          permissionsBoundary: role?.permissionsBoundary,
        },
        handlers: ['read'],
      },
    ).filter((finding) => DRIFT_CHECKED_TYPES.includes(finding.type));
    return findings.map((f) => `${f.logicalId} (${f.type}): ${caller.arn} is not authorized to perform ${f.action}`);
  }

  private driftClients(region: string): DriftClients {
    const config = { ...motoClientConfig(this.options.aws), region };
    return {
      cloudformation: new CloudFormationClient(config),
      logs: new CloudWatchLogsClient(config),
      ec2: new EC2Client(config),
      ecs: new ECSClient(config),
    };
  }

  /** AssumeRoleWithWebIdentity: the token, the provider, the trust policy; then STS itself. */
  private async webIdentity(req: IncomingMessage, call: AwsCall): Promise<Reply> {
    const roleArn = String(call.params.RoleArn ?? '');
    const label = 'sts:AssumeRoleWithWebIdentity';
    if (!this.jwks || !this.options.issuer) {
      return errorReply(call, 400, 'InvalidIdentityToken', 'No OpenID Connect issuer is configured in this local AWS.');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(String(call.params.WebIdentityToken ?? ''), this.jwks, {
        issuer: this.options.issuer.url,
      }));
    } catch (error) {
      this.record(roleArn, label, 'invalid-token', (error as Error).message);
      return errorReply(
        call,
        400,
        'InvalidIdentityToken',
        `The web identity token is not valid: ${(error as Error).message}`,
      );
    }
    const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
    const providerArn = await this.providerArnFor(aud ?? '');
    if (!providerArn) {
      this.record(roleArn, label, 'invalid-token', `no provider for audience ${aud}`);
      return errorReply(
        call,
        400,
        'InvalidIdentityToken',
        `No OpenIDConnect provider found in your account for https://${GITHUB_OIDC_HOST} with audience ${aud}`,
      );
    }
    const role = await this.principals.role(roleArn.split('/').pop() ?? '');
    const context = tokenConditionContext(payload, aud);
    const { decision, reason } = role
      ? authorize({
          identityPolicies: [],
          resourcePolicy: role.trust,
          request: {
            action: 'sts:AssumeRoleWithWebIdentity',
            resource: roleArn,
            principal: { type: 'Federated', id: providerArn },
            context,
          },
        })
      : { decision: 'ImplicitDeny', reason: `role ${roleArn} does not exist` };
    if (decision !== 'Allow') {
      this.record(`web identity ${payload.sub ?? ''}`, label, 'denied', `${roleArn}: ${reason}`);
      return errorReply(call, 403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    }
    this.record(`web identity ${payload.sub ?? ''}`, label, 'allowed');
    const reply = await this.forward(req, call, call.body);
    this.registerSession(reply, roleArn, role!.roleId);
    return reply;
  }

  private async providerArnFor(audience: string): Promise<string | undefined> {
    const { OpenIDConnectProviderList = [] } = await this.iam.send(new ListOpenIDConnectProvidersCommand({}));
    for (const { Arn } of OpenIDConnectProviderList) {
      if (!Arn?.endsWith(`/${GITHUB_OIDC_HOST}`)) continue;
      const provider = await this.iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: Arn }));
      if (provider.ClientIDList?.includes(audience)) return Arn;
    }
    return undefined;
  }

  /** Learns the keys STS hands out and the sessions Session Manager starts. */
  private async afterReply(caller: Caller, call: AwsCall, reply: Reply): Promise<void> {
    if (reply.status !== 200) return;
    if (
      call.service === 'cloudformation' &&
      ['CreateStack', 'UpdateStack', 'ExecuteChangeSet'].includes(call.operation)
    ) {
      await attachStackManagedPolicies(
        String(call.params.StackName ?? ''),
        { account: caller.account, region: call.region, partition: this.partition },
        {
          cloudformation: new CloudFormationClient({ ...motoClientConfig(this.options.aws), region: call.region }),
          iam: this.iam,
        },
      );
    }
    if (call.service === 'sts' && call.operation === 'AssumeRole') {
      const roleArn = String(call.params.RoleArn ?? '');
      const role = await this.principals.role(roleArn.split('/').pop() ?? '');
      this.registerSession(reply, roleArn, role?.roleId ?? 'AROAUNKNOWN');
    }
    if (call.service === 'ssm' && call.operation === 'StartSession') {
      const sessionId = (JSON.parse(reply.body.toString('utf8')) as { SessionId?: string }).SessionId;
      if (sessionId) this.sessionOwners.set(sessionId, caller.userId);
    }
  }

  private registerSession(reply: Reply, roleArn: string, roleId: string): void {
    const text = reply.body.toString('utf8');
    const accessKeyId = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(text)?.[1];
    const sessionArn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
    const sessionName = sessionArn?.split('/').pop() ?? 'session';
    if (accessKeyId && sessionArn) {
      this.principals.addRoleSession(accessKeyId, { sessionArn, roleArn, userId: `${roleId}:${sessionName}` });
    }
  }

  private async forward(req: IncomingMessage, call: AwsCall, body: Buffer): Promise<Reply> {
    const toEmulator =
      this.options.emulator &&
      (call.service === 'ecs' || (call.service === 'ssm' && SESSION_OPERATIONS.has(call.operation)));
    const upstream = toEmulator ? this.options.emulator!.endpoint : this.options.aws.endpoint;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && !['host', 'content-length', 'connection'].includes(name)) headers[name] = value;
    }
    const response = await fetch(`${upstream}${req.url ?? '/'}`, {
      method: req.method,
      headers,
      body: ['GET', 'HEAD'].includes(req.method ?? 'GET') ? undefined : body,
    });
    const replyHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(name))
        replyHeaders[name] = value;
    });
    return { status: response.status, headers: replyHeaders, body: Buffer.from(await response.arrayBuffer()) };
  }

  private record(caller: string, call: string, outcome: GateDecision['outcome'], reason?: string): void {
    this.decisions.push({ caller, call, outcome, ...(reason ? { reason } : {}) });
  }
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** CloudFormation templates are JSON or YAML (the CDK bootstrap template is YAML, in long-form intrinsics). */
/**
 * Where moto's answer differs in form from AWS's: moto reports a CommaDelimitedList parameter of
 * DescribeStacks as Python's list repr (`['a', 'b']`) where AWS answers `a,b`.
 */
function normalize(call: AwsCall, reply: Reply): Reply {
  if (call.service !== 'cloudformation' || call.operation !== 'DescribeStacks' || reply.status !== 200) return reply;
  const text = reply.body.toString('utf8').replace(
    /<ParameterValue>\[(.*?)\]<\/ParameterValue>/g,
    (_match, items: string) =>
      `<ParameterValue>${items
        .split(',')
        .map((item) => item.trim().replace(/^(?:'|&apos;|&#39;)(.*)(?:'|&apos;|&#39;)$/, '$1'))
        .filter(Boolean)
        .join(',')}</ParameterValue>`,
  );
  return { ...reply, body: Buffer.from(text) };
}

function parseTemplate(text: string): Template {
  return (text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text)) as Template;
}

/** An error in the protocol the caller speaks. */
function errorReply(call: AwsCall, status: number, code: string, message: string): Reply {
  const requestId = randomUUID();
  if (call.protocol === 'json') {
    return {
      status: status === 403 ? 400 : status,
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-errortype': code,
        'x-amzn-requestid': requestId,
      },
      body: Buffer.from(JSON.stringify({ __type: code, message })),
    };
  }
  const escaped = escapeXml(message);
  if (call.protocol === 'rest-xml') {
    return {
      status,
      headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
      body: Buffer.from(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${escaped}</Message><RequestId>${requestId}</RequestId></Error>`,
      ),
    };
  }
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: Buffer.from(
      `<ErrorResponse xmlns="https://${call.service}.amazonaws.com/doc/"><Error><Type>Sender</Type><Code>${code}</Code>` +
        `<Message>${escaped}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    ),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * `UsePreviousValue` as AWS applies it, which moto does not: AWS keeps the value the stack has,
 * which for a parameter left at its default is that default (moto stores only the parameters it
 * was given, and fails on another), and for an SSM-typed parameter (CDK's `BootstrapVersion`) is
 * the SSM parameter name, resolved again (moto keeps the resolved value and looks it up as a
 * name). Forwarded as explicit values: the stack's, or the template's default.
 */
function previousParameterValues(body: Buffer, template: Template, current: readonly Parameter[]): Buffer {
  const params = new URLSearchParams(body.toString('utf8'));
  const declared = template.Parameters ?? {};
  for (const [key, name] of [...params.entries()]) {
    const member = /^Parameters\.member\.(\d+)\.ParameterKey$/.exec(key);
    if (!member) continue;
    const prefix = `Parameters.member.${member[1]}`;
    if (params.get(`${prefix}.UsePreviousValue`) !== 'true') continue;
    const parameter = declared[name];
    const ssm = parameter?.Type?.startsWith('AWS::SSM::Parameter::Value') ?? false;
    const stackValue = current.find((p) => p.ParameterKey === name)?.ParameterValue;
    const value = ssm || stackValue === undefined ? parameter?.Default : stackValue;
    if (value === undefined) continue;
    params.delete(`${prefix}.UsePreviousValue`);
    params.set(`${prefix}.ParameterValue`, String(value));
  }
  return Buffer.from(params.toString());
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The API call of a request, for the trace: the JSON target, the query Action, or the method and path (S3). */
function apiCallName(req: IncomingMessage, body: Buffer): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target;
  const action = /(?:^|&)Action=([A-Za-z0-9]+)/.exec(body.subarray(0, 300).toString())?.[1];
  return action ?? `${req.method} ${(req.url ?? '').split('?')[0]}`;
}

/**
 * Whether a call may change what IAM holds: any call but reads (and STS, which changes nothing in
 * IAM). CloudFormation's writes count: a stack creates and changes roles and policies.
 */
function mayChangeIam(call: AwsCall): boolean {
  if (call.service === 'sts') return false;
  return !/^(Get|List|Describe|Head|Detect|Validate|Estimate)/.test(call.operation);
}
