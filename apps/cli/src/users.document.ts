import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Document, isMap, parseDocument } from 'yaml';
import { loadUsers } from '@cloakroom/authorization-server/directory-files';
import type { UserEntry } from '@cloakroom/authorization-server/directory-files';
import { writeFileAtomically } from './atomic-file.js';
import { CommandFailed } from './cli.io.js';

/** A users file being edited: YAML edits keep the other users, comments and layout. */
export class UsersDocument {
  private constructor(
    readonly path: string,
    private readonly document: Document,
  ) {}

  /** The file as it is, or an empty one when it does not exist yet. */
  static async read(path: string): Promise<UsersDocument> {
    if (!['.yaml', '.yml', '.json'].includes(extname(path).toLowerCase())) {
      throw new CommandFailed(`${path}: the users file name must end in .yaml, .yml or .json`);
    }
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw new CommandFailed(`${path}: cannot be read (${error.code ?? 'error'})`);
    });
    if (text === undefined) return new UsersDocument(path, new Document({ users: {} }));
    const document = parseDocument(text);
    if (document.errors.length > 0) {
      throw new CommandFailed(`${path}: cannot be parsed: ${document.errors[0].message.split('\n')[0]}`);
    }
    if (!isMap(document.contents)) throw new CommandFailed(`${path}: must be a mapping with a \`users\` key`);
    if (!document.has('users')) document.set('users', document.createNode({}));
    // `users: {}` would otherwise turn every user added to it into one long flow-style line.
    const users = document.get('users', true);
    if (isMap(users) && users.items.length === 0) users.flow = false;
    return new UsersDocument(path, document);
  }

  has(username: string): boolean {
    return this.document.hasIn(['users', username]);
  }

  set(username: string, field: string, value: unknown): void {
    if (value === undefined) this.document.deleteIn(['users', username, field]);
    else this.document.setIn(['users', username, field], this.document.createNode(value));
  }

  remove(username: string): void {
    this.document.deleteIn(['users', username]);
  }

  /** The users as the authorization server would load them (UsersFileInvalid listing every problem). */
  users(): UserEntry[] {
    return loadUsers({ path: this.path, text: this.text() });
  }

  /** Checks the very text about to be written with the server's own loader, then replaces the file atomically. */
  async write(): Promise<void> {
    const text = this.text();
    loadUsers({ path: this.path, text });
    await writeFileAtomically(this.path, text);
  }

  private text(): string {
    return extname(this.path).toLowerCase() === '.json'
      ? `${JSON.stringify(this.document.toJS(), null, 2)}\n`
      : this.document.toString({ lineWidth: 0 });
  }
}
