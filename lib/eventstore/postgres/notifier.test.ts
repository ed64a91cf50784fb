import { describe, expect, it } from 'vitest';
import { Notifier } from './notifier';

/** A stand-in for postgres.js: records each NOTIFY and answers when told to. */
function fakeSql() {
  const sent: string[] = [];
  const pending: Array<() => void> = [];
  const sql = (strings: TemplateStringsArray) => {
    sent.push(strings.join('$'));
    return new Promise<void>((resolve) => pending.push(resolve));
  };
  const answerAll = () => pending.splice(0).forEach((r) => r());
  return { sql: sql as never, sent, answerAll };
}

const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 1));
};

describe('Notifier (append NOTIFY throttle)', () => {
  it('covers a burst of appends with one NOTIFY now and exactly one trailing NOTIFY', async () => {
    const f = fakeSql();
    const n = new Notifier(f.sql, () => {}, 5);
    for (let i = 0; i < 100; i++) n.appended();
    expect(f.sent).toHaveLength(1);
    f.answerAll();
    await until(() => f.sent.length === 2);
    f.answerAll();
    // Nothing more is pending: no further NOTIFY follows.
    await new Promise((r) => setTimeout(r, 20));
    expect(f.sent).toHaveLength(2);
    await n.close();
  });

  it('sends a NOTIFY still owed when closed', async () => {
    const f = fakeSql();
    const n = new Notifier(f.sql, () => {}, 1000);
    n.appended();
    f.answerAll();
    n.appended(); // waits for the interval
    await new Promise((r) => setTimeout(r, 1));
    expect(f.sent).toHaveLength(1);
    const closing = n.close();
    await until(() => f.sent.length === 2);
    f.answerAll();
    await closing;
    expect(f.sent).toHaveLength(2);
  });
});
