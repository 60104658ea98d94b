import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { jest } from '@jest/globals';
import {
  BUILTIN_SERVER_HEADER,
  NGINX_INSTALL_COMMAND,
  findNginx,
  nginxAvailability,
  startNginx,
  type LocalNginx,
  type NginxOptions,
} from './helpers/nginx.js';
import { isPortClosed } from './helpers/ports.js';

const BIG = randomBytes(2 * 1024 * 1024);
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
/** A machine without nginx, without touching this one: nowhere to find it, no install. */
const NO_NGINX = { candidates: ['/nonexistent/sbin/nginx'], install: false } as const;

/** A raw request (fetch would normalise `..` away and cannot show a HEAD's missing body). */
function get(
  target: LocalNginx,
  path: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: target.port, path, method, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs `action` (awaited) with REQUIRE_REAL_NGINX set to `value` or unset, then restores it. */
async function withRequireReal<T>(value: string | undefined, action: () => T | Promise<T>): Promise<T> {
  const saved = process.env.REQUIRE_REAL_NGINX;
  if (value === undefined) delete process.env.REQUIRE_REAL_NGINX;
  else process.env.REQUIRE_REAL_NGINX = value;
  try {
    return await action();
  } finally {
    if (saved === undefined) delete process.env.REQUIRE_REAL_NGINX;
    else process.env.REQUIRE_REAL_NGINX = saved;
  }
}

// First: the notice is once per module instance, and the default target below may print it.
describe('without nginx', () => {
  it('falls back to the built-in target, with one notice saying how to get nginx', async () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const targets: LocalNginx[] = [];
    try {
      await withRequireReal(undefined, async () => {
        targets.push(await startNginx({}, NO_NGINX), await startNginx({}, NO_NGINX));
      });
      expect(targets.map((t) => t.kind)).toEqual(['builtin', 'builtin']);
      expect((await get(targets[0]!, '/')).status).toBe(200);
      const notices = stderr.mock.calls.map(([text]) => String(text)).filter((text) => text.startsWith('notice:'));
      expect(notices).toHaveLength(1);
      expect(notices[0]).toContain('nginx is not installed (looked for /nonexistent/sbin/nginx)');
      expect(notices[0]).toContain('A built-in HTTP target');
      expect(notices[0]).toContain(`run as root: ${NGINX_INSTALL_COMMAND}`);
    } finally {
      stderr.mockRestore();
      for (const target of targets) await target.stop();
    }
  });

  it('with REQUIRE_REAL_NGINX=1, refuses with the install command instead', async () => {
    await withRequireReal('1', async () => {
      await expect(startNginx({}, NO_NGINX)).rejects.toThrow(
        `Install it as root with: ${NGINX_INSTALL_COMMAND} (REQUIRE_REAL_NGINX=1 is set`,
      );
      expect(() => nginxAvailability(NO_NGINX)).toThrow(NGINX_INSTALL_COMMAND);
    });
  });

  it('reports the fallback and why from nginxAvailability, and findNginx still throws', async () => {
    const availability = await withRequireReal(undefined, () => nginxAvailability(NO_NGINX));
    expect(availability).toEqual({
      kind: 'builtin',
      reason: 'nginx is not installed (looked for /nonexistent/sbin/nginx) and installing it is turned off',
    });
    expect(() => findNginx(NO_NGINX)).toThrow(/nginx is not installed[\s\S]*apt-get install -y nginx-light/);
  });

  it('stops: the port is released', async () => {
    const target = await startNginx({}, { prefer: 'builtin' });
    await get(target, '/');
    await target.stop();
    expect(await isPortClosed(target.port)).toBe(true);
  });
});

// The same contract for both targets: what the forwarding tests and the rehearsal rely on. The
// default target is real nginx where it is installed (or installable as root with apt-get), which
// CI guarantees with REQUIRE_REAL_NGINX=1.
describe.each<[string, NginxOptions]>([
  ['the built-in target', { prefer: 'builtin' }],
  ['the default target', {}],
])('%s', (_name, options) => {
  let target: LocalNginx;
  beforeAll(async () => {
    target = await startNginx({ 'big.bin': BIG, 'hello.html': '<p>hello</p>\n' }, options);
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('is the kind asked for (real nginx in CI)', () => {
    if (options.prefer === 'builtin') expect(target.kind).toBe('builtin');
    if (process.env.REQUIRE_REAL_NGINX === '1' && options.prefer !== 'builtin') expect(target.kind).toBe('nginx');
    expect(target.url).toBe(`http://127.0.0.1:${target.port}`);
  });

  it('serves the welcome page on / and /index.html with 200', async () => {
    for (const path of ['/', '/index.html']) {
      const response = await get(target, path);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.body.toString()).toContain('<title>Welcome to nginx!</title>');
      expect(Number(response.headers['content-length'])).toBe(response.body.length);
    }
    const server = (await get(target, '/')).headers.server;
    expect(server).toMatch(target.kind === 'builtin' ? new RegExp(`^${BUILTIN_SERVER_HEADER}$`) : /^nginx/);
  });

  it('serves a given file with its exact bytes and Content-Length', async () => {
    const response = await get(target, '/big.bin');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(response.headers['content-length']).toBe(String(BIG.length));
    expect(sha256(response.body)).toBe(sha256(BIG));
    expect((await get(target, '/hello.html')).body.toString()).toBe('<p>hello</p>\n');
  });

  it('answers HEAD with the headers and no body', async () => {
    const response = await get(target, '/big.bin', 'HEAD');
    expect(response.status).toBe(200);
    expect(response.headers['content-length']).toBe(String(BIG.length));
    expect(response.body.length).toBe(0);
  });

  it('answers 404 for a missing file and for a path out of the web root', async () => {
    expect((await get(target, '/missing.bin')).status).toBe(404);
    expect((await get(target, '/missing.bin', 'HEAD')).status).toBe(404);
    expect([400, 404]).toContain((await get(target, '/../../../../etc/passwd')).status);
    expect([400, 404]).toContain((await get(target, '/%2e%2e/%2e%2e/%2e%2e/etc/passwd')).status);
  });
});
