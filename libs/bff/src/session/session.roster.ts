import type { SealedStore } from '@cloakroom/sealed-store';

const CARDS = 'gateway.user-sessions';
const SEEN = 'gateway.user-seen';

/** One session in its user's list. */
export interface SessionCard {
  /** The session's slot: it can be ended from another session of the same user, which cannot open it. */
  slot: string;
  sid?: string;
  device: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /**
   * Its current refresh token, so that ending it from another session revokes it too. Kept only with a deployment
   * pepper: the list is sealed with a key derived from the user's `sub`, which without a pepper anyone can derive.
   */
  refreshToken?: string;
}

/** A session as its user sees it in the list: never a token, never a slot. */
export interface SessionListing {
  id: string;
  device: string;
  createdAt: number;
  lastUsedAt: number;
}

/**
 * The sessions of each user, for "my sessions" and "sign out everywhere else": a group of sealed members per user,
 * one card per session, and beside it when each was last used (written as often as the idle timeout is pushed
 * back, so a card never has to be rewritten for it).
 */
export class SessionRoster {
  constructor(
    private readonly store: SealedStore,
    private readonly settings: { ttlSeconds: number; keepRefreshTokens: boolean },
  ) {}

  async put(sub: string, id: string, card: SessionCard): Promise<void> {
    const { refreshToken, ...rest } = card;
    const kept = this.settings.keepRefreshTokens && refreshToken ? { ...rest, refreshToken } : rest;
    await this.store.putMember(CARDS, sub, id, kept, this.settings.ttlSeconds);
  }

  async seen(sub: string, id: string, at: number): Promise<void> {
    await this.store.putMember(SEEN, sub, id, { at }, this.settings.ttlSeconds);
  }

  async remove(sub: string, id: string): Promise<void> {
    await Promise.all([this.store.removeMember(CARDS, sub, id), this.store.removeMember(SEEN, sub, id)]);
  }

  async card(sub: string, id: string): Promise<SessionCard | undefined> {
    return (await this.store.members<SessionCard>(CARDS, sub)).find((member) => member.id === id)?.value;
  }

  /** Every session of the user with its card, oldest first. */
  async cards(sub: string): Promise<Array<{ id: string; card: SessionCard }>> {
    const cards = await this.store.members<SessionCard>(CARDS, sub);
    return cards
      .map((member) => ({ id: member.id, card: member.value }))
      .sort((a, b) => a.card.createdAt - b.card.createdAt);
  }

  /** The user's sessions, oldest first, with their slots (not for the user's eyes). */
  async list(sub: string): Promise<Array<SessionListing & { slot: string }>> {
    const [cards, seen] = await Promise.all([this.cards(sub), this.store.members<{ at: number }>(SEEN, sub)]);
    const lastUsed = new Map(seen.map((member) => [member.id, member.value.at]));
    return cards.map(({ id, card }) => ({
      id,
      slot: card.slot,
      device: card.device,
      createdAt: card.createdAt,
      lastUsedAt: Math.max(card.createdAt, lastUsed.get(id) ?? 0),
    }));
  }
}
