import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestCertificates } from '../support/tls-certificates.js';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parse } from 'yaml';
import { ShutdownConfig, checkConfig } from '@cloakroom/config';
import { StoreConfig, storeConfigProblems } from '@cloakroom/sealed-store';
import {
  AuthorizationServerConfig,
  authorizationServerConfigProblems,
} from '../../apps/authorization-server/src/authorization-server.config.js';
import { readDirectory } from '../../apps/authorization-server/src/directory.js';
import { keyFileExposure } from '../../apps/authorization-server/src/keys/jwks.js';
import { DemoApiConfig, demoApiConfigProblems } from '../../apps/demo-api/src/demo-api.config.js';
import { loadGatewayConfig } from '../../apps/gateway/src/gateway.config.js';
import { admits, findKustomize, ingressPathMatches, parseObjects } from '../support/kubernetes.render.js';
import type { K8sObject, Peer } from '../support/kubernetes.render.js';

// Renders every overlay with the real kustomize (kubectl's), from secrets made by the documented script, then
// validates each object against the Kubernetes schemas (kubernetes-models) and checks the rules a platform team
// relies on. Nothing here talks to a cluster.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE = join(ROOT, 'deploy/kubernetes');
const OVERLAYS = readdirSync(join(SOURCE, 'overlays')).sort();
const NAMESPACE = 'cloakroom';
const APPS = ['authorization-server', 'gateway', 'orders-api'];
const SECRET_SETTINGS =
  /^(COOKIE_KEYS|STORE_PEPPER|GATEWAY_CLIENT_SECRET|INTROSPECTION_CLIENT_SECRET|REDIS_URL|REDIS_PASSWORD)$/;
const SCHEMAS: Record<string, { new (data: never): { validate(): void } }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

let work: string;
const rendered = new Map<string, K8sObject[]>();

beforeAll(async () => {
  const kustomize = findKustomize();
  if (!kustomize) {
    throw new Error(
      'rendering deploy/kubernetes needs kubectl 1.21 or later (or kustomize 4 or later) on the PATH; none was found',
    );
  }
  work = mkdtempSync(join(tmpdir(), 'cloakroom-kubernetes-'));
  // The manifests without whatever secrets this checkout holds: the script makes fresh ones.
  cpSync(SOURCE, join(work, 'kubernetes'), {
    recursive: true,
    filter: (path) => {
      const inside = relative(join(SOURCE, 'secrets'), path);
      return (
        inside.startsWith('..') ||
        inside === '' ||
        /(^|\/)(kustomization\.yaml|\.gitignore)$|^redis-tls$/.test(inside)
      );
    },
  });
  createSecrets();
  // A real CA certificate: the store's settings check reads the file as the pods would.
  const certificates = await createTestCertificates();
  copyFileSync(certificates.ca, join(work, 'kubernetes/secrets/redis-tls/ca.crt'));
  certificates.remove();
  for (const overlay of OVERLAYS) {
    rendered.set(overlay, parseObjects(kustomize(join(work, 'kubernetes/overlays', overlay))));
  }
}, 60_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function createSecrets(): string {
  return execFileSync('bash', [join(SOURCE, 'create-secrets.sh'), join(work, 'kubernetes/secrets')], {
    encoding: 'utf8',
    env: {
      ...process.env,
      REDIS_URL: 'rediss://cloakroom:redis-password@redis.example.internal:6380',
      REDIS_PASSWORD: 'redis-password',
      REDIS_USERNAME: 'cloakroom',
    },
  });
}

const objectsOf = (overlay: string) => rendered.get(overlay)!;
const find = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const deployment = (objects: K8sObject[], name: string) => find(objects, 'Deployment', name)!;
const appOf = (d: K8sObject) => d.spec.template.spec.containers[0];

/** A container's environment as the kubelet would give it, from the rendered Secrets and ConfigMaps. */
function environment(objects: K8sObject[], container: K8sObject): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = String(variable.value);
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) {
      const data = find(objects, 'Secret', ref.name)?.data?.[ref.key];
      if (data !== undefined) env[variable.name] = Buffer.from(data, 'base64').toString('utf8');
      else if (!ref.optional) throw new Error(`${variable.name}: Secret ${ref.name} has no key ${ref.key}`);
    }
  }
  return env;
}

