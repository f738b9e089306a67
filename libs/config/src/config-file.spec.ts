import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsString, ValidateNested } from 'class-validator';
import { ConfigFileInvalid, MappingOf, loadConfigFile } from './config-file.js';
import type { ConfigFile, ConfigFileSource } from './config-file.js';

class Item {
  @IsString() name!: string;
  @IsBoolean() enabled = false;
}

class ExampleFile {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => Item)
  items: Item[] = [];
}

class ExampleFileInvalid extends ConfigFileInvalid {
  constructor(path: string, problems: string[]) {
    super('example', path, problems);
  }
}

const EXAMPLE: ConfigFile<ExampleFile> = { invalid: ExampleFileInvalid, schema: ExampleFile };

/** The problems of a load that must fail, checking the error's type, kind and path on the way. */
function problemsOf<T extends object>(file: ConfigFile<T>, source: ConfigFileSource): string[] {
  try {
    loadConfigFile(file, source);
  } catch (error) {
    expect(error).toBeInstanceOf(file.invalid);
    const invalid = error as ConfigFileInvalid;
    const path = typeof source === 'string' ? source : source.path;
    expect(invalid.path).toBe(path);
    expect(invalid.message.split('\n')[0]).toBe(`invalid ${invalid.kind} file ${path}:`);
    return invalid.problems;
  }
  throw new Error('the file loaded');
}

const dir = mkdtempSync(join(tmpdir(), 'cloakroom-config-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe(loadConfigFile.name, () => {
  it('reads YAML and JSON into the schema, with its defaults', () => {
    writeFileSync(join(dir, 'a.yaml'), 'items:\n  - name: x\n');
    writeFileSync(join(dir, 'a.json'), '{"items": [{"name": "y", "enabled": true}]}');
    expect(loadConfigFile(EXAMPLE, join(dir, 'a.yaml')).items).toEqual([{ name: 'x', enabled: false }]);
    expect(loadConfigFile(EXAMPLE, join(dir, 'a.json')).items[0].enabled).toBe(true);
  });

  it('refuses unknown keys at every depth, and lists every problem', () => {
    writeFileSync(join(dir, 'b.yaml'), 'items:\n  - name: 1\n    enable: true\ntypo: 1\n');
    const problems = problemsOf(EXAMPLE, join(dir, 'b.yaml'));
    expect(problems.sort()).toEqual([
      'items[0].enable: unknown field',
      'items[0].name: name must be a string',
      'typo: unknown field',
    ]);
  });

  it('turns unreadable, unparsable and wrongly named files into problems', () => {
    writeFileSync(join(dir, 'c.yaml'), 'items: [');
    expect(problemsOf(EXAMPLE, join(dir, 'nope.yaml'))).toEqual(['cannot be read: ENOENT']);
    expect(problemsOf(EXAMPLE, join(dir, 'c.yaml'))[0]).toMatch(/^cannot be parsed: /);
    expect(problemsOf(EXAMPLE, join(dir, 'c.ini'))).toEqual(['file name must end in .yaml, .yml or .json']);
    writeFileSync(join(dir, 'd.yaml'), '');
    expect(problemsOf(EXAMPLE, join(dir, 'd.yaml'))).toEqual(['the file: must be a mapping']);
  });

  it('names the kind and the path in the message, one problem a line', () => {
    const path = join(dir, 'e.yaml');
    writeFileSync(path, 'items:\n  - name: 1\nextra: 1\n');
    expect(() => loadConfigFile(EXAMPLE, path)).toThrow(
      `invalid example file ${path}:\n  - extra: unknown field\n  - items[0].name: name must be a string`,
    );
  });

  it('loads text already read, and content already parsed, under the name it is given', () => {
    const text = { path: 'reloaded.yaml', text: 'items:\n  - name: from-text\n' };
    expect(loadConfigFile(EXAMPLE, text).items[0].name).toBe('from-text');
    expect(problemsOf(EXAMPLE, { path: 'reloaded.yaml', text: 'items: [' })[0]).toMatch(/^cannot be parsed/);
    expect(problemsOf(EXAMPLE, { path: 'reloaded.txt', text: 'items: []' })).toEqual([
      'file name must end in .yaml, .yml or .json',
    ]);
    const parsed = { path: 'example', parsed: { items: [{ name: 'from-code' }] } };
    expect(loadConfigFile(EXAMPLE, parsed).items[0]).toEqual({ name: 'from-code', enabled: false });
    expect(problemsOf(EXAMPLE, { path: 'example', parsed: ['a list'] })).toEqual([
      'the file: must be a mapping',
    ]);
  });

  it('reads a JSON-only file whatever its name, and refuses YAML in it', () => {
    const json = { ...EXAMPLE, format: 'json' as const };
    writeFileSync(join(dir, 'keys'), '{"items": []}');
    expect(loadConfigFile(json, join(dir, 'keys')).items).toEqual([]);
    writeFileSync(join(dir, 'yaml-in.json'), 'items: []\n');
    expect(problemsOf(json, join(dir, 'yaml-in.json'))[0]).toMatch(/^cannot be parsed: /);
  });

  it('prepares the content, then runs the rules between fields even when a field is invalid', () => {
    const checked: ConfigFile<ExampleFile> = {
      ...EXAMPLE,
      prepare: (raw, problems) => {
        if ('secret' in raw) problems.push('secret: comes from the environment');
        const { secret: _secret, ...rest } = raw;
        return rest;
      },
      checks: (file) => {
        const names = file.items.map((item) => item.name);
        return names.filter((name, i) => names.indexOf(name) !== i).map((name) => `items: ${name} twice`);
      },
    };
    const parsed = { items: [{ name: 'a' }, { name: 'a', enabled: 'yes' }], secret: 'x' };
    expect(problemsOf(checked, { path: 'example', parsed })).toEqual([
      'secret: comes from the environment',
      'items[1].enabled: enabled must be a boolean value',
      'items: a twice',
    ]);
    // A rule that trips over a value already reported adds nothing; a rule that trips over a valid file is a bug.
    const tripping = {
      ...EXAMPLE,
      checks: (): string[] => {
        throw new TypeError('cannot judge');
      },
    };
    expect(problemsOf(tripping, { path: 'example', parsed: { items: [{ name: 2 }] } })).toEqual([
      'items[0].name: name must be a string',
    ]);
    expect(() => loadConfigFile(tripping, { path: 'example', parsed: { items: [] } })).toThrow(TypeError);
  });
});

