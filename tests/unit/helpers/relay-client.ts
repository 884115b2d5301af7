/**
 * A relay test client speaking the protocol by hand over a real socket: every relay
 * message must parse; waits pick messages by type and always time out, so a failing
 * test fails instead of hanging. Shared by the relay tests (single instance and cluster).
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { WebSocket, type ClientOptions } from 'ws';
import { parseRelayMessage, type RelayMessage } from '../../../signaling/protocol.ts';
import type { Identity } from '../../../src/core/crypto/identity.ts';
import { joinMessage, newTestIdentity } from './signed-join.ts';

export const WAIT_MS = 3000;
export const noop = (): void => {};
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function timeout<V>(p: Promise<V>, ms: number, what: string): Promise<V> {
  let timer: NodeJS.Timeout | undefined;
  const fail = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, fail]).finally(() => clearTimeout(timer));
}

export async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export type Of<K extends RelayMessage['type']> = Extract<RelayMessage, { type: K }>;

/** A test client: every relay message must parse; waits pick messages by type. */
export class Client {
  readonly inbox: RelayMessage[] = [];
  readonly invalid: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  id = '';
  /** Each test client is a distinct browser: its own identity, so its own peer id. */
  identity: Identity = newTestIdentity();
  /** This socket's challenge (kept out of the inbox: every socket gets exactly one, first). */
  readonly nonce: Promise<string>;
  private gotNonce: (nonce: string) => void = noop;
  private wake = noop;

  constructor(readonly ws: WebSocket) {
    this.nonce = new Promise((resolve) => { this.gotNonce = resolve; });
    ws.on('message', (data) => {
      const parsed = parseRelayMessage(String(data));
      if (parsed.ok && parsed.value.type === 'challenge') this.gotNonce(parsed.value.nonce);
      else if (parsed.ok) this.inbox.push(parsed.value);
      else this.invalid.push(String(data));
      this.wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Removes and returns the first message of `type`, waiting for it if needed. */
  async next<K extends RelayMessage['type']>(type: K, ms = WAIT_MS): Promise<Of<K>> {
    const take = (): Of<K> | undefined => {
      assert.deepEqual(this.invalid, [], 'relay sent a message that does not parse');
      const i = this.inbox.findIndex((m) => m.type === type);
      return i < 0 ? undefined : (this.inbox.splice(i, 1)[0] as Of<K>);
    };
    const found = take();
    if (found) return found;
    return timeout(new Promise<Of<K>>((resolve) => {
      // One wake per wait: a stale one would take (and lose) the next message of this type.
      this.wake = () => {
        const m = take();
        if (!m) return;
        this.wake = noop;
        resolve(m);
      };
    }), ms, `"${type}" (inbox: ${JSON.stringify(this.inbox).slice(0, 300)})`);
  }

  async error(code: string): Promise<void> {
    const m = await this.next('error');
    assert.equal(m.code, code, m.message);
  }

  waitClosed(ms = WAIT_MS): Promise<{ code: number; reason: string }> {
    return timeout(this.closed, ms, 'the socket to close');
  }

  /** A correctly signed join for this socket, sent without waiting for the answer. */
  async sendJoin(t: string, identity: Identity = this.identity): Promise<void> {
    this.send(await joinMessage(identity, await timeout(this.nonce, WAIT_MS, 'the challenge'), t));
  }

  async join(t: string): Promise<Of<'welcome'>> {
    await this.sendJoin(t);
    const welcome = await this.next('welcome');
    assert.equal(welcome.topic, t);
    this.id = welcome.self;
    return welcome;
  }
}

export async function openClient(t: TestContext, url: string, opts?: ClientOptions): Promise<Client> {
  const ws = new WebSocket(url, opts);
  t.after(() => ws.terminate());
  const client = new Client(ws);
  await timeout(new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  }), WAIT_MS, `a connection to ${url}`);
  return client;
}