/**
 * The container's environment with its volumes written under `root` (each key a file, with the volume's mode),
 * and every setting that names a file in a volume pointed there: what the app would read at start.
 */
function mounted(objects: K8sObject[], d: K8sObject, root: string): Record<string, string> {
  const container = appOf(d);
  const env = environment(objects, container);
  for (const mount of container.volumeMounts ?? []) {
    const volume = d.spec.template.spec.volumes.find((v: K8sObject) => v.name === mount.name);
    const source = volume.secret
      ? find(objects, 'Secret', volume.secret.secretName)
      : volume.configMap
        ? find(objects, 'ConfigMap', volume.configMap.name)
        : undefined;
    if (!source) continue;
    const dir = join(root, mount.mountPath);
    mkdirSync(dir, { recursive: true });
    for (const [key, value] of Object.entries<string>(source.data ?? {})) {
      const content = source.kind === 'Secret' ? Buffer.from(value, 'base64') : value;
      writeFileSync(join(dir, key), content);
      chmodSync(join(dir, key), (volume.secret ?? volume.configMap).defaultMode ?? 0o644);
    }
    for (const [name, value] of Object.entries(env)) {
      if (value.startsWith(`${mount.mountPath}/`)) env[name] = join(root, value);
    }
  }
  return env;
}

