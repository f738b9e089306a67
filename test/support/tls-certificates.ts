import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertificateFiles {
  cert: string;
  key: string;
}

/** Paths of PEM files made with openssl for one test run; remove() deletes them. */
export interface TestCertificates {
  dir: string;
  /** The CA that signed every certificate below. */
  ca: string;
  /** A CA that signed none of them. */
  otherCa: string;
  /** For 127.0.0.1 and localhost (servers use it as their client certificate too, for replication). */
  server: CertificateFiles;
  /** For the name redis.internal only: reached at 127.0.0.1, it verifies only with that name given. */
  namedServer: CertificateFiles;
  /** A client certificate, for servers that require mutual TLS. */
  client: CertificateFiles;
  remove(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A private CA and certificates signed by it, in a temporary directory (P-256 keys: quick to make). */
export async function createTestCertificates(): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), 'cloakroom-tls-'));
  const at = (name: string) => join(dir, name);
  const selfSigned = (name: string, subject: string) =>
    run('openssl', [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      at(`${name}.key`),
      '-out',
      at(`${name}.crt`),
      '-days',
      '2',
      '-subj',
      subject,
    ]);
  let serial = 1;
  const signed = async (name: string, subject: string, extensions: string[]): Promise<CertificateFiles> => {
    writeFileSync(at(`${name}.ext`), `${extensions.join('\n')}\n`);
    await run('openssl', [
      'req',
      ...EC,
      '-keyout',
      at(`${name}.key`),
      '-out',
      at(`${name}.csr`),
      '-subj',
      subject,
    ]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      at(`${name}.csr`),
      '-CA',
      at('ca.crt'),
      '-CAkey',
      at('ca.key'),
      '-set_serial',
      String(++serial),
      '-days',
      '2',
      '-out',
      at(`${name}.crt`),
      '-extfile',
      at(`${name}.ext`),
    ]);
    return { cert: at(`${name}.crt`), key: at(`${name}.key`) };
  };
  try {
    await Promise.all([selfSigned('ca', '/CN=Cloakroom test CA'), selfSigned('other-ca', '/CN=Another CA')]);
    const both = 'extendedKeyUsage=serverAuth,clientAuth';
    const [server, namedServer, client] = await Promise.all([
      signed('server', '/CN=redis', ['subjectAltName=IP:127.0.0.1,DNS:localhost', both]),
      signed('named-server', '/CN=redis.internal', ['subjectAltName=DNS:redis.internal', both]),
      signed('client', '/CN=cloakroom', ['extendedKeyUsage=clientAuth']),
    ]);
    return {
      dir,
      ca: at('ca.crt'),
      otherCa: at('other-ca.crt'),
      server,
      namedServer,
      client,
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
