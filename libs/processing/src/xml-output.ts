import { XMLBuilder, XMLParser } from 'fast-xml-parser';

/**
 * The validated JSON as XML that round-trips: each value's JSON type travels in a `type`
 * attribute, arrays hold `item` elements, and a key that is not a valid XML name becomes
 * `<property name="...">`. Built and parsed with fast-xml-parser (escaping is its job).
 */
const NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;
const ATTR = '@_';
const TEXT = '#text';

type XmlNode = Record<string, unknown>;

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  textNodeName: TEXT,
  format: false,
  suppressEmptyNode: true,
});
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  textNodeName: TEXT,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Every element below the root may repeat; attributes never do.
  isArray: (_name, jpath, _isLeaf, isAttribute) => !isAttribute && String(jpath).includes('.'),
});

export function toXml(value: unknown, rootName = 'response'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>${builder.build({ [rootName]: encode(value) })}`;
}

export function fromXml(xml: string, rootName = 'response'): unknown {
  const document = parser.parse(xml) as Record<string, XmlNode>;
  return decode(document[rootName] ?? {});
}

function encode(value: unknown): XmlNode {
  if (value === null) return { [`${ATTR}type`]: 'null' };
  if (Array.isArray(value)) return { [`${ATTR}type`]: 'array', item: value.map(encode) };
  if (typeof value === 'object') {
    const node: XmlNode = { [`${ATTR}type`]: 'object' };
    const odd: XmlNode[] = [];
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if (NAME.test(key) && !key.toLowerCase().startsWith('xml') && key !== 'property')
        node[key] = encode(child);
      else odd.push({ ...encode(child), [`${ATTR}name`]: key });
    }
    if (odd.length > 0) node.property = odd;
    return node;
  }
  return { [`${ATTR}type`]: typeof value, [TEXT]: String(value) };
}

function decode(node: XmlNode): unknown {
  const type = node[`${ATTR}type`];
  const text = String(node[TEXT] ?? '');
  switch (type) {
    case 'null':
      return null;
    case 'number':
      return Number(text);
    case 'boolean':
      return text === 'true';
    case 'string':
      return text;
    case 'array':
      return ((node.item as XmlNode[] | undefined) ?? []).map(decode);
    default: {
      const result: Record<string, unknown> = {};
      for (const [key, children] of Object.entries(node)) {
        if (key.startsWith(ATTR) || key === TEXT) continue;
        for (const child of children as XmlNode[]) {
          const name = key === 'property' ? String(child[`${ATTR}name`]) : key;
          result[name] = decode(child);
        }
      }
      return result;
    }
  }
}
