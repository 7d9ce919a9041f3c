/**
 * Just enough XML for the AWS query protocol's responses: elements with escaped text, no attributes
 * but the namespace on the root. Carriage returns are written as character references so an XML
 * parser does not normalise them away from a message body.
 */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#xD;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (char) => ESCAPES[char]!);
}

export function element(name: string, content: string): string {
  return `<${name}>${content}</${name}>`;
}

export function textElement(name: string, value: string | number | boolean): string {
  return element(name, escapeXml(String(value)));
}
