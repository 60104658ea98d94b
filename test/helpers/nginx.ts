/**
 * The local HTTP target of the tests, the rehearsal and the benchmark: the stand-in for the
 * service's Nginx behind the SSM emulator.
 *
 * Real nginx from Debian when it is installed. When it is missing and this process is root on a
 * machine with apt-get, Debian's `nginx-light` is installed (once, under a lock shared by the jest
 * workers). Otherwise a small built-in Node HTTP server serves the same files, with a notice, so
 * that `npm test` and `npm run rehearse` work on a fresh machine; REQUIRE_REAL_NGINX=1 (set by
 * .ci/run) turns that fallback off so CI always tests against the real nginx.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  createReadStream,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, extname, join, resolve, sep } from 'node:path';
import { freePort, stopProcess, waitFor } from './ports.js';

/** Where Debian puts nginx; /usr/sbin is not on every PATH. */
const NGINX_CANDIDATES: readonly string[] = ['nginx', '/usr/sbin/nginx'];

/** What a person runs to get the real nginx (as root, hence no sudo: sudo is not on every machine). */
export const NGINX_INSTALL_COMMAND = 'apt-get install -y nginx-light';

/** The `Server` header of the built-in target, so a test or a curl shows which target answered. */
export const BUILTIN_SERVER_HEADER = 'builtin-http-target';

const WELCOME_PAGE =
  '<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n' +
  '<p>If you see this page, the nginx web server is successfully installed and working.</p>\n</body>\n</html>\n';

export interface LocalNginx {
  /** `nginx`: Debian's nginx; `builtin`: the Node stand-in used when nginx is missing. */
  readonly kind: 'nginx' | 'builtin';
  readonly port: number;
  readonly url: string;
  /** The web root: index.html and the files given, served as /<name>. */
  readonly root: string;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** `builtin` skips nginx and serves with the built-in target; `nginx` (the default) prefers nginx. */
  readonly prefer?: 'nginx' | 'builtin';
  /** Where to look for the nginx binary (tests pass a missing path to simulate a machine without it). */
  readonly candidates?: readonly string[];
  /** Whether a missing nginx may be installed with apt-get when running as root; default true. */
  readonly install?: boolean;
}

/** What startNginx will serve with: real nginx, or the built-in target and why. */
export type NginxAvailability =
  { readonly kind: 'nginx'; readonly binary: string } | { readonly kind: 'builtin'; readonly reason: string };

/** nginx is missing and could not be installed; `summary` says what was looked for and why. */
export class NginxMissingError extends Error {
  constructor(readonly summary: string) {
    super(
      `${summary}: the local HTTP target needs Debian's nginx. Install it as root with: ${NGINX_INSTALL_COMMAND}` +
        (realNginxRequired() ? ' (REQUIRE_REAL_NGINX=1 is set, so the built-in stand-in is off).' : '.'),
    );
    this.name = 'NginxMissingError';
  }
}

/** REQUIRE_REAL_NGINX=1: no built-in stand-in, a missing nginx is an error (CI sets it). */
export function realNginxRequired(): boolean {
  return process.env.REQUIRE_REAL_NGINX === '1';
}

/**
 * The nginx binary. When nginx is missing, installs Debian's nginx-light first if this process is
 * root with apt-get (see `installNginx`); throws with the install command when there is still none.
 */
export function findNginx(options: Pick<NginxOptions, 'candidates' | 'install'> = {}): string {
  const candidates = options.candidates ?? NGINX_CANDIDATES;
  const found = locateNginx(candidates);
  if (found) return found;
  const why = options.install === false ? 'installing it is turned off' : installNginx(candidates);
  const installed = locateNginx(candidates);
  if (installed) return installed;
  throw new NginxMissingError(
    `nginx is not installed (looked for ${candidates.join(', ')}) and ${why ?? 'the install did not provide it'}`,
  );
}

