import { describe, expect, it } from 'vitest';
import { DEV_OUTBOX_CAPACITY, DevOutbox, type OutboxEntry } from '../../src/delivery/dev-outbox.ts';

describe('DevOutbox', () => {
  it('lists in arrival order with id and time', () => {
    let now = 1_000;
    const outbox = new DevOutbox(DEV_OUTBOX_CAPACITY, () => now);
    outbox.record({ channel: 'mail', to: 'a@example.nl', subject: 'S', text: 'one' });
    now = 2_000;
    outbox.record({ channel: 'sms', to: '+31612345678', text: 'two' });
    const [first, latest] = outbox.list();
    expect(latest).toMatchObject({ channel: 'sms', text: 'two', at: new Date(2_000) });
    expect(first).toMatchObject({ channel: 'mail', subject: 'S', text: 'one', at: new Date(1_000) });
    expect(latest?.id).not.toBe(first?.id);
  });

  it(`keeps only the last ${DEV_OUTBOX_CAPACITY} messages`, () => {
    const outbox = new DevOutbox();
    for (let i = 0; i < DEV_OUTBOX_CAPACITY + 5; i++) outbox.record({ channel: 'sms', to: '+31612345678', text: `m${i}` });
    const list = outbox.list();
    expect(list).toHaveLength(DEV_OUTBOX_CAPACITY);
    expect(list[0]?.text).toBe('m5');
    expect(list.at(-1)?.text).toBe(`m${DEV_OUTBOX_CAPACITY + 4}`);
  });

  it('finds the latest message for a recipient, optionally per channel', () => {
    const outbox = new DevOutbox();
    outbox.record({ channel: 'mail', to: 'Jan@Example.nl', subject: 's', text: 'old' });
    outbox.record({ channel: 'mail', to: 'jan@example.nl', subject: 's', text: 'new' });
    outbox.record({ channel: 'sms', to: '+31612345678', text: 'sms' });
    outbox.record({ channel: 'voice', to: '+31612345678', text: 'call' });
    expect(outbox.latestFor('JAN@example.nl')?.text).toBe('new');
    expect(outbox.latestFor('+31612345678')?.text).toBe('call');
    expect(outbox.latestFor('+31612345678', 'sms')?.text).toBe('sms');
    expect(outbox.latestFor('nobody@example.nl')).toBeUndefined();
  });

  it('clears, and tells subscribers about new messages until they unsubscribe', () => {
    const outbox = new DevOutbox();
    const seen: OutboxEntry[] = [];
    const unsubscribe = outbox.subscribe((e) => seen.push(e));
    outbox.record({ channel: 'sms', to: '+31612345678', text: 'a' });
    unsubscribe();
    outbox.record({ channel: 'sms', to: '+31612345678', text: 'b' });
    expect(seen.map((e) => e.text)).toEqual(['a']);
    outbox.clear();
    expect(outbox.list()).toEqual([]);
    expect(outbox.latestFor('+31612345678')).toBeUndefined();
  });

  it('refuses a capacity below one', () => {
    expect(() => new DevOutbox(0)).toThrow(RangeError);
  });
});
