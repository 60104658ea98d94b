/**
 * An offline evaluator of IAM policies for tests: identity-based policies, resource-based policies
 * (a role's trust policy is one) and permissions boundaries, for requests within one account.
 * npm's IAM simulators drop condition keys or crash on trust policies, and the real
 * `iam:SimulatePrincipalPolicy` needs an account, so tests that must say "this role can do X and
 * cannot do Y" use this instead; `test/iam/evaluator.test.ts` proves it on AWS's own examples.
 *
 * The rule of this module: anything it cannot evaluate THROWS (a `PolicyEvaluationError` that says
 * what was expected, what was found and what to do). A guess, in either direction, would make the
 * checks built on it lie.
 *
 * Sources, all read 2026-12-01:
 * - [policy-eval]  "Policy evaluation logic", IAM User Guide,
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * - [deny-allow]   "How AWS enforcement code logic evaluates requests to allow or deny access", IAM User Guide,
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
 * - [one-account]  "Policy evaluation for requests within a single account" (formerly "Determining
 *   whether a request is allowed or denied within an account"; its flow charts are images),
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
 * - [operators]    "IAM JSON policy elements: Condition operators", IAM User Guide,
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 * - [multivalued]  "Single-valued vs. multivalued context keys", IAM User Guide,
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 * - [condition]    "Conditions with multiple context keys or values" (operators and keys AND; values OR,
 *   or NOR for a negated operator),
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
 * - [variables]    "IAM policy elements: Variables and tags", IAM User Guide,
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 * - [boundaries]   "Permissions boundaries for IAM entities", IAM User Guide,
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
 * - [action]       "IAM JSON policy elements: Action" ("The prefix and the action name are case insensitive"),
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
 * - [resource]     "IAM JSON policy elements: Resource", IAM User Guide,
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 * - [principal]    "AWS JSON policy elements: Principal", IAM User Guide,
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 * - [assume-role]  "AssumeRole", AWS STS API Reference,
 *   https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 *
 * How the doc is read where it needs reading (each rule is also at the code that applies it):
 * - A condition key missing from the request: positive operators are false, negated ones
 *   (`StringNotEquals`, `ArnNotLike`, `NumericNotEquals`...) are true; `...IfExists` is true;
 *   `ForAllValues:` is true ("no context keys in the request", or a null dataset such as an empty
 *   string); `ForAnyValue:` is false [operators], [multivalued].
 * - A policy variable with no value (and no `, 'default'`): in a condition it is "effectively
 *   null", so it equals/is like nothing and a negated operator matches against it; in `Resource`
 *   or `NotResource` the pattern that holds it "will not match any resource" [variables].
 * - Variables are substituted only under `"Version": "2012-10-17"`; without it they are literal
 *   text [variables]. AWS does not say whether a `*` or `?` inside a substituted value is a
 *   wildcard, so such a value in a wildcard comparison (Resource, StringLike, ArnLike) throws;
 *   otherwise substituted values are literal text, like `${*}`, `${?}` and `${$}`.
 * - Resource ARNs match segment by segment: a wildcard does not span the colon-separated segments
 *   (partition, service, region, account, resource), while within the last segment `*` runs over
 *   `/` and `:` alike [resource]. A request resource of `*` (an action with no resource type) is
 *   matched only by a policy Resource of exactly `*`.
 * - Same-account decision [deny-allow], [boundaries], [principal], [assume-role]: an explicit deny
 *   in any policy wins. Otherwise the request is allowed when the identity policies allow it and
 *   the permissions boundary (if any) does too, or when the resource policy allows it: a grant that
 *   names the requesting user or role session ARN directly, or `*` ("Permissions boundaries and
 *   session policies do not limit permissions granted using the aws:PrincipalArn condition key with
 *   a wildcard(*) in the Principal element"), is not limited by identity policies or the boundary; a grant to a role ARN is limited by the boundary but needs no identity
 *   policy; a grant to an account delegates to the account, so identity policy and boundary must
 *   allow too. A role's trust policy (`sts:AssumeRole*`) and a KMS key policy (`kms:*`) must allow
 *   the principal themselves: the identity policy alone never suffices for those.
 *
 * Not evaluated (throws): NotPrincipal, cross-account requests, Date/IP/Binary operators,
 * CloudFormation expressions where a value is compared as text, SCPs/RCPs/session policies (not
 * inputs here), unknown policy elements (a typo such as `Conditions` would silently widen an Allow).
 */

// ---------------------------------------------------------------------------------------------
// Public types

/** One policy's (or one request's) verdict. */
export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

/** A policy statement; IAM accepts a string or an array wherever a list is allowed. */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  /** `"*"`, or `{ AWS | Service | Federated: value or values }`; resource-based policies only. */
  readonly Principal?: unknown;
  /** Refused: NotPrincipal's interplay with boundaries and sessions is not modelled. */
  readonly NotPrincipal?: unknown;
  /** `{ operator: { conditionKey: value or values } }`. */
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** A policy document; `name` (not an IAM element) only labels the policy in reasons. */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Id?: string;
  readonly Statement: Statement | readonly Statement[];
  readonly name?: string;
}

/** Who makes the request, as a resource policy's `Principal` element names it. */
export interface Principal {
  readonly type: 'AWS' | 'Federated' | 'Service';
  /**
   * An ARN (user, role, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, `arn:aws:iam::ACCOUNT:root`),
   * a service (`ecs-tasks.amazonaws.com`), or a provider ARN or any JSON value standing for it
   * (such as a CloudFormation `{ Ref }`), compared by deep equality.
   */
  readonly id: unknown;
  /** The principal's account, when `id` is not an ARN that says it. */
  readonly account?: string;
}

