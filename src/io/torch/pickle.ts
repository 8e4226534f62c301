/**
 * A minimal, safe unpickler for torch state dicts. It is a data-only interpreter: it knows the
 * pickle opcodes that build numbers, strings, tuples, lists and dicts, plus the few globals a
 * `torch.save(state_dict)` refers to, each mapped to a JS function of ours (pickle-globals.ts).
 * Any other global (os.system, builtins.eval, ...) and any opcode that creates objects by class
 * (INST, OBJ, NEWOBJ, EXT*) is refused with an error naming it, before anything else happens:
 * nothing from the file is ever called, imported or executed.
 */
import { LogolabError } from '../../errors.js';
import { GLOBALS, PyDict, type Callable } from './pickle-globals.js';

const OPNAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT', 0x4b: 'BININT1',
  0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST',
  0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS',
  0x47: 'BINFLOAT', 0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/**
 * Unpickles `data`. `persistentLoad` receives the persistent id (a tuple) of each BINPERSID.
 * Errors are LogolabErrors naming `source` and the byte position.
 */
export function unpickle(data: Uint8Array, source: string, persistentLoad: (pid: unknown[]) => unknown): unknown {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let p = 0;
  let op = 0;
  let opAt = 0;
  const need = (n: number) => {
    if (p + n > buf.length) throw new Error(`truncated pickle (needs ${n} bytes at ${p})`);
  };
  const u8 = () => (need(1), buf[p++]!);
  const u16 = () => (need(2), (p += 2), buf.readUInt16LE(p - 2));
  const u32 = () => (need(4), (p += 4), buf.readUInt32LE(p - 4));
  const u64 = () => {
    need(8);
    const v = buf.readBigUInt64LE(p);
    p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('length over 2^53');
    return Number(v);
  };
  const bytes = (n: number) => (need(n), (p += n), buf.subarray(p - n, p));
  const line = () => {
    const e = buf.indexOf(0x0a, p);
    if (e < 0) throw new Error('unterminated line');
    const s = buf.toString('utf8', p, e);
    p = e + 1;
    return s;
  };
  const pop = () => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1]!)) throw new Error('stack underflow');
    return stack.pop();
  };
  const top = () => {
    if (stack.length === 0) throw new Error('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) throw new Error('MARK expected');
    return stack.splice(m);
  };
  const setItems = (d: unknown, kv: unknown[]) => {
    if (!(d instanceof PyDict)) throw new Error('SETITEM(S) on something that is not a dict');
    if (kv.length % 2) throw new Error('odd number of items for SETITEMS');
    for (let i = 0; i < kv.length; i += 2) d.set(kv[i], kv[i + 1]);
  };
  const append = (l: unknown, items: unknown[]) => {
    if (!Array.isArray(l) || Object.isFrozen(l)) throw new Error('APPEND(S) on something that is not a list');
    l.push(...items);
  };
  const global = (mod: string, name: string) => {
    const full = `${mod}.${name}`;
    if (!Object.prototype.hasOwnProperty.call(GLOBALS, full)) {
      throw new LogolabError(`${source}: refusing to unpickle global '${full}' (a state dict only needs OrderedDict and torch's tensor/storage rebuilds); nothing was executed`);
    }
    return GLOBALS[full];
  };
  const tuple = (items: unknown[]) => Object.freeze(items);
  const signedLE = (b: Uint8Array): number => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error('integer beyond 2^53');
    return Number(v);
  };

  try {
    for (;;) {
      opAt = p;
      op = u8();
      switch (op) {
        case 0x80: // PROTO
          if (u8() > 5) throw new Error('pickle protocol above 5');
          break;
        case 0x95: // FRAME: a length hint only
          u64();
          break;
        case 0x2e: // STOP
          if (stack.length !== 1 || marks.length) throw new Error(`STOP with ${stack.length} values on the stack`);
          return stack[0];
        case 0x28: // MARK
          marks.push(stack.length);
          break;
        case 0x30: // POP
          pop();
          break;
        case 0x31: // POP_MARK
          popMark();
          break;
        case 0x32: // DUP
          stack.push(top());
          break;
        case 0x4e: // NONE
          stack.push(null);
          break;
        case 0x88: // NEWTRUE
          stack.push(true);
          break;
        case 0x89: // NEWFALSE
          stack.push(false);
          break;
        case 0x4a: // BININT
          need(4);
          stack.push(buf.readInt32LE(p));
          p += 4;
          break;
        case 0x4b: // BININT1
          stack.push(u8());
          break;
        case 0x4d: // BININT2
          stack.push(u16());
          break;
        case 0x8a: // LONG1
          stack.push(signedLE(bytes(u8())));
          break;
        case 0x8b: // LONG4
          stack.push(signedLE(bytes(u32())));
          break;
        case 0x47: // BINFLOAT (big-endian double)
          need(8);
          stack.push(buf.readDoubleBE(p));
          p += 8;
          break;
        case 0x58: // BINUNICODE
          stack.push(Buffer.from(bytes(u32())).toString('utf8'));
          break;
        case 0x8c: // SHORT_BINUNICODE
          stack.push(Buffer.from(bytes(u8())).toString('utf8'));
          break;
        case 0x8d: // BINUNICODE8
          stack.push(Buffer.from(bytes(u64())).toString('utf8'));
          break;
        case 0x43: // SHORT_BINBYTES
          stack.push(Uint8Array.from(bytes(u8())));
          break;
        case 0x42: // BINBYTES
          stack.push(Uint8Array.from(bytes(u32())));
          break;
        case 0x29: // EMPTY_TUPLE
          stack.push(tuple([]));
          break;
        case 0x85: // TUPLE1
          stack.push(tuple([pop()]));
          break;
        case 0x86: { // TUPLE2
          const b = pop();
          stack.push(tuple([pop(), b]));
          break;
        }
        case 0x87: { // TUPLE3
          const c = pop();
          const b = pop();
          stack.push(tuple([pop(), b, c]));
          break;
        }
        case 0x74: // TUPLE
          stack.push(tuple(popMark()));
          break;
        case 0x5d: // EMPTY_LIST
          stack.push([]);
          break;
        case 0x6c: // LIST
          stack.push(popMark());
          break;
        case 0x61: { // APPEND
          const v = pop();
          append(top(), [v]);
          break;
        }
        case 0x65: { // APPENDS
          const items = popMark();
          append(top(), items);
          break;
        }
        case 0x7d: // EMPTY_DICT
          stack.push(new PyDict());
          break;
        case 0x64: { // DICT
          const d = new PyDict();
          setItems(d, popMark());
          stack.push(d);
          break;
        }
        case 0x73: { // SETITEM
          const v = pop();
          const k = pop();
          setItems(top(), [k, v]);
          break;
        }
        case 0x75: { // SETITEMS
          const kv = popMark();
          setItems(top(), kv);
          break;
        }
        case 0x71: // BINPUT
          memo.set(u8(), top());
          break;
        case 0x72: // LONG_BINPUT
          memo.set(u32(), top());
          break;
        case 0x94: // MEMOIZE
          memo.set(memo.size, top());
          break;
        case 0x68: // BINGET
        case 0x6a: { // LONG_BINGET
          const i = op === 0x68 ? u8() : u32();
          if (!memo.has(i)) throw new Error(`memo key ${i} not set`);
          stack.push(memo.get(i));
          break;
        }
        case 0x63: { // GLOBAL "module\nname\n"
          const mod = line();
          stack.push(global(mod, line()));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = pop();
          const mod = pop();
          if (typeof mod !== 'string' || typeof name !== 'string') throw new Error('STACK_GLOBAL needs two strings');
          stack.push(global(mod, name));
          break;
        }
        case 0x52: { // REDUCE: callable(*args) — only our own functions can be on the stack here
          const args = pop();
          const fn = pop();
          if (typeof fn !== 'function') throw new Error('REDUCE of something that is not an allowed callable');
          if (!Array.isArray(args)) throw new Error('REDUCE arguments are not a tuple');
          stack.push((fn as Callable)([...args]));
          break;
        }
        case 0x62: { // BUILD: only attribute state of a dict (OrderedDict._metadata)
          const state = pop();
          const obj = top();
          if (!(obj instanceof PyDict) || !(state instanceof PyDict)) throw new Error('BUILD of anything but dict attributes');
          for (const [k, v] of state) obj.attrs[String(k)] = v;
          break;
        }
        case 0x51: { // BINPERSID
          const pid = pop();
          if (!Array.isArray(pid)) throw new Error('persistent id is not a tuple');
          stack.push(persistentLoad(pid));
          break;
        }
        default:
          throw new Error(`opcode ${OPNAMES[op] ?? 'unknown'} (0x${op.toString(16).padStart(2, '0')}) is not allowed in a state dict`);
      }
    }
  } catch (e) {
    if (e instanceof LogolabError) throw e;
    throw new LogolabError(`${source}: refusing pickle: ${(e as Error).message} (opcode ${OPNAMES[op] ?? `0x${op.toString(16)}`} at byte ${opAt}); nothing was executed`);
  }
}
