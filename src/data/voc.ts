/**
 * Pascal VOC annotation XML: a strict little parser (well-formedness is checked, so a truncated
 * or garbled file is reported as malformed instead of yielding half an annotation) and a writer
 * for the synth datasets.
 *
 *   <annotation><filename>1.jpg</filename><size><width>W</width><height>H</height><depth>3</depth></size>
 *     <object><name>brand</name><bndbox><xmin/><ymin/><xmax/><ymax/></bndbox></object>…</annotation>
 *
 * Boxes are returned as written (numbers, possibly fractional, possibly outside the image);
 * clipping and degeneracy are the caller's decision (prepare.ts).
 */
import { LogolabError } from '../errors.js';

export interface XmlNode {
  name: string;
  children: XmlNode[];
  text: string;
}

export interface VocObject {
  name: string;
  /** [xmin, ymin, xmax, ymax] as written; NaN where a field is not a number */
  box: [number, number, number, number];
  difficult: boolean;
  truncated: boolean;
}

export interface VocAnnotation {
  filename: string | null;
  width: number | null;
  height: number | null;
  depth: number | null;
  objects: VocObject[];
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string, where: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|&/g, (m, e: string | undefined) => {
    if (e === undefined) throw new LogolabError(`${where}: malformed XML: bare '&'`);
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    const v = ENTITIES[e];
    if (v === undefined) throw new LogolabError(`${where}: malformed XML: unknown entity ${m}`);
    return v;
  });
}