/**
 * Whether startNginx will run real nginx or the built-in target, installing nginx first when it can
 * (as findNginx). Throws only when nginx is missing and REQUIRE_REAL_NGINX=1: a preflight check.
 */
export function nginxAvailability(options: Pick<NginxOptions, 'candidates' | 'install'> = {}): NginxAvailability {
  try {
    return { kind: 'nginx', binary: findNginx(options) };
  } catch (error) {
    if (realNginxRequired() || !(error instanceof NginxMissingError)) throw error;
    return { kind: 'builtin', reason: error.summary };
  }
}

/**
 * A local HTTP target on a free loopback port serving the stock nginx welcome page as / and
 * /index.html, plus any `files` as /<name>: real nginx when available (see nginxAvailability),
 * else the built-in target with a one-time notice on stderr.
 */
export async function startNginx(
  files: Record<string, string | Buffer> = {},
  options: NginxOptions = {},
): Promise<LocalNginx> {
  if (options.prefer === 'builtin') return startBuiltinTarget(files);
  const availability = nginxAvailability(options);
  if (availability.kind === 'nginx') return startRealNginx(availability.binary, files);
  noticeFallback(availability.reason);
  return startBuiltinTarget(files);
}

// ---------------------------------------------------------------------------------------------
// Finding and installing nginx

function locateNginx(candidates: readonly string[]): string | undefined {
  return candidates.find((candidate) => {
    const probe = spawnSync(candidate, ['-v'], { stdio: 'ignore', timeout: 10_000 });
    return !probe.error && probe.status === 0;
  });
}

const INSTALL_TIMEOUT_MS = 5 * 60_000;
const INSTALL_LOCK = join(tmpdir(), 'private-aws-gitops-nginx-install.lock');
/** A failed install is not retried for this long, by any process: no network stays no network. */
const FAILURE_MARKER = join(tmpdir(), 'private-aws-gitops-nginx-install.failed');
const FAILURE_MEMORY_MS = 10 * 60_000;

/** This process's install attempt: at most one per process (undefined: not tried yet). */
let installOutcome: { readonly why?: string } | undefined;

/**
 * Installs Debian's nginx-light when this process is root with apt-get, at most once per process;
 * concurrent jest workers take turns through a lock file and look again once they hold it. Returns
 * why nginx is still missing, or undefined after a successful install.
 */
function installNginx(candidates: readonly string[]): string | undefined {
  if (process.getuid?.() !== 0) return 'this process is not root, so it cannot install it';
  if (!onPath('apt-get')) return 'apt-get is not on PATH, so it cannot be installed automatically';
  installOutcome ??= withInstallLock(() => {
    // Another worker may have installed it, or failed to, while this one waited for the lock.
    if (locateNginx(candidates)) return {};
    const failed = recentFailure();
    if (failed) return { why: `the automatic install failed in the last ten minutes, not retried yet (${failed})` };
    const why = runInstall();
    if (why) writeFileSync(FAILURE_MARKER, why);
    return why ? { why: `the automatic install failed (${why})` } : {};
  });
  return installOutcome.why;
}

/** apt-get update and install, then the system nginx the package starts is stopped. */
function runInstall(): string | undefined {
  process.stderr.write(
    `nginx is missing: installing Debian's nginx-light as root for the local HTTP target of the tests and the rehearsal ` +
      `(DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx-light), ` +
      `then stopping the system nginx the package starts, since the tests run their own on loopback.\n`,
  );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', 'nginx-light'],
  ]) {
    const run = spawnSync('apt-get', args, { env, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS });
    if (run.error || run.status !== 0) {
      const detail = run.error?.message ?? (run.stderr || run.stdout).trim().split('\n').slice(-3).join(' ');
      return `apt-get ${args[0]} exited ${run.status ?? run.signal}: ${detail}`;
    }
  }
  // -u root: the tests' own nginx runs as nobody (see startRealNginx) and must survive this.
  spawnSync('sh', ['-c', 'systemctl stop nginx || service nginx stop || pkill -x -u root nginx'], {
    stdio: 'ignore',
    timeout: 30_000,
  });
  return undefined;
}