/** The request a policy is evaluated against. */
export interface AuthorizationRequest {
  /** The API action, e.g. `iam:CreateRole`. */
  readonly action: string;
  /** The resource ARN, or `*` for an action with no resource type. */
  readonly resource: string;
  /** Required when a resource-based policy (a statement with `Principal`) is evaluated. */
  readonly principal?: Principal;
  /** Condition keys (case-insensitive) and their values; `undefined` or `[]` means absent. */
  readonly context: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/** Thrown for anything the evaluator cannot evaluate faithfully. */
export class PolicyEvaluationError extends Error {
  override readonly name = 'PolicyEvaluationError';
}

// ---------------------------------------------------------------------------------------------
// Public functions

/** One policy's verdict for a request: explicit deny if a Deny statement applies, else allow if an Allow does. */
export function evaluatePolicy(policy: PolicyDocument, request: AuthorizationRequest): Decision {
  return assess(policy, request).decision;
}

/** Why: the decision and the statement (its Sid, or `Statement[index]`) that decided it, for error messages. */
export function explain(
  policy: PolicyDocument,
  request: AuthorizationRequest,
): { decision: Decision; statement?: string } {
  const { decision, statement } = assess(policy, request);
  return statement === undefined ? { decision } : { decision, statement };
}

/**
 * Same-account request evaluation, the decision and a sentence usable in a test failure. An explicit
 * deny in any policy wins. Otherwise, after [deny-allow], [boundaries], [principal] and [assume-role]:
 * - the identity policies (any one of them) allow it, and the permissions boundary, when given, too
 *   (boundary ∩ identity: a boundary grants nothing on its own); or
 * - the resource policy allows it by naming the requesting user ARN, role session ARN, service,
 *   provider or `*`: then neither the identity policies nor the boundary limit it; or
 * - the resource policy names the role ARN the requester is a session of: then the boundary limits
 *   it, but no identity policy is needed; a grant naming the account delegates to the account, so
 *   it allows only what the identity policies and boundary allow.
 * For `sts:AssumeRole*` (the role's trust policy) and `kms:*` (the key policy) the resource policy
 * is required and must allow the principal itself: trust naming the user or role ARN directly
 * suffices, trust naming the account needs the identity policy too, identity policies alone never do.
 * Throws for cross-account requests, and when a Service or Federated principal is given identity
 * policies or a boundary (it has none).
 */
export function authorize(input: {
  readonly identityPolicies: readonly PolicyDocument[];
  readonly permissionsBoundary?: PolicyDocument;
  readonly resourcePolicy?: PolicyDocument;
  readonly request: AuthorizationRequest;
}): { readonly decision: Decision; readonly reason: string } {
  return decide(gatherVerdicts(input), input.request);
}

/** IAM's wildcard match over a whole string: `*` any run of characters (including none), `?` exactly one. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  return toRegExp([raw(pattern)], ignoreCase, 'globMatch').test(value);
}

// ---------------------------------------------------------------------------------------------
// Errors

function fail(message: string): never {
  throw new PolicyEvaluationError(message);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

// ---------------------------------------------------------------------------------------------
// Document structure: validated up front, so a malformed policy throws whatever the request.

type PolicyKind = 'identity' | 'resource';

const STATEMENT_ELEMENTS = new Set([
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Principal',
  'NotPrincipal',
  'Condition',
]);
const DOCUMENT_ELEMENTS = new Set(['Version', 'Id', 'Statement', 'name']);
const CURRENT_VERSION = '2012-10-17';
const VERSIONS = new Set([CURRENT_VERSION, '2008-10-17']);

interface Checked {
  readonly statements: readonly Statement[];
  readonly kind: PolicyKind;
  /** Policy variables are substituted only under Version 2012-10-17 [variables]. */
  readonly variables: boolean;
}

function check(policy: PolicyDocument): Checked {
  if (!policy || typeof policy !== 'object') fail(`Expected a policy document object, found ${show(policy)}.`);
  for (const key of Object.keys(policy)) {
    if (!DOCUMENT_ELEMENTS.has(key)) {
      fail(`Unknown policy element ${show(key)}: expected only Version, Id and Statement (and "name" for messages).`);
    }
  }
  if (policy.Version !== undefined && !VERSIONS.has(policy.Version)) {
    fail(`Unknown policy Version ${show(policy.Version)}: expected "2012-10-17" (or "2008-10-17").`);
  }
  const statements = (Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement]) as Statement[];
  if (statements.length === 0) fail('The policy has no statements: expected at least one in Statement.');
  statements.forEach((statement, index) => checkStatement(statement, label(statement, index)));
  return { statements, kind: kindOf(statements), variables: policy.Version === CURRENT_VERSION };
}

function checkStatement(statement: Statement, where: string): void {
  if (!statement || typeof statement !== 'object') {
    fail(`${where}: expected a statement object, found ${show(statement)}.`);
  }
  for (const key of Object.keys(statement)) {
    if (!STATEMENT_ELEMENTS.has(key)) {
      fail(`${where}: unknown element ${show(key)}; expected one of ${[...STATEMENT_ELEMENTS].join(', ')}.`);
    }
  }
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
    fail(`${where}: Effect must be "Allow" or "Deny", found ${show(statement.Effect)}.`);
  }
  if (statement.NotPrincipal !== undefined) {
    fail(
      `${where}: NotPrincipal is not supported by this evaluator (AWS recommends against it; with a Deny it ` +
        'denies every principal that has a permissions boundary). Use Principal "*" with an ArnNotEquals ' +
        'condition on aws:PrincipalArn instead.',
    );
  }
  exactlyOne(statement, 'Action', 'NotAction', where);
  checkActions(statement.Action ?? statement.NotAction, where);
  if (statement.Resource !== undefined && statement.NotResource !== undefined) {
    fail(`${where}: has both Resource and NotResource; IAM allows only one of them.`);
  }
  if (statement.Principal === undefined && statement.Resource === undefined && statement.NotResource === undefined) {
    fail(`${where}: an identity-based statement needs Resource or NotResource (only trust policies omit it).`);
  }
  checkConditionBlock(statement.Condition, where);
}

