import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Instruction {
  keyword: string;
  /** The arguments, continuation lines joined. */
  args: string;
  /** `--from=…` and the like. */
  flags: Record<string, string>;
  /** For COPY: the sources, then the destination last. */
  words: string[];
}

export interface Stage {
  name?: string;
  base: string;
  instructions: Instruction[];
}

/** A Dockerfile's stages and instructions: enough of the syntax for the rules the deploy tests check. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      const next = lines[++i]!.trim();
      line = `${line.slice(0, -1).trimEnd()} ${next.startsWith('#') ? '' : next}`.trim();
    }
    const [keyword, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    const flags: Record<string, string> = {};
    const words: string[] = [];
    for (const word of rest) {
      const flag = /^--([a-z-]+)=(.*)$/.exec(word);
      if (flag && words.length === 0) flags[flag[1]!] = flag[2]!;
      else words.push(word);
    }
    const instruction = { keyword: keyword!.toUpperCase(), args, flags, words };
    if (instruction.keyword === 'FROM') {
      const [base, as, name] = words;
      stages.push({ base: base!, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** The npm workspaces of the repository at `root`: each `dir/*` of package.json's workspaces, with a package.json. */
export function workspaces(root: string): string[] {
  const globs = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] })
    .workspaces;
  return globs.flatMap((glob) => {
    const parent = glob.replace(/\/\*$/, '');
    return readdirSync(join(root, parent))
      .filter((dir) => existsSync(join(root, parent, dir, 'package.json')))
      .map((dir) => `${parent}/${dir}`);
  });
}