function recentFailure(): string | undefined {
  try {
    if (Date.now() - statSync(FAILURE_MARKER).mtimeMs > FAILURE_MEMORY_MS) return undefined;
    return readFileSync(FAILURE_MARKER, 'utf8');
  } catch {
    return undefined;
  }
}

/** Runs `action` holding an exclusive lock file (its content: the holder's pid). */
function withInstallLock<T>(action: () => T): T {
  const deadline = Date.now() + 2 * INSTALL_TIMEOUT_MS + 60_000;
  for (;;) {
    try {
      const fd = openSync(INSTALL_LOCK, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (lockIsStale()) rmSync(INSTALL_LOCK, { force: true });
      else if (Date.now() > deadline)
        throw new Error(
          `Timed out waiting for ${INSTALL_LOCK}, held by another process installing nginx: remove it if no such process runs`,
          { cause: error },
        );
      else sleepSync(500);
    }
  }
  try {
    return action();
  } finally {
    rmSync(INSTALL_LOCK, { force: true });
  }
}

/** The lock's holder has exited (a killed test run must not block the next one). */
function lockIsStale(): boolean {
  try {
    const pid = Number(readFileSync(INSTALL_LOCK, 'utf8'));
    // An empty file is a holder between open and write: stale only if it stays empty.
    if (!pid) return Date.now() - statSync(INSTALL_LOCK).mtimeMs > 5_000;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'EPERM';
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

let noticed = false;

function noticeFallback(reason: string): void {
  if (noticed) return;
  noticed = true;
  process.stderr.write(
    `notice: ${reason}. A built-in HTTP target (Node's http server, "Server: ${BUILTIN_SERVER_HEADER}") stands in ` +
      `for nginx and serves the same files. For the real nginx, run as root: ${NGINX_INSTALL_COMMAND} ` +
      `(REQUIRE_REAL_NGINX=1 makes a missing nginx an error instead).\n`,
  );
}

// ---------------------------------------------------------------------------------------------
// The two targets

/** A temp prefix with html/ holding the welcome page and `files`: the web root of both targets. */
function makeWebRoot(prefixName: string, files: Record<string, string | Buffer>): { prefix: string; root: string } {
  const prefix = mkdtempSync(join(tmpdir(), prefixName));
  const root = join(prefix, 'html');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'index.html'), WELCOME_PAGE);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(root, name), content);
  return { prefix, root };
}

/**
 * Debian's nginx on a free loopback port, unprivileged and in the foreground, from a temp prefix
 * (as root it runs as nobody).
 */