describe.each(OVERLAYS)('deploy/kubernetes/overlays/%s', (overlay) => {
  it('renders objects that validate against the Kubernetes schemas', () => {
    const objects = objectsOf(overlay);
    const kinds = objects.map((o) => `${o.apiVersion}/${o.kind}`);
    expect(kinds.filter((kind) => !SCHEMAS[kind])).toEqual([]);
    for (const object of objects) {
      // kustomize wraps long base64 values over lines, which the API server's decoder skips; the schema's
      // `byte` format does not, so the check sees them joined.
      const data = object.kind === 'Secret' ? Object.entries<string>(object.data ?? {}) : [];
      if (data.length > 0) object.data = Object.fromEntries(data.map(([k, v]) => [k, v.replace(/\n/g, '')]));
      expect(() =>
        new SCHEMAS[`${object.apiVersion}/${object.kind}`]!(object as never).validate(),
      ).not.toThrow();
      if (object.kind !== 'Namespace') expect(object.metadata.namespace).toBe(NAMESPACE);
    }
    expect(
      objects
        .filter((o) => o.kind === 'Deployment')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(APPS);
  });

  it('probes every container on its management port, and no Service exposes that port', () => {
    const objects = objectsOf(overlay);
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      const container = appOf(d);
      const env = environment(objects, container);
      const management = container.ports.find((p: K8sObject) => p.name === 'management');
      expect(management.containerPort).toBe(Number(env.MANAGEMENT_PORT));
      expect(env.MANAGEMENT_HOST).toBe('0.0.0.0');
      expect(management.containerPort).not.toBe(Number(env.PORT));
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'management' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'management' });
      expect(container.startupProbe.httpGet.port).toBe('management');
      expect(d.spec.template.metadata.annotations['prometheus.io/port']).toBe(
        String(management.containerPort),
      );

      const service = find(objects, 'Service', d.metadata.name)!;
      expect(service.spec.selector).toEqual(d.spec.selector.matchLabels);
      for (const port of service.spec.ports) {
        const target = container.ports.find(
          (p: K8sObject) => p.name === port.targetPort || p.containerPort === port.targetPort,
        );
        expect(target.containerPort).toBe(Number(env.PORT));
        expect(port.port).not.toBe(management.containerPort);
      }
    }
  });

  it('runs every pod non-root, read-only, unprivileged, with no capability and within limits', () => {
    const objects = objectsOf(overlay);
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      const pod = d.spec.template.spec;
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext.fsGroup).toBe(pod.securityContext.runAsGroup);
      for (const container of pod.containers) {
        expect(container.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          privileged: false,
        });
        expect(container.securityContext.capabilities.drop).toEqual(['ALL']);
        for (const kind of ['requests', 'limits']) {
          expect(Object.keys(container.resources[kind]).sort()).toEqual(['cpu', 'memory']);
        }
      }
    }
  });

  it('gives every app longer to stop than its drain takes', () => {
    const objects = objectsOf(overlay);
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      const container = appOf(d);
      const grace = Number(environment(objects, container).SHUTDOWN_GRACE_MS ?? 10_000);
      const pause = Number(container.lifecycle?.preStop?.exec?.command?.[1] ?? 0) * 1000;
      // The drain, the pause before it, and a few seconds for the store to close.
      expect(d.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(grace + pause + 5000);
    }
  });

  it('has a PodDisruptionBudget and a HorizontalPodAutoscaler for the gateway, which owns its replica count', () => {
    const objects = objectsOf(overlay);
    const gateway = deployment(objects, 'gateway');
    const labels = gateway.spec.template.metadata.labels;
    const pdb = objects.find(
      (o) =>
        o.kind === 'PodDisruptionBudget' &&
        Object.entries<string>(o.spec.selector.matchLabels).every(([k, v]) => labels[k] === v),
    );
    expect(pdb?.spec.minAvailable).toBeGreaterThanOrEqual(1);
    const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler')!;
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'gateway' });
    expect(hpa.spec.minReplicas).toBeGreaterThan(pdb!.spec.minAvailable);
    expect(gateway.spec.replicas).toBeUndefined();
  });

  it('takes every secret from a Secret generated from files, never from a value in the manifests', () => {
    const objects = objectsOf(overlay);
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      for (const variable of appOf(d).env) {
        if (SECRET_SETTINGS.test(variable.name)) {
          expect([variable.name, variable.value]).toEqual([variable.name, undefined]);
          expect(variable.valueFrom.secretKeyRef.name).toMatch(/^cloakroom-(secrets|redis)-[a-z0-9]{10}$/);
        }
      }
      for (const volume of d.spec.template.spec.volumes) {
        if (volume.secret) {
          expect(find(objects, 'Secret', volume.secret.secretName)).toBeDefined();
          // 0440, root-owned, group fsGroup: the process reads it through its group, which the JWKS check accepts.
          expect(volume.secret.defaultMode).toBe(0o440);
          const reader = { gid: d.spec.template.spec.securityContext.runAsGroup };
          const file = { mode: volume.secret.defaultMode, gid: d.spec.template.spec.securityContext.fsGroup };
          expect(keyFileExposure(file, reader)).toBeUndefined();
        }
      }
    }
  });

  it('sets everything production requires: each app accepts its settings and files as they would be mounted', async () => {
    const objects = objectsOf(overlay);
    const root = mkdtempSync(join(work, 'pod-'));
    const as = mounted(objects, deployment(objects, 'authorization-server'), join(root, 'as'));
    expect(as.NODE_ENV).toBe('production');
    const server = checkConfig(AuthorizationServerConfig, as, (c) =>
      authorizationServerConfigProblems(c, as),
    );
    const store = checkConfig(StoreConfig, as, (c) => storeConfigProblems(c, true, { pepperRequired: true }));
    const files = await readDirectory(server.config, as, true);
    expect([
      ...server.problems,
      ...store.problems,
      ...checkConfig(ShutdownConfig, as).problems,
      ...files.problems,
    ]).toEqual([]);
    expect(store.config.backend).toBe('redis');
    expect(files.directory!.keys).toMatchObject({ generated: false, warnings: [] });

    const gateway = mounted(objects, deployment(objects, 'gateway'), join(root, 'gateway'));
    expect(gateway.NODE_ENV).toBe('production');
    expect(() => loadGatewayConfig(gateway)).not.toThrow();
    const api = mounted(objects, deployment(objects, 'orders-api'), join(root, 'api'));
    expect(api.NODE_ENV).toBe('production');
    expect(checkConfig(DemoApiConfig, api, (c) => demoApiConfigProblems(c, api)).problems).toEqual([]);
  });

  it('wires the apps together: one public issuer, the internal address of its Service, routes to Services', () => {
    const objects = objectsOf(overlay);
    const env = Object.fromEntries(
      APPS.map((name) => [name, environment(objects, appOf(deployment(objects, name)))]),
    );
    const issuer = env['authorization-server']!.ISSUER!;
    const asService = find(objects, 'Service', 'authorization-server')!;
    for (const client of ['gateway', 'orders-api']) {
      expect(env[client]!.ISSUER_URL).toBe(issuer);
      expect(env[client]!.ISSUER_INTERNAL_URL).toBe(
        `http://authorization-server:${asService.spec.ports[0].port}`,
      );
    }
    const directory = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('cloakroom-directory'),
    )!;
    const clients = parse(directory.data['clients.yaml']).clients;
    const resources = parse(directory.data['resources.yaml']).resources;
    const gatewayClient = clients.find((c: K8sObject) => c.client_id === env.gateway!.GATEWAY_CLIENT_ID);
    expect(gatewayClient.redirect_uris).toEqual([`${env.gateway!.GATEWAY_PUBLIC_URL}/auth/callback`]);
    expect(gatewayClient.backchannel_logout_uri).toBe(
      `${env.gateway!.GATEWAY_PUBLIC_URL}/auth/backchannel-logout`,
    );
    for (const route of env.gateway!.GATEWAY_ROUTES!.split(',')) {
      const upstream = new URL(route.split(';')[0]!.split('=')[1]!);
      const service = find(objects, 'Service', upstream.hostname)!;
      expect(service.spec.ports.map((p: K8sObject) => p.port)).toContain(Number(upstream.port));
    }
    const api = env['orders-api']!;
    const resource = resources.find((r: K8sObject) => r.indicator === api.RESOURCE_AUDIENCE);
    expect(resource.introspectionClients).toContain(api.INTROSPECTION_CLIENT_ID);
    expect(gatewayClient.resources).toContain(env.gateway!.GATEWAY_API_RESOURCE);
  });

  it('routes the gateway and only the browser-facing paths of the authorization server through the Ingress', () => {
    const objects = objectsOf(overlay);
    const ingress = objects.find((o) => o.kind === 'Ingress')!;
    const hostOf = (url: string) => new URL(url).hostname;
    const env = (name: string) => environment(objects, appOf(deployment(objects, name)));
    const authHost = hostOf(env('authorization-server').ISSUER!);
    const appHost = hostOf(env('gateway').GATEWAY_PUBLIC_URL!);
    const routed = (host: string, path: string) =>
      ingress.spec.rules
        .filter((rule: K8sObject) => rule.host === host)
        .flatMap((rule: K8sObject) => rule.http.paths)
        .filter((p: { path: string; pathType: string }) => ingressPathMatches(p, path))
        .map((p: K8sObject) => p.backend.service.name as string);
    for (const path of ['/', '/auth/login', '/api/orders', '/auth/backchannel-logout']) {
      expect([path, routed(appHost, path)]).toEqual([path, ['gateway']]);
    }
    for (const path of [
      '/.well-known/openid-configuration',
      '/jwks',
      '/auth',
      '/auth/abc',
      '/interaction/x/login',
      '/session/end',
      '/session/end/confirm',
      '/token',
      '/me',
    ]) {
      expect([path, routed(authHost, path)]).toEqual([path, ['authorization-server']]);
    }
    for (const path of [
      '/token/introspection',
      '/token/revocation',
      '/claims',
      '/metrics',
      '/healthz',
      '/readyz',
      '/reg',
    ]) {
      expect([path, routed(authHost, path)]).toEqual([path, []]);
    }
    expect(ingress.spec.tls.flatMap((t: K8sObject) => t.hosts).sort()).toEqual([appHost, authHost].sort());
    // Every backend is a Service's public port.
    for (const path of ingress.spec.rules.flatMap((rule: K8sObject) => rule.http.paths)) {
      const service = find(objects, 'Service', path.backend.service.name)!;
      expect(service.spec.ports.map((p: K8sObject) => p.name)).toContain(path.backend.service.port.name);
    }
  });

  it('lets only the Ingress controller and the gateway and API pods reach the authorization server', () => {
    const objects = objectsOf(overlay);
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const pod = (name: string): Peer => ({
      namespace: NAMESPACE,
      labels: deployment(objects, name).spec.template.metadata.labels,
    });
    const port = (name: string, which: string) =>
      appOf(deployment(objects, name)).ports.find((p: K8sObject) => p.name === which).containerPort;
    const peers: Record<string, Peer> = {
      'ingress controller': {
        namespace: 'ingress-nginx',
        labels: { 'app.kubernetes.io/name': 'ingress-nginx' },
      },
      prometheus: { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } },
      gateway: pod('gateway'),
      'orders-api': pod('orders-api'),
      'authorization-server': pod('authorization-server'),
      'another pod here': { namespace: NAMESPACE, labels: { app: 'debug' } },
      'a gateway look-alike elsewhere': { namespace: 'other', labels: pod('gateway').labels },
    };
    const reachable = (target: string, which: string) =>
      Object.entries(peers)
        .filter(([, peer]) => admits(policies, NAMESPACE, pod(target).labels, peer, port(target, which)))
        .map(([name]) => name)
        .sort();
    expect(reachable('authorization-server', 'http')).toEqual([
      'gateway',
      'ingress controller',
      'orders-api',
    ]);
    expect(reachable('gateway', 'http')).toEqual(['ingress controller']);
    expect(reachable('orders-api', 'http')).toEqual(['gateway']);
    for (const app of APPS) expect(reachable(app, 'management')).toEqual(['prometheus']);
  });

  it("connects the authorization server and the gateway to the overlay's Redis", () => {
    const objects = objectsOf(overlay);
    for (const name of ['authorization-server', 'gateway']) {
      const env = environment(objects, appOf(deployment(objects, name)));
      const store = checkConfig(StoreConfig, env);
      expect(store.config.backend).toBe('redis');
      const addresses = ['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'].filter((k) => env[k]);
      expect(addresses).toEqual([
        {
          'external-redis': 'REDIS_URL',
          'external-redis-tls': 'REDIS_URL',
          'redis-sentinel': 'REDIS_SENTINELS',
          'redis-cluster': 'REDIS_CLUSTER_NODES',
        }[overlay],
      ]);
      if (overlay.endsWith('-tls')) {
        expect(env.REDIS_TLS).toBe('true');
        const mount = appOf(deployment(objects, name)).volumeMounts.find((m: K8sObject) =>
          env.REDIS_TLS_CA_FILE!.startsWith(`${m.mountPath}/`),
        );
        expect(mount).toBeDefined();
      } else {
        expect(env.REDIS_TLS).toBeUndefined();
      }
    }
    expect(environment(objects, appOf(deployment(objects, 'orders-api'))).REDIS_URL).toBeUndefined();
  });
});

