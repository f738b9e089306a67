// The oldest Node.js every Cloakroom process runs on. undici 8, the gateway's HTTP client, needs 22.19: on
// older releases it fails at its first request with an error that names none of this. Entry points check
// before they load anything else, so an old Node gets one sentence instead of a stack trace.
// This module imports nothing, so that it loads on any Node.js that can run ES modules.
export const MINIMUM_NODE = '22.19.0';

function parts(version: string): number[] {
  return version
    .replace(/^v/, '')
    .split('.')
    .map((part) => Number.parseInt(part, 10) || 0);
}

/** True when `version` (as in `process.versions.node`) is older than {@link MINIMUM_NODE}. */
export function isTooOld(version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = parts(version);
  const [wantMajor = 0, wantMinor = 0, wantPatch = 0] = parts(MINIMUM_NODE);
  if (major !== wantMajor) return major < wantMajor;
  if (minor !== wantMinor) return minor < wantMinor;
  return patch < wantPatch;
}

export function tooOldMessage(program: string, version: string): string {
  return `${program} needs Node.js ${MINIMUM_NODE} or newer (24 LTS recommended); this is Node.js ${version}.`;
}

/** Exits the process with one sentence when this Node.js is older than {@link MINIMUM_NODE}. */
export function requireSupportedNode(program: string): void {
  if (!isTooOld(process.versions.node)) return;
  console.error(tooOldMessage(program, process.versions.node));
  process.exit(1);
}