async function startRealNginx(binary: string, files: Record<string, string | Buffer>): Promise<LocalNginx> {
  const port = await freePort();
  const { prefix, root } = makeWebRoot('nginx-', files);
  for (const dir of ['logs', 'run', 'tmp']) mkdirSync(join(prefix, dir), { recursive: true });
  const asRoot = process.getuid?.() === 0;
  writeFileSync(
    join(prefix, 'nginx.conf'),
    [
      'daemon off;',
      'worker_processes 1;',
      'pid run/nginx.pid;',
      'error_log stderr warn;',
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      '  default_type application/octet-stream;',
      '  types { text/html html; }',
      '  sendfile on;',
      '  client_body_temp_path tmp/body;',
      '  proxy_temp_path tmp/proxy;',
      '  fastcgi_temp_path tmp/fastcgi;',
      '  uwsgi_temp_path tmp/uwsgi;',
      '  scgi_temp_path tmp/scgi;',
      '  server {',
      `    listen 127.0.0.1:${port};`,
      `    root ${root};`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  if (asRoot) {
    // nobody must be able to read the prefix and write its temp and run folders.
    for (const dir of [prefix, root, join(prefix, 'logs'), join(prefix, 'run'), join(prefix, 'tmp')])
      chmodSync(dir, 0o777);
  }
  // As root, nginx itself is the child, running as nobody (not under runuser: runuser waits 2 s
  // after forwarding a SIGTERM, and a stop that gives up and kills it would orphan nginx on its port).
  const child: ChildProcess = spawn(binary, ['-p', `${prefix}/`, '-c', 'nginx.conf', '-e', 'stderr'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(asRoot ? nobody() : {}),
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`nginx on ${url}`, async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}`);
      return (await fetch(url)).ok;
    });
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(prefix, { recursive: true, force: true });
    throw error;
  }
  return {
    kind: 'nginx',
    port,
    url,
    root,
    async stop() {
      await stopProcess(child, exited);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/** The uid and gid of the user `nobody` (and its primary group), from the passwd database. */
function nobody(): { uid: number; gid: number } {
  const entry = spawnSync('getent', ['passwd', 'nobody'], { encoding: 'utf8' }).stdout.trim().split(':');
  const [uid, gid] = [Number(entry[2]), Number(entry[3])];
  if (!Number.isInteger(uid) || !Number.isInteger(gid))
    throw new Error(`Expected a passwd entry for the user nobody to run nginx as, found "${entry.join(':')}"`);
  return { uid, gid };
}

/**
 * The stand-in: Node's http server on 127.0.0.1 serving the web root as the nginx configuration
 * above does (GET and HEAD, Content-Length, text/html for .html, else application/octet-stream).
 */
async function startBuiltinTarget(files: Record<string, string | Buffer>): Promise<LocalNginx> {
  const { prefix, root } = makeWebRoot('http-target-', files);
  const server = createServer((request, response) => serveFile(root, request, response));
  // Port 0 and the port the server got: no window for another process to take a "free" port.
  const port = await new Promise<number>((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolvePort((server.address() as { port: number }).port));
  });
  return {
    kind: 'builtin',
    port,
    url: `http://127.0.0.1:${port}`,
    root,
    async stop() {
      await closeServer(server);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

function serveFile(root: string, request: IncomingMessage, response: ServerResponse): void {
  response.setHeader('Server', BUILTIN_SERVER_HEADER);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return sendStatus(response, 405, 'Method Not Allowed', request.method === 'HEAD');
  }
  const file = fileFor(root, request.url ?? '/');
  const stats = file ? statOrUndefined(file) : undefined;
  if (!file || !stats?.isFile()) return sendStatus(response, 404, 'Not Found', request.method === 'HEAD');
  response.writeHead(200, {
    'Content-Type': extname(file) === '.html' ? 'text/html' : 'application/octet-stream',
    'Content-Length': stats.size,
    'Last-Modified': stats.mtime.toUTCString(),
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file)
    .on('error', () => response.destroy())
    .pipe(response);
}

/** The file under `root` a request path names (`/` → index.html), or undefined outside the root. */
function fileFor(root: string, url: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(new URL(url, 'http://target').pathname);
  } catch {
    return undefined;
  }
  const file = resolve(root, `.${path.endsWith('/') ? `${path}index.html` : path}`);
  return file.startsWith(`${root}${sep}`) ? file : undefined;
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/** An error page like nginx's, with its Content-Length (no body for HEAD). */
function sendStatus(response: ServerResponse, status: number, text: string, head: boolean): void {
  const body = `<html>\r\n<head><title>${status} ${text}</title></head>\r\n<body>\r\n<center><h1>${status} ${text}</h1></center>\r\n</body>\r\n</html>\r\n`;
  response.writeHead(status, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(body) });
  response.end(head ? undefined : body);
}

/** Stops listening and ends kept-alive connections, which would otherwise hold close() open. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    server.close(() => resolveClose());
    server.closeAllConnections();
  });
}