class Entry {
  @IsString() passwordHash!: string;
  @IsArray() groups: string[] = [];
}

class EntriesFile {
  @MappingOf(() => Entry, {
    notMapping: 'must be a mapping of name to entry',
    entryNotMapping: 'must be a mapping with passwordHash',
  })
  entries!: Map<string, Entry>;
}

const ENTRIES: ConfigFile<EntriesFile> = { invalid: ExampleFileInvalid, schema: EntriesFile };

describe(MappingOf.name, () => {
  it('turns a mapping of names into a Map of schema instances, with their defaults', () => {
    const file = loadConfigFile(ENTRIES, {
      path: 'entries',
      parsed: { entries: { alice: { passwordHash: 'h' }, 42: { passwordHash: 'i' } } },
    });
    expect(file.entries).toBeInstanceOf(Map);
    expect(file.entries.get('alice')).toBeInstanceOf(Entry);
    expect([...file.entries]).toEqual([
      ['42', { passwordHash: 'i', groups: [] }],
      ['alice', { passwordHash: 'h', groups: [] }],
    ]);
  });

  it('names each entry in its problems, digits or not, and refuses what is not a mapping', () => {
    const problems = problemsOf(ENTRIES, {
      path: 'entries',
      parsed: {
        entries: {
          alice: { passwordHash: 'h', emial: 'x' },
          42: { passwordHash: 1 },
          bob: 3,
          carol: [1],
          dan: null,
        },
      },
    });
    expect(problems.sort()).toEqual([
      'entries.42.passwordHash: passwordHash must be a string',
      'entries.alice.emial: unknown field',
      'entries.bob: must be a mapping with passwordHash',
      'entries.carol: must be a mapping with passwordHash',
      'entries.dan: must be a mapping with passwordHash',
    ]);
    for (const entries of [[{ passwordHash: 'h' }], 'x', undefined]) {
      expect(problemsOf(ENTRIES, { path: 'entries', parsed: { entries } })).toEqual([
        'entries: must be a mapping of name to entry',
      ]);
    }
  });
});