function exactlyOne(statement: Statement, a: 'Action', b: 'NotAction', where: string): void {
  if ((statement[a] === undefined) === (statement[b] === undefined)) {
    fail(`${where}: expected exactly one of ${a} and ${b}, found ${statement[a] === undefined ? 'neither' : 'both'}.`);
  }
}

function kindOf(statements: readonly Statement[]): PolicyKind {
  const withPrincipal = statements.filter((statement) => statement.Principal !== undefined).length;
  if (withPrincipal === 0) return 'identity';
  if (withPrincipal === statements.length) return 'resource';
  fail(
    `The policy mixes statements with and without Principal: a resource-based policy names a Principal ` +
      `in every statement, an identity-based one in none.`,
  );
}

function label(statement: Statement, index: number): string {
  return typeof statement?.Sid === 'string' && statement.Sid !== '' ? `"${statement.Sid}"` : `Statement[${index}]`;
}

/** Scalars JSON policies allow as element values; objects (CloudFormation expressions) cannot be read offline. */
function stringList(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0) fail(`${where}: expected at least one value, found an empty list.`);
  return list.map((item) => {
    if (typeof item === 'string') return item;
    if (typeof item === 'number' || typeof item === 'boolean') return String(item);
    return fail(
      `${where}: expected a string, found ${show(item)}. A CloudFormation expression cannot be evaluated ` +
        'offline: resolve it to its value (or compare templates structurally) first.',
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Actions: `service:Name`, case-insensitive, `*` and `?` wildcards [action].

function checkActions(actions: unknown, where: string): void {
  for (const action of stringList(actions, `${where} Action`)) {
    if (action !== '*' && !/^[A-Za-z0-9*?-]+:[A-Za-z0-9*?_.-]*$/.test(action)) {
      fail(`${where}: expected an action such as "iam:CreateRole", "s3:*" or "*", found ${show(action)}.`);
    }
  }
}

function actionApplies(statement: Statement, action: string, where: string): boolean {
  const listed = (patterns: unknown): boolean =>
    stringList(patterns, where).some((pattern) => globMatch(pattern, action, true));
  return statement.Action !== undefined ? listed(statement.Action) : !listed(statement.NotAction);
}

// ---------------------------------------------------------------------------------------------
// Policy variables [variables]: `${key}`, `${key, 'default'}`, and `${*}` `${?}` `${$}` for the
// literal characters. A pattern becomes pieces: raw policy text (where `*` and `?` are wildcards)
// and literal text (substituted values and the special characters).

interface Piece {
  readonly text: string;
  readonly literal: boolean;
  /** Came from the request context, so AWS does not say whether its `*` would be a wildcard. */
  readonly fromContext: boolean;
}

type Context = ReadonlyMap<string, readonly string[]>;

const raw = (text: string): Piece => ({ text, literal: false, fromContext: false });
const SPECIAL_CHARACTERS = new Set(['*', '?', '$']);

/** The pieces of `value` after substitution, or `undefined` when a variable has no value ("effectively null"). */
function substitute(value: string, context: Context, enabled: boolean, where: string): Piece[] | undefined {
  if (!enabled) return [raw(value)];
  const pieces: Piece[] = [];
  let rest = value;
  for (let start = rest.indexOf('${'); start !== -1; start = rest.indexOf('${')) {
    const end = rest.indexOf('}', start);
    if (end === -1) fail(`${where}: unterminated policy variable in ${show(value)}: expected "\${key}".`);
    if (start > 0) pieces.push(raw(rest.slice(0, start)));
    const piece = variable(rest.slice(start + 2, end), context, where);
    if (piece === undefined) return undefined;
    pieces.push(piece);
    rest = rest.slice(end + 1);
  }
  if (rest !== '') pieces.push(raw(rest));
  return pieces;
}

function variable(inner: string, context: Context, where: string): Piece | undefined {
  if (SPECIAL_CHARACTERS.has(inner)) return { text: inner, literal: true, fromContext: false };
  const withDefault = /^\s*([^,]+?)\s*,\s*'([^']*)'\s*$/.exec(inner);
  const key = (withDefault?.[1] ?? inner).trim();
  if (key === '' || /[{},']/.test(key)) fail(`${where}: malformed policy variable "\${${inner}}".`);
  const values = context.get(key.toLowerCase());
  if (values !== undefined && values.length > 1) {
    fail(
      `${where}: policy variable \${${key}} refers to a multivalued context key (${show(values)}); AWS allows ` +
        'only single-valued keys as variables. Give the key one value in the request context.',
    );
  }
  const found = values?.[0] ?? withDefault?.[2];
  return found === undefined ? undefined : { text: found, literal: true, fromContext: values !== undefined };
}

const joined = (pieces: readonly Piece[]): string => pieces.map((piece) => piece.text).join('');

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Compiled matchers by pattern: the same policies are evaluated on every request of a flow, and
 * building the expressions was the gate's largest cost in a profile of the rehearsal.
 */
const compiledPatterns = new Map<string, RegExp>();

/** A whole-string matcher: wildcards in raw pieces only; literal pieces match themselves. */
function toRegExp(pieces: readonly Piece[], ignoreCase: boolean, where: string): RegExp {
  for (const piece of pieces) {
    if (piece.fromContext && /[*?]/.test(piece.text)) {
      fail(
        `${where}: a substituted context value (${show(piece.text)}) holds a wildcard character, and AWS does ` +
          'not document whether it is then a wildcard or a literal. Use a value without * or ?.',
      );
    }
  }
  const key = `${ignoreCase ? 'i' : 's'}${pieces.map((piece) => `${piece.literal ? 'L' : 'R'}${piece.text.length}:${piece.text}`).join('')}`;
  let pattern = compiledPatterns.get(key);
  if (!pattern) {
    // Escaped whole, then IAM's two wildcards (escaped as \* and \?) turned into their regex forms.
    const source = pieces.map((piece) =>
      piece.literal ? escapeRegExp(piece.text) : escapeRegExp(piece.text).replace(/\\\*/g, '.*').replace(/\\\?/g, '.'),
    );
    pattern = new RegExp(`^${source.join('')}$`, ignoreCase ? 'isu' : 'su');
    if (compiledPatterns.size > 10_000) compiledPatterns.clear();
    compiledPatterns.set(key, pattern);
  }
  return pattern;
}

// ---------------------------------------------------------------------------------------------
// ARNs: six colon-separated parts, the last one (the resource) keeping any further colons.

const ARN_PARTS = 6;

function splitArn(value: string): string[] | undefined {
  const parts = value.split(':');
  if (parts.length < ARN_PARTS || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, ARN_PARTS - 1), parts.slice(ARN_PARTS - 1).join(':')];
}

/** Splits raw pieces at their first five colons; literal (substituted) pieces stay whole in their part. */
function splitPatternArn(pieces: readonly Piece[]): Piece[][] | undefined {
  const parts: Piece[][] = [[]];
  for (const piece of pieces) {
    if (piece.literal) {
      parts[parts.length - 1]!.push(piece);
      continue;
    }
    const texts = piece.text.split(':');
    texts.forEach((text, index) => {
      if (index > 0 && parts.length < ARN_PARTS) parts.push([]);
      else if (index > 0) parts[parts.length - 1]!.push(raw(':'));
      if (text !== '') parts[parts.length - 1]!.push(raw(text));
    });
  }
  return parts.length === ARN_PARTS ? parts : undefined;
}

/** ArnLike/ArnEquals [operators] and Resource matching [resource]: each part matched on its own. */
function arnMatches(pattern: readonly Piece[], value: string, where: string): boolean {
  const patternParts = splitPatternArn(pattern);
  if (patternParts === undefined) {
    fail(
      `${where}: expected an ARN pattern with six colon-separated parts (arn:partition:service:region:account:resource), ` +
        `found ${show(joined(pattern))}.`,
    );
  }
  const valueParts = splitArn(value);
  if (valueParts === undefined) {
    fail(`${where}: expected an ARN (arn:partition:service:region:account:resource), found ${show(value)}.`);
  }
  return patternParts.every((part, index) => toRegExp(part, false, where).test(valueParts[index]!));
}

// ---------------------------------------------------------------------------------------------
// Resources

function checkRequest(request: AuthorizationRequest): void {
  if (!/^[A-Za-z0-9-]+:[A-Za-z0-9_.-]+$/.test(request.action ?? '')) {
    fail(`Expected the request action as "service:Name" without wildcards, found ${show(request.action)}.`);
  }
  if (request.resource !== '*' && splitArn(request.resource ?? '') === undefined) {
    fail(`Expected the request resource as an ARN or "*", found ${show(request.resource)}.`);
  }
}

function resourceApplies(statement: Statement, resource: string, context: Context, variables: boolean, where: string) {
  // Trust policies have no Resource element: their statements cover the role they are attached to.
  if (statement.Resource === undefined && statement.NotResource === undefined) return true;
  const listed = (patterns: unknown): boolean =>
    stringList(patterns, `${where} Resource`).some((pattern) =>
      resourceMatches(pattern, resource, context, variables, where),
    );
  return statement.Resource !== undefined ? listed(statement.Resource) : !listed(statement.NotResource);
}

function resourceMatches(pattern: string, resource: string, context: Context, variables: boolean, where: string) {
  if (pattern === '*') return true;
  // An action with no resource type is authorized against "*", which only Resource "*" covers.
  if (resource === '*') return false;
  if (variables) refuseVariablesBeforeResourcePart(pattern, where);
  const pieces = substitute(pattern, context, variables, `${where} Resource`);
  // "the resource that includes a policy variable with no value will not match any resource" [variables]
  if (pieces === undefined) return false;
  return arnMatches(pieces, resource, `${where} Resource`);
}

function refuseVariablesBeforeResourcePart(pattern: string, where: string): void {
  const variableAt = pattern.indexOf('${');
  if (variableAt === -1) return;
  const colonsBefore = pattern.slice(0, variableAt).split(':').length - 1;
  if (colonsBefore < ARN_PARTS - 1) {
    fail(
      `${where}: Resource ${show(pattern)} has a policy variable before the fifth colon; AWS allows variables ` +
        'only in the resource part of the ARN. Move it into the resource part.',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Principals [principal]

/**
 * How a resource-policy statement names the requester, which decides what else must allow [deny-allow]:
 * - `direct`: the user ARN, role session ARN, service, provider, or `*`: not limited by identity policies or boundary;
 * - `role`: the role ARN of a requesting session: limited by the permissions boundary;
 * - `account`: the account: delegates to its identity policies (and boundary);
 * - `opaque`: a non-string value (such as a CloudFormation expression) equal to the requester's id: kind unknown.
 */
type Grant = 'direct' | 'role' | 'account' | 'opaque';
const GRANT_RANK: Readonly<Record<Grant, number>> = { direct: 3, role: 2, account: 1, opaque: 0 };
const PRINCIPAL_TYPES = new Set(['AWS', 'Federated', 'Service']);

function principalGrant(element: unknown, caller: Principal, where: string): Grant | undefined {
  if (element === '*') return 'direct';
  if (!element || typeof element !== 'object' || Array.isArray(element)) {
    fail(`${where}: expected Principal "*" or { AWS | Service | Federated: ... }, found ${show(element)}.`);
  }
  for (const type of Object.keys(element)) {
    if (!PRINCIPAL_TYPES.has(type)) {
      fail(`${where}: Principal type ${show(type)} is not supported by this evaluator (AWS, Service, Federated are).`);
    }
  }
  const values = (element as Record<string, unknown>)[caller.type];
  if (values === undefined) return undefined;
  const list = Array.isArray(values) ? (values as unknown[]) : [values];
  const grants = list.map((value) => principalValueGrant(value, caller, where));
  return best(grants.filter((grant): grant is Grant => grant !== undefined));
}

function best(grants: readonly Grant[]): Grant | undefined {
  return [...grants].sort((a, b) => GRANT_RANK[b] - GRANT_RANK[a])[0];
}

function principalValueGrant(value: unknown, caller: Principal, where: string): Grant | undefined {
  if (value === '*') return 'direct';
  if (typeof value !== 'string' || typeof caller.id !== 'string') {
    if (typeof value === 'string' || typeof caller.id === 'string') {
      fail(
        `${where}: cannot compare Principal value ${show(value)} with the requester id ${show(caller.id)}: ` +
          'one is a literal and the other an expression. Pass the requester id in the same form as the policy.',
      );
    }
    return deepEqual(value, caller.id) ? 'opaque' : undefined;
  }
  if (/[*?]/.test(value)) {
    fail(`${where}: Principal ${show(value)} has a wildcard; AWS does not allow wildcards in principal names or ARNs.`);
  }
  if (caller.type !== 'AWS') return value === caller.id ? 'direct' : undefined;
  return awsPrincipalGrant(value, caller, where);
}

const ACCOUNT_ID = /^\d{12}$/;
const ACCOUNT_ROOT = /^arn:[^:]+:iam::(\d{12}):root$/;
const ROLE_ARN = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;
const SESSION_ARN = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/;

function awsPrincipalGrant(value: string, caller: Principal, where: string): Grant | undefined {
  const account = ACCOUNT_ID.test(value) ? value : ACCOUNT_ROOT.exec(value)?.[1];
  if (account !== undefined) {
    const callerAccount = accountOf(caller);
    if (callerAccount === undefined) {
      fail(
        `${where}: Principal names account ${account}, but the requester's account is unknown: set principal.account.`,
      );
    }
    return callerAccount === account ? 'account' : undefined;
  }
  const id = caller.id as string;
  if (ROLE_ARN.test(value)) return id === value || isSessionOf(id, value) ? 'role' : undefined;
  return id === value ? 'direct' : undefined;
}

/** `arn:aws:sts::A:assumed-role/NAME/SESSION` is a session of `arn:aws:iam::A:role/PATH/NAME` (sessions drop the path). */
function isSessionOf(callerId: string, roleArn: string): boolean {
  const session = SESSION_ARN.exec(callerId);
  const role = ROLE_ARN.exec(roleArn);
  return !!session && !!role && session[1] === role[1] && session[2] === role[2] && session[3] === role[3];
}

function accountOf(principal: Principal): string | undefined {
  if (principal.account !== undefined) return principal.account;
  if (typeof principal.id !== 'string') return undefined;
  if (ACCOUNT_ID.test(principal.id)) return principal.id;
  const account = splitArn(principal.id)?.[4];
  return account === '' ? undefined : account;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return (
    keysA.length === keysB.length &&
    keysA.every(
      (key) =>
        Object.hasOwn(b, key) && deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
    )
  );
}

// ---------------------------------------------------------------------------------------------
// Condition operators [operators], [multivalued], [condition]

interface BaseOperator {
  /** True for the negated operators, which a missing key satisfies and whose values combine as NOR. */
  readonly negated: boolean;
  /** Whether a policy value may hold policy variables [variables]. */
  readonly variables: boolean;
  /** Checks a policy value (before substitution) when the policy is read. */
  readonly checkValue?: (value: string, where: string) => void;
  /** Whether one request value matches one (substituted) policy value; the negation is applied by the caller. */
  readonly matches: (expected: readonly Piece[], actual: string, where: string) => boolean;
}

const stringEquals = (expected: readonly Piece[], actual: string): boolean => joined(expected) === actual;
const stringEqualsIgnoreCase = (expected: readonly Piece[], actual: string): boolean =>
  joined(expected).toLowerCase() === actual.toLowerCase();
const stringLike = (expected: readonly Piece[], actual: string, where: string): boolean =>
  toRegExp(expected, false, where).test(actual);

const BOOLEAN = /^(true|false)$/i;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function checkBoolean(value: string, where: string): void {
  if (!BOOLEAN.test(value)) fail(`${where}: expected "true" or "false", found ${show(value)}.`);
}

function checkNumber(value: string, where: string): void {
  if (!NUMBER.test(value.trim())) fail(`${where}: expected a number, found ${show(value)}.`);
}

function boolMatches(expected: readonly Piece[], actual: string, where: string): boolean {
  if (!BOOLEAN.test(actual)) {
    fail(`${where}: Bool compares with "true" or "false", but the request context holds ${show(actual)}.`);
  }
  return joined(expected).toLowerCase() === actual.toLowerCase();
}

function numeric(compare: (actual: number, expected: number) => boolean) {
  return (expected: readonly Piece[], actual: string, where: string): boolean => {
    if (!NUMBER.test(actual.trim())) {
      fail(`${where}: a Numeric operator needs a number in the request context, found ${show(actual)}.`);
    }
    return compare(Number(actual), Number(joined(expected)));
  };
}

const arnLike = (expected: readonly Piece[], actual: string, where: string): boolean =>
  arnMatches(expected, actual, where);

const OPERATORS: Readonly<Record<string, BaseOperator>> = {
  StringEquals: { negated: false, variables: true, matches: stringEquals },
  StringNotEquals: { negated: true, variables: true, matches: stringEquals },
  StringEqualsIgnoreCase: { negated: false, variables: true, matches: stringEqualsIgnoreCase },
  StringNotEqualsIgnoreCase: { negated: true, variables: true, matches: stringEqualsIgnoreCase },
  StringLike: { negated: false, variables: true, matches: stringLike },
  StringNotLike: { negated: true, variables: true, matches: stringLike },
  // "ArnEquals and ArnLike ... behave identically", as do their negations [operators].
  ArnEquals: { negated: false, variables: true, matches: arnLike },
  ArnLike: { negated: false, variables: true, matches: arnLike },
  ArnNotEquals: { negated: true, variables: true, matches: arnLike },
  ArnNotLike: { negated: true, variables: true, matches: arnLike },
  // The operators page lists Bool as supporting variables while the variables page lists Boolean
  // among the operators that cannot use them: the doc disagrees, so a variable in Bool throws.
  Bool: { negated: false, variables: false, checkValue: checkBoolean, matches: boolMatches },
  NumericEquals: { negated: false, variables: false, checkValue: checkNumber, matches: numeric((a, e) => a === e) },
  NumericNotEquals: { negated: true, variables: false, checkValue: checkNumber, matches: numeric((a, e) => a === e) },
  NumericLessThan: { negated: false, variables: false, checkValue: checkNumber, matches: numeric((a, e) => a < e) },
  NumericLessThanEquals: {
    negated: false,
    variables: false,
    checkValue: checkNumber,
    matches: numeric((a, e) => a <= e),
  },
  NumericGreaterThan: { negated: false, variables: false, checkValue: checkNumber, matches: numeric((a, e) => a > e) },
  NumericGreaterThanEquals: {
    negated: false,
    variables: false,
    checkValue: checkNumber,
    matches: numeric((a, e) => a >= e),
  },
};

/** IAM operators this evaluator does not implement: named so the error says "unsupported", not "unknown". */
const UNSUPPORTED_OPERATORS = new Set([
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'IpAddress',
  'NotIpAddress',
  'BinaryEquals',
]);

type SetOperator = 'ForAnyValue' | 'ForAllValues';

interface Operator {
  readonly name: string;
  readonly set?: SetOperator;
  readonly ifExists: boolean;
  /** `undefined` for Null, which tests presence only. */
  readonly base?: BaseOperator;
}

function parseOperator(name: string, where: string): Operator {
  const set = /^(ForAnyValue|ForAllValues):/.exec(name)?.[1] as SetOperator | undefined;
  let baseName = set === undefined ? name : name.slice(set.length + 1);
  const ifExists = baseName.endsWith('IfExists');
  if (ifExists) baseName = baseName.slice(0, -'IfExists'.length);
  if (baseName === 'Null') {
    if (ifExists || set !== undefined) fail(`${where}: ${name} is not valid: Null takes no IfExists or set operator.`);
    return { name, ifExists: false };
  }
  const base = OPERATORS[baseName];
  if (base !== undefined) return { name, ifExists, base, ...(set === undefined ? {} : { set }) };
  if (UNSUPPORTED_OPERATORS.has(baseName)) {
    fail(`${where}: condition operator ${name} is not supported by this evaluator (it would have to guess).`);
  }
  return fail(
    `${where}: ${show(name)} is not an IAM condition operator. Expected one of ` +
      `${[...Object.keys(OPERATORS), 'Null'].join(', ')}, optionally with IfExists and ForAnyValue:/ForAllValues:.`,
  );
}

function checkConditionBlock(block: Statement['Condition'], where: string): void {
  if (block === undefined) return;
  if (!block || typeof block !== 'object' || Array.isArray(block)) {
    fail(`${where}: expected Condition as { operator: { key: value } }, found ${show(block)}.`);
  }
  for (const [name, entries] of Object.entries(block)) {
    const operator = parseOperator(name, where);
    if (!entries || typeof entries !== 'object' || Array.isArray(entries)) {
      fail(`${where}: expected ${name} to map condition keys to values, found ${show(entries)}.`);
    }
    checkKeysOnce(Object.keys(entries), `${where} ${name}`);
    for (const [key, value] of Object.entries(entries))
      checkConditionValues(operator, stringList(value, `${where} ${name} ${key}`), `${where} ${name} ${key}`);
  }
}

function checkConditionValues(operator: Operator, values: readonly string[], where: string): void {
  for (const value of values) {
    if (operator.base === undefined) checkBoolean(value, where);
    else operator.base.checkValue?.(value, where);
    if (value.includes('${') && operator.base?.variables !== true) {
      fail(`${where}: ${operator.name} cannot use policy variables per the IAM User Guide; found ${show(value)}.`);
    }
  }
}

/** Condition keys are case-insensitive, so two spellings of one key would be ambiguous. */
function checkKeysOnce(keys: readonly string[], where: string): void {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.toLowerCase()))
      fail(`${where}: condition key ${show(key)} appears twice (keys are case-insensitive).`);
    seen.add(key.toLowerCase());
  }
}

function contextOf(request: AuthorizationRequest): Context {
  const context = new Map<string, readonly string[]>();
  for (const [key, value] of Object.entries(request.context ?? {})) {
    const lower = key.toLowerCase();
    if (context.has(lower)) fail(`The request context has ${show(key)} twice (condition keys are case-insensitive).`);
    if (value === undefined) continue;
    const values = typeof value === 'string' ? [value] : [...value];
    if (!values.every((item) => typeof item === 'string')) {
      fail(`The request context key ${show(key)} must hold a string or strings, found ${show(value)}.`);
    }
    if (values.length > 0) context.set(lower, values);
  }
  return context;
}

/** Every operator block ANDs, every key in a block ANDs; all are evaluated so an unevaluable one always throws. */
function conditionsHold(statement: Statement, context: Context, variables: boolean, where: string): boolean {
  const results = Object.entries(statement.Condition ?? {}).flatMap(([name, entries]) => {
    const operator = parseOperator(name, where);
    return Object.entries(entries).map(([key, value]) =>
      conditionHolds(operator, key, stringList(value, where), context, variables, `${where} ${name} ${key}`),
    );
  });
  return results.every(Boolean);
}

function conditionHolds(
  operator: Operator,
  key: string,
  values: readonly string[],
  context: Context,
  variables: boolean,
  where: string,
): boolean {
  const actual = context.get(key.toLowerCase());
  if (operator.base === undefined) return nullHolds(values, actual);
  if (actual === undefined) return missingKeyHolds(operator, operator.base);
  if (operator.set === undefined && actual.length > 1) {
    fail(
      `${where}: ${operator.name} is single-valued but the request context holds ${actual.length} values ` +
        `(${show(actual)}); AWS requires ForAnyValue: or ForAllValues: for a multivalued key.`,
    );
  }
  // "The ForAllValues qualifier returns true if ... the context key value resolves to a null dataset,
  // such as an empty string" [operators].
  if (operator.set === 'ForAllValues' && actual.length === 1 && actual[0] === '') return true;
  const base = operator.base;
  const expected = values.map((value) => substitute(value, context, variables && base.variables, where));
  // Several values for one key: OR for a positive operator, NOR for a negated one [condition]. A
  // variable with no value is "effectively null": it equals nothing, so only a negated operator holds [variables].
  const passes = (value: string): boolean => {
    const matched = expected.some((pieces) => pieces !== undefined && base.matches(pieces, value, where));
    return base.negated ? !matched : matched;
  };
  if (operator.set === 'ForAllValues') return actual.every(passes);
  if (operator.set === 'ForAnyValue') return actual.some(passes);
  return passes(actual[0]!);
}

/**
 * A key missing from the request [operators], [multivalued]: `...IfExists` holds; `ForAllValues:`
 * holds (vacuously); `ForAnyValue:` does not; otherwise only a negated operator holds.
 */
function missingKeyHolds(operator: Operator, base: BaseOperator): boolean {
  if (operator.ifExists) return true;
  if (operator.set === 'ForAllValues') return true;
  if (operator.set === 'ForAnyValue') return false;
  return base.negated;
}

/** `Null: true` holds when the key is absent, `false` when present; several values OR. */
function nullHolds(values: readonly string[], actual: readonly string[] | undefined): boolean {
  return values.some((value) => (value.toLowerCase() === 'true') === (actual === undefined));
}

// ---------------------------------------------------------------------------------------------
// One policy

interface Assessment {
  readonly decision: Decision;
  /** The deciding statement: the first applicable Deny, else the first applicable Allow. */
  readonly statement?: string;
  readonly kind: PolicyKind;
  /** For a resource policy: each applicable Allow statement and how it names the requester. */
  readonly allows: readonly { readonly statement: string; readonly grant?: Grant }[];
}

function assess(policy: PolicyDocument, request: AuthorizationRequest): Assessment {
  const { statements, kind, variables } = check(policy);
  checkRequest(request);
  if (kind === 'resource' && request.principal === undefined) {
    fail('The policy is resource-based (its statements name a Principal): the request needs a principal.');
  }
  const context = contextOf(request);
  const denies: string[] = [];
  const allows: { statement: string; grant?: Grant }[] = [];
  statements.forEach((statement, index) => {
    const where = label(statement, index);
    if (!actionApplies(statement, request.action, where)) return;
    if (!resourceApplies(statement, request.resource, context, variables, where)) return;
    const grant =
      statement.Principal === undefined ? undefined : principalGrant(statement.Principal, request.principal!, where);
    if (statement.Principal !== undefined && grant === undefined) return;
    if (!conditionsHold(statement, context, variables, where)) return;
    if (statement.Effect === 'Deny') denies.push(where);
    else allows.push(grant === undefined ? { statement: where } : { statement: where, grant });
  });
  if (denies.length > 0) return { decision: 'ExplicitDeny', statement: denies[0], kind, allows };
  if (allows.length > 0) return { decision: 'Allow', statement: allows[0]!.statement, kind, allows };
  return { decision: 'ImplicitDeny', kind, allows };
}

// ---------------------------------------------------------------------------------------------
// Several policies, one account [deny-allow], [boundaries], [principal], [assume-role]

interface Verdict {
  readonly name: string;
  readonly assessment: Assessment;
}

interface Verdicts {
  readonly identity: readonly Verdict[];
  readonly boundary?: Verdict;
  readonly resource?: Verdict;
}

function gatherVerdicts(input: Parameters<typeof authorize>[0]): Verdicts {
  const { request } = input;
  const named = (policy: PolicyDocument, fallback: string, kind: PolicyKind): Verdict => {
    const name = policy.name ?? fallback;
    const assessment = assess(policy, request);
    if (assessment.kind !== kind) {
      fail(
        `${name}: expected ${kind === 'identity' ? 'an identity-based policy (no Principal)' : 'a resource-based policy (Principal in every statement)'}.`,
      );
    }
    return { name, assessment };
  };
  if (request.principal !== undefined && request.principal.type !== 'AWS') {
    if (input.identityPolicies.length > 0 || input.permissionsBoundary !== undefined) {
      fail(
        `A ${request.principal.type} principal has no identity policies or permissions boundary: ` +
          'pass only the resource policy for it.',
      );
    }
  }
  refuseCrossAccount(request);
  const resourceName = `the ${requiredResourcePolicy(request.action) ?? 'resource policy'}`;
  return {
    identity: input.identityPolicies.map((policy, index) => named(policy, `identity policy #${index + 1}`, 'identity')),
    ...(input.permissionsBoundary === undefined
      ? {}
      : { boundary: named(input.permissionsBoundary, 'the permissions boundary', 'identity') }),
    ...(input.resourcePolicy === undefined ? {} : { resource: named(input.resourcePolicy, resourceName, 'resource') }),
  };
}

/** Cross-account requests need both accounts to allow [policy-eval]: not modelled, so refused. */
function refuseCrossAccount(request: AuthorizationRequest): void {
  if (request.principal?.type !== 'AWS') return;
  const principalAccount = accountOf(request.principal);
  const resourceAccount = request.resource === '*' ? undefined : splitArn(request.resource)?.[4];
  if (principalAccount !== undefined && resourceAccount && principalAccount !== resourceAccount) {
    fail(
      `The principal is in account ${principalAccount} and the resource in ${resourceAccount}: cross-account ` +
        'evaluation (both accounts must allow) is not implemented here. Evaluate each side on its own.',
    );
  }
}

/**
 * "IAM role trust policies and KMS key policies are exceptions to this logic, because they must
 * explicitly allow access for principals" [deny-allow].
 */
function requiredResourcePolicy(action: string): 'trust policy' | 'key policy' | undefined {
  if (/^sts:AssumeRole(WithSAML|WithWebIdentity)?$/i.test(action)) return 'trust policy';
  if (/^kms:/i.test(action)) return 'key policy';
  return undefined;
}

function decide(verdicts: Verdicts, request: AuthorizationRequest): { decision: Decision; reason: string } {
  const subject = `${request.action} on ${request.resource}`;
  const all = [...verdicts.identity, verdicts.boundary, verdicts.resource].filter((v): v is Verdict => !!v);
  const denied = all.find((verdict) => verdict.assessment.decision === 'ExplicitDeny');
  if (denied) {
    return {
      decision: 'ExplicitDeny',
      reason: `${subject}: explicitly denied by statement ${denied.assessment.statement} of ${denied.name}`,
    };
  }
  const required = requiredResourcePolicy(request.action);
  if (required !== undefined && verdicts.resource === undefined) {
    fail(
      `${subject}: AWS requires the ${required} to allow this action even within one account, and none was ` +
        'given: pass it as resourcePolicy.',
    );
  }
  const allow = (why: string) => ({ decision: 'Allow' as const, reason: `${subject}: ${why}` });
  const deny = (why: string) => ({ decision: 'ImplicitDeny' as const, reason: `${subject}: ${why}` });
  const grant = resourceGrant(verdicts, subject);
  const resourceName = verdicts.resource?.name ?? 'the resource policy';
  const boundary = verdicts.boundary;
  const withinBoundary = boundaryAllows(verdicts);
  const identity = verdicts.identity.find((verdict) => verdict.assessment.decision === 'Allow');

  if (grant?.kind === 'direct') {
    return allow(
      `allowed by statement ${grant.statement} of ${resourceName}, which names the requester directly ` +
        '(not limited by identity policies or a permissions boundary)',
    );
  }
  if (grant?.kind === 'role' && withinBoundary) {
    return allow(
      `allowed by statement ${grant.statement} of ${resourceName}, which names the role` +
        (boundary ? `, within ${boundary.name}` : ''),
    );
  }
  if (required !== undefined && grant === undefined) {
    return deny(`no statement of ${resourceName} allows this principal, and AWS requires the ${required} to allow it`);
  }
  const viaAccount =
    grant?.kind === 'account'
      ? `; statement ${grant.statement} of ${resourceName} trusts the account, which delegates to its identity policies`
      : '';
  if (identity && withinBoundary) {
    return allow(
      `allowed by statement ${identity.assessment.statement} of ${identity.name}` +
        (boundary ? ` within ${boundary.name}` : '') +
        (grant ? ` and by statement ${grant.statement} of ${resourceName}` : ''),
    );
  }
  if (grant?.kind === 'role') {
    return deny(
      `statement ${grant.statement} of ${resourceName} names the role, and AWS limits such a grant by ` +
        `the permissions boundary, which does not allow it`,
    );
  }
  if (identity) {
    return deny(
      `statement ${identity.assessment.statement} of ${identity.name} allows it but ${boundary!.name} does not ` +
        `(a boundary grants nothing; it only caps identity policies)${viaAccount}`,
    );
  }
  const resourceNote = verdicts.resource && grant === undefined ? `, nor does any statement of ${resourceName}` : '';
  return deny(`no statement of the identity policies allows it${resourceNote}${viaAccount}`);
}

/**
 * The strongest way the resource policy's applicable Allow statements name the requester, or
 * `undefined` when none allows. An expression-valued principal (kind unknown) throws unless a
 * direct grant settles the request anyway.
 */
function resourceGrant(verdicts: Verdicts, subject: string): { kind: Grant; statement: string } | undefined {
  const resource = verdicts.resource;
  if (resource === undefined || resource.assessment.decision !== 'Allow') return undefined;
  const ranked = resource.assessment.allows
    .filter((allow): allow is { statement: string; grant: Grant } => allow.grant !== undefined)
    .sort((a, b) => GRANT_RANK[b.grant] - GRANT_RANK[a.grant]);
  const top = ranked[0];
  if (top === undefined) return undefined;
  const opaque = ranked.find((allow) => allow.grant === 'opaque');
  if (opaque && top.grant !== 'direct') {
    fail(
      `${subject}: statement ${opaque.statement} of ${resource.name} names the requester by an expression, so ` +
        'whether it names a user, a role, a session or an account is unknown. Pass the resolved ARN.',
    );
  }
  return { kind: top.grant, statement: top.statement };
}

function boundaryAllows(verdicts: Verdicts): boolean {
  return verdicts.boundary === undefined || verdicts.boundary.assessment.decision === 'Allow';
}