/** Parses a whole XML document into a tree of elements (attributes are ignored; VOC has none that matter). */
export function parseXml(text: string, where = '<xml>'): XmlNode {
  const root: XmlNode = { name: '#document', children: [], text: '' };
  const stack: XmlNode[] = [root];
  let i = 0;
  const n = text.length;
  const bad = (msg: string): never => {
    const line = text.slice(0, i).split('\n').length;
    throw new LogolabError(`${where}: malformed XML at line ${line}: ${msg}`);
  };
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const lt = text.indexOf('<', i);
    const chunk = text.slice(i, lt === -1 ? n : lt);
    if (chunk.trim() !== '') {
      if (stack.length === 1) bad('text outside the root element');
      stack[stack.length - 1]!.text += decodeEntities(chunk, where);
    }
    if (lt === -1) break;
    i = lt;
    if (text.startsWith('<!--', i)) {
      const e = text.indexOf('-->', i + 4);
      if (e === -1) bad('unterminated comment');
      i = e + 3;
    } else if (text.startsWith('<![CDATA[', i)) {
      const e = text.indexOf(']]>', i + 9);
      if (e === -1) bad('unterminated CDATA');
      if (stack.length === 1) bad('CDATA outside the root element');
      stack[stack.length - 1]!.text += text.slice(i + 9, e);
      i = e + 3;
    } else if (text.startsWith('<?', i)) {
      const e = text.indexOf('?>', i + 2);
      if (e === -1) bad('unterminated processing instruction');
      i = e + 2;
    } else if (text.startsWith('<!', i)) {
      const e = text.indexOf('>', i + 2);
      if (e === -1) bad('unterminated declaration');
      i = e + 1;
    } else {
      const e = text.indexOf('>', i + 1);
      if (e === -1) bad('unterminated tag');
      const inner = text.slice(i + 1, e);
      i = e + 1;
      if (inner.startsWith('/')) {
        const name = inner.slice(1).trim();
        const top = stack.pop()!;
        if (stack.length === 0 || top.name !== name) bad(`closing </${name}> does not match <${top.name}>`);
      } else {
        const selfClose = inner.endsWith('/');
        const m = /^([A-Za-z_][\w.:-]*)(\s[^]*)?$/.exec(selfClose ? inner.slice(0, -1) : inner);
        if (!m) bad(`bad tag <${inner.slice(0, 30)}>`);
        const attrs = m![2] ?? '';
        // attributes must be name="value" / name='value' pairs
        if (attrs.trim() !== '' && !/^(\s+[A-Za-z_][\w.:-]*\s*=\s*("[^"<]*"|'[^'<]*'))*\s*$/.test(attrs)) bad(`bad attributes in <${m![1]}>`);
        if (stack.length === 1 && root.children.length > 0) bad('more than one root element');
        const node: XmlNode = { name: m![1]!, children: [], text: '' };
        stack[stack.length - 1]!.children.push(node);
        if (!selfClose) stack.push(node);
      }
    }
  }
  if (stack.length !== 1) bad(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (root.children.length !== 1) bad('no root element');
  return root.children[0]!;
}

const child = (n: XmlNode, name: string) => n.children.find((c) => c.name === name);
const childText = (n: XmlNode, name: string) => child(n, name)?.text.trim();

function num(s: string | undefined): number {
  if (s === undefined || s === '') return NaN;
  const v = Number(s);
  return Number.isFinite(v) ? v : NaN;
}

/** Parses VOC XML; throws LogolabError (naming `where`) when malformed or a required field is missing. */
export function parseVoc(text: string, where = '<xml>'): VocAnnotation {
  const root = parseXml(text, where);
  if (root.name !== 'annotation') throw new LogolabError(`${where}: malformed VOC: root element is <${root.name}>, expected <annotation>`);
  const size = child(root, 'size');
  const objects: VocObject[] = [];
  for (const o of root.children.filter((c) => c.name === 'object')) {
    const name = childText(o, 'name');
    if (!name) throw new LogolabError(`${where}: malformed VOC: <object> #${objects.length} has no <name>`);
    const bb = child(o, 'bndbox');
    if (!bb) throw new LogolabError(`${where}: malformed VOC: <object> #${objects.length} (${name}) has no <bndbox>`);
    objects.push({
      name,
      box: [num(childText(bb, 'xmin')), num(childText(bb, 'ymin')), num(childText(bb, 'xmax')), num(childText(bb, 'ymax'))],
      difficult: childText(o, 'difficult') === '1',
      truncated: childText(o, 'truncated') === '1',
    });
  }
  const opt = (s: string | undefined) => (s === undefined || s === '' ? null : num(s));
  return {
    filename: childText(root, 'filename') ?? null,
    width: size ? opt(childText(size, 'width')) : null,
    height: size ? opt(childText(size, 'height')) : null,
    depth: size ? opt(childText(size, 'depth')) : null,
    objects,
  };
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Writes VOC XML in the layout LogoDet-3K uses (integer pixel boxes). */
export function writeVoc(a: { folder: string; filename: string; width: number; height: number; depth?: number; objects: { name: string; box: [number, number, number, number]; truncated?: boolean }[] }): string {
  const lines = [
    '<annotation>',
    `\t<folder>${esc(a.folder)}</folder>`,
    `\t<filename>${esc(a.filename)}</filename>`,
    '\t<size>',
    `\t\t<width>${a.width}</width>`,
    `\t\t<height>${a.height}</height>`,
    `\t\t<depth>${a.depth ?? 3}</depth>`,
    '\t</size>',
    '\t<segmented>0</segmented>',
  ];
  for (const o of a.objects) {
    lines.push(
      '\t<object>',
      `\t\t<name>${esc(o.name)}</name>`,
      '\t\t<pose>Unspecified</pose>',
      `\t\t<truncated>${o.truncated ? 1 : 0}</truncated>`,
      '\t\t<difficult>0</difficult>',
      '\t\t<bndbox>',
      `\t\t\t<xmin>${o.box[0]}</xmin>`,
      `\t\t\t<ymin>${o.box[1]}</ymin>`,
      `\t\t\t<xmax>${o.box[2]}</xmax>`,
      `\t\t\t<ymax>${o.box[3]}</ymax>`,
      '\t\t</bndbox>',
      '\t</object>',
    );
  }
  lines.push('</annotation>', '');
  return lines.join('\n');
}
