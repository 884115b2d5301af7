/** Which pieces of a file a peer holds: one bit per piece, most significant bit first (as BitTorrent). */
export class Bitfield {
  readonly bytes: Uint8Array;
  private ones = 0;

  constructor(readonly length: number, bytes?: Uint8Array) {
    this.bytes = new Uint8Array(Math.ceil(length / 8));
    if (bytes) {
      this.bytes.set(bytes.subarray(0, this.bytes.length));
      this.clearSpareBits();
      for (let i = 0; i < length; i++) if (this.get(i)) this.ones++;
    }
  }

  static full(length: number): Bitfield {
    const b = new Bitfield(length);
    for (let i = 0; i < length; i++) b.set(i);
    return b;
  }

  get(i: number): boolean {
    return i >= 0 && i < this.length && (this.bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0;
  }

  /** Returns true when the bit was newly set. */
  set(i: number): boolean {
    if (i < 0 || i >= this.length || this.get(i)) return false;
    this.bytes[i >> 3]! |= 0x80 >> (i & 7);
    this.ones++;
    return true;
  }

  clear(i: number): void {
    if (!this.get(i)) return;
    this.bytes[i >> 3]! &= ~(0x80 >> (i & 7));
    this.ones--;
  }

  get count(): number {
    return this.ones;
  }

  get complete(): boolean {
    return this.ones === this.length;
  }

  /** A peer could set bits past the end; they mean nothing and must not count. */
  private clearSpareBits(): void {
    const spare = this.bytes.length * 8 - this.length;
    if (spare > 0) this.bytes[this.bytes.length - 1]! &= (0xff << spare) & 0xff;
  }
}
