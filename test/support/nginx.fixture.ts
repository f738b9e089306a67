import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

export interface RunningNginx {
  /** The error log so far (rejections are logged there). */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Our own nginx (not the system's): `daemon off`, pid, logs and temp files in a temporary directory, one
 * server per `listen port → upstream URL`, all on 127.0.0.1. Header buffers stay at nginx's defaults
 * (`large_client_header_buffers 4 8k`): that default is what the test is about.
 */
export async function startNginx(servers: Array<{ port: number; upstream: string }>): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'cloakroom-nginx-'));
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
  const root = process.getuid?.() === 0;
  const conf = `
${root ? 'user root;' : ''}
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 512; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${servers
  .map(
    ({ port, upstream }) => `  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass ${upstream};
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }`,
  )
  .join('\n')}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(
    NGINX,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = () => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when every port answers.
  const deadline = Date.now() + 10_000;
  for (const { port } of servers) {
    for (;;) {
      if (child.exitCode !== null) {
        const log = errorLog();
        await stop();
        throw new Error(`nginx exited with ${child.exitCode}: ${stderr}${log}`);
      }
      try {
        await fetch(`http://127.0.0.1:${port}/healthz`);
        break;
      } catch {
        if (Date.now() > deadline) {
          await stop();
          throw new Error(`nginx did not listen on ${port}: ${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }
  return { errorLog, stop };
}
