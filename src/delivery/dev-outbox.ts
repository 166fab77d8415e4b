// Development stand-in for SMTP and Twilio: messages are kept in memory so a developer can read
// the code on /dev/outbox. It holds real codes, so it must never be wired up in production
// (config refuses DEV_OUTBOX there).
import { randomUUID } from 'node:crypto';
import type { Channel } from './message.ts';

export interface OutboxEntry {
  id: string;
  at: Date;
  channel: Channel;
  to: string;
  subject?: string;
  /** A mail's own sender, when it has one (else MAIL_FROM). */
  from?: string;
  /** Mail text, SMS body, or for a call the words spoken. */
  text: string;
  html?: string;
}

export type OutboxListener = (entry: OutboxEntry) => void;

export const DEV_OUTBOX_CAPACITY = 200;

const recipientKey = (to: string) => to.trim().toLowerCase();

export class DevOutbox {
  private entries: OutboxEntry[] = [];
  private readonly listeners = new Set<OutboxListener>();

  constructor(
    private readonly capacity = DEV_OUTBOX_CAPACITY,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  record(message: Omit<OutboxEntry, 'id' | 'at'>): OutboxEntry {
    const entry: OutboxEntry = { ...message, id: randomUUID(), at: new Date(this.now()) };
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    for (const listener of this.listeners) listener(entry);
    return entry;
  }

  /** In arrival order, oldest first (a copy). */
  list(): OutboxEntry[] {
    return [...this.entries];
  }

  /** The newest message to this address or number (mail addresses compare case-insensitively). */
  latestFor(to: string, channel?: Channel): OutboxEntry | undefined {
    const key = recipientKey(to);
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i];
      if (entry && recipientKey(entry.to) === key && (!channel || entry.channel === channel)) return entry;
    }
    return undefined;
  }

  clear(): void {
    this.entries = [];
  }

  /** Lets a page or a test react to new messages instead of polling; returns the unsubscribe. */
  subscribe(listener: OutboxListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.entries.length;
  }
}
