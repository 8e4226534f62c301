/**
 * A read-only ZIP archive reader for torch checkpoints (`torch.save` since torch 1.6 writes a ZIP
 * of stored, 64-byte-aligned entries: `<name>/data.pkl`, `<name>/data/<storage key>`, ...).
 * Only the end-of-central-directory record and the central directory are read at open; entries
 * are read by positioned reads of the byte range asked for, so a multi-GB checkpoint is never held
 * in one buffer. ZIP64 (archives or entries over 4 GiB) is supported; stored and deflated entries.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { LogolabError } from '../../errors.js';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated */
  method: number;
  compressedSize: number;
  size: number;
  /** offset of the local file header */
  localOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOC64 = 0x07064b50;
const SIG_CEN = 0x02014b50;
const SIG_LOC = 0x04034b50;
const U32_MAX = 0xffffffff;

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private fd: number | null;
  private readonly dataStart = new Map<string, number>();

  private constructor(readonly path: string, fd: number, readonly size: number) {
    this.fd = fd;
  }

  static open(path: string): ZipReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new LogolabError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
    const z = new ZipReader(path, fd, fstatSync(fd).size);
    try {
      z.readCentralDirectory();
    } catch (e) {
      z.close();
      throw e;
    }
    return z;
  }

  /** bytes [pos, pos+len) of the file */
  private readAt(pos: number, len: number): Buffer {
    if (this.fd === null) throw new Error(`${this.path}: already closed`);
    if (pos < 0 || pos + len > this.size) throw new LogolabError(`${this.path}: corrupt zip (read of ${len} bytes at ${pos} past the end of the ${this.size}-byte file)`);
    // a fresh (unpooled) buffer per read, so typed-array views of it are aligned
    const buf = Buffer.allocUnsafeSlow(len);
    let got = 0;
    while (got < len) {
      const r = readSync(this.fd, buf, got, len - got, pos + got);
      if (r === 0) throw new LogolabError(`${this.path}: file truncated`);
      got += r;
    }
    return buf;
  }

  private readCentralDirectory(): void {
    const tailLen = Math.min(this.size, 22 + 65535);
    const tail = this.readAt(this.size - tailLen, tailLen);
    let at = -1;
    for (let i = tailLen - 22; i >= 0; i--) if (tail.readUInt32LE(i) === SIG_EOCD) { at = i; break; }
    if (at < 0) throw new LogolabError(`${this.path}: not a zip archive (no end-of-central-directory record)`);
    let count = tail.readUInt16LE(at + 10);
    let cdSize = tail.readUInt32LE(at + 12);
    let cdOffset = tail.readUInt32LE(at + 16);
    const eocdPos = this.size - tailLen + at;
    // ZIP64: a locator just before the EOCD record points to the ZIP64 end record, whose values
    // win (they must: the EOCD's read 0xffff/0xffffffff when they do not fit)
    const loc = eocdPos >= 20 ? this.readAt(eocdPos - 20, 20) : null;
    const saturated = count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX;
    if (saturated && loc?.readUInt32LE(0) !== SIG_LOC64) throw new LogolabError(`${this.path}: corrupt zip (ZIP64 locator missing)`);
    if (loc?.readUInt32LE(0) === SIG_LOC64) {
      const rec = this.readAt(Number(loc.readBigUInt64LE(8)), 56);
      if (rec.readUInt32LE(0) !== SIG_EOCD64) throw new LogolabError(`${this.path}: corrupt zip (ZIP64 end record missing)`);
      count = Number(rec.readBigUInt64LE(32));
      cdSize = Number(rec.readBigUInt64LE(40));
      cdOffset = Number(rec.readBigUInt64LE(48));
    }
    const cd = this.readAt(cdOffset, cdSize);
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CEN) throw new LogolabError(`${this.path}: corrupt zip (central directory entry ${n})`);
      const flags = cd.readUInt16LE(p + 8);
      const method = cd.readUInt16LE(p + 10);
      let compressedSize = cd.readUInt32LE(p + 20);
      let size = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      let localOffset = cd.readUInt32LE(p + 42);
      // the lengths come from the file: a damaged entry must not read past the directory
      if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw new LogolabError(`${this.path}: corrupt zip (central directory entry ${n} runs past the directory)`);
      const name = cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
      // ZIP64 extra field (id 1): the 8-byte values of the fields that read 0xffffffff, in order
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (e + 4 + len > eEnd) throw new LogolabError(`${this.path}: corrupt zip (central directory entry ${n}: extra field runs past the entry)`);
        if (id === 1) {
          let q = e + 4;
          const need = 8 * [size, compressedSize, localOffset].filter((v) => v === U32_MAX).length;
          if (need > len) throw new LogolabError(`${this.path}: corrupt zip (central directory entry ${n}: ZIP64 field holds ${len} bytes, needs ${need})`);
          if (size === U32_MAX) {
            size = Number(cd.readBigUInt64LE(q));
            q += 8;
          }
          if (compressedSize === U32_MAX) {
            compressedSize = Number(cd.readBigUInt64LE(q));
            q += 8;
          }
          if (localOffset === U32_MAX) localOffset = Number(cd.readBigUInt64LE(q));
        }
        e += 4 + len;
      }
      if (flags & 1) throw new LogolabError(`${this.path}: entry '${name}' is encrypted`);
      this.entries.set(name, { name, method, compressedSize, size, localOffset });
      p = eEnd + commentLen;
    }
  }

  /** absolute offset of an entry's data (after its local header) */
  private dataOffset(e: ZipEntry): number {
    let off = this.dataStart.get(e.name);
    if (off === undefined) {
      const h = this.readAt(e.localOffset, 30);
      if (h.readUInt32LE(0) !== SIG_LOC) throw new LogolabError(`${this.path}: corrupt zip (no local header for '${e.name}')`);
      off = e.localOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
      if (off + e.compressedSize > this.size) throw new LogolabError(`${this.path}: entry '${e.name}' runs past the end of the file (truncated?)`);
      this.dataStart.set(e.name, off);
    }
    return off;
  }

  entry(name: string): ZipEntry {
    const e = this.entries.get(name);
    if (!e) throw new LogolabError(`${this.path}: no entry '${name}' in the archive`);
    return e;
  }

  /** bytes [start, start+len) of an entry's uncompressed content */
  read(name: string, start = 0, len?: number): Buffer {
    const e = this.entry(name);
    const n = len ?? e.size - start;
    if (start < 0 || n < 0 || start + n > e.size) throw new LogolabError(`${this.path}: read of bytes ${start}..${start + n} outside entry '${name}' (${e.size} bytes)`);
    if (e.method === 0) return this.readAt(this.dataOffset(e) + start, n);
    if (e.method === 8) {
      const all = inflateRawSync(this.readAt(this.dataOffset(e), e.compressedSize));
      if (all.length !== e.size) throw new LogolabError(`${this.path}: entry '${name}' inflates to ${all.length} bytes, the directory says ${e.size}`);
      const out = Buffer.allocUnsafeSlow(n); // aligned, like the stored path
      all.copy(out, 0, start, start + n);
      return out;
    }
    throw new LogolabError(`${this.path}: entry '${name}' uses zip compression method ${e.method} (only stored and deflated are read)`);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
