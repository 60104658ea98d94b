import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopProcess, waitFor } from './ports.js';

/** Where Debian puts nginx; /usr/sbin is not on every PATH. */
const NGINX_CANDIDATES = ['nginx', '/usr/sbin/nginx'];

export interface LocalNginx {
  readonly port: number;
  readonly url: string;
  /** Files served from the web root (path → content). */
  readonly root: string;
  stop(): Promise<void>;
}

/** The nginx binary, or a clear error with the install command. */
export function findNginx(): string {
  for (const candidate of NGINX_CANDIDATES) {
    const probe = spawnSync(candidate, ['-v'], { encoding: 'utf8' });
    if (!probe.error && probe.status === 0) return candidate;
  }
  throw new Error(
    'nginx is not installed: the local target needs Debian nginx. Install it with: sudo apt-get install -y nginx-light',
  );
}

/**
 * A real nginx from Debian on a free loopback port, unprivileged and in the foreground, from a temp
 * prefix (as root it runs as nobody). Serves the stock welcome page plus any `files` given.
 */
export async function startNginx(files: Record<string, string | Buffer> = {}): Promise<LocalNginx> {
  const binary = findNginx();
  const port = await freePort();
  const prefix = mkdtempSync(join(tmpdir(), 'nginx-'));
  const root = join(prefix, 'html');
  for (const dir of ['logs', 'run', 'tmp', 'html']) mkdirSync(join(prefix, dir), { recursive: true });
  writeFileSync(
    join(root, 'index.html'),
    '<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n' +
      '<p>If you see this page, the nginx web server is successfully installed and working.</p>\n</body>\n</html>\n',
  );
  for (const [name, content] of Object.entries(files)) writeFileSync(join(root, name), content);
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
  const command = asRoot
    ? ['runuser', ['-u', 'nobody', '--', binary, '-p', `${prefix}/`, '-c', 'nginx.conf', '-e', 'stderr']]
    : [binary, ['-p', `${prefix}/`, '-c', 'nginx.conf', '-e', 'stderr']];
  const child: ChildProcess = spawn(command[0] as string, command[1] as string[], {
    stdio: ['ignore', 'ignore', 'pipe'],
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
    port,
    url,
    root,
    async stop() {
      await stopProcess(child, exited);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