describe('deploy/kubernetes sources', () => {
  const committed = execFileSync('git', ['ls-files', 'deploy/kubernetes'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);

  it('commit no Secret and no secret material: secrets/ keeps only its kustomizations', () => {
    for (const path of committed) {
      if (path.startsWith('deploy/kubernetes/secrets/')) {
        expect(path).toMatch(/(kustomization\.yaml|\.gitignore)$/);
      }
      if (/\.ya?ml$/.test(path)) {
        for (const object of parseObjects(readFileSync(join(ROOT, path), 'utf8'))) {
          expect([path, object.kind]).not.toEqual([path, 'Secret']);
        }
      }
    }
    // What the script writes stays out of git.
    const ignored = execFileSync(
      'git',
      [
        'check-ignore',
        '--no-index',
        ...['store-pepper', 'jwks.json', 'users.yaml', 'redis.env', 'redis-tls/ca.crt'].map(
          (f) => `deploy/kubernetes/secrets/${f}`,
        ),
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(ignored.trim().split('\n')).toHaveLength(5);
  });

  it('create-secrets.sh makes each secret once, random and private, and keeps what exists', () => {
    const dir = join(work, 'kubernetes/secrets');
    const pepper = readFileSync(join(dir, 'store-pepper'), 'utf8');
    expect(pepper).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(readFileSync(join(dir, 'cookie-keys'), 'utf8')).not.toBe(pepper);
    expect(statSync(join(dir, 'store-pepper')).mode & 0o077).toBe(0);
    expect(readFileSync(join(dir, 'redis.env'), 'utf8')).toContain('REDIS_PASSWORD=redis-password\n');
    expect(createSecrets()).toMatch(/nothing changed/);
    expect(readFileSync(join(dir, 'store-pepper'), 'utf8')).toBe(pepper);
  });

  it('the schema check itself refuses a malformed object', () => {
    const broken = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: {
        selector: {},
        template: { spec: { containers: [{ image: 'x', ports: [{ containerPort: 'http' }] }] } },
      },
    };
    expect(() => new Deployment(broken as never).validate()).toThrow(/containerPort must be integer/);
  });
});
