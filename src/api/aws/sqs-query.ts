/**
 * SQS's query protocol, spoken by older SDKs and CLIs: form-encoded `Action=SendMessage&...` in, XML out.
 * Requests are decoded into the JSON protocol's input shapes (flattened lists `AttributeName.1`, maps
 * `Attribute.1.Name` / `Attribute.1.Value`, batch entries `SendMessageBatchRequestEntry.1.Id`) and
 * results encoded from the JSON output shapes, so the operations themselves are shared.
 */
import { isUtf8 } from 'node:buffer';
import { errorCatalog, SluiceError } from '../../model/errors.js';
import { element, escapeXml, textElement } from './xml.js';

export const SQS_XML_NAMESPACE = 'http://queue.amazonaws.com/doc/2012-11-05/';

type Params = ReadonlyMap<string, string>;

/** Integer-typed members, converted from text when they look like integers (zod reports the rest). */
const INTEGER_MEMBERS = new Set([
  'DelaySeconds', 'MaxResults', 'MaxNumberOfMessages', 'VisibilityTimeout', 'WaitTimeSeconds', 'MaxNumberOfMessagesPerSecond',
]);

function scalar(name: string, value: string): string | number {
  return INTEGER_MEMBERS.has(name) && /^-?\d{1,15}$/.test(value) ? Number(value) : value;
}

/**
 * Objects the decoder builds from client-chosen names have no prototype: a name such as `__proto__` or
 * `constructor` becomes an ordinary member (that validation then judges) instead of reaching
 * Object.prototype.
 */
function record<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The numbered children of `prefix`: `prefix.1...`, `prefix.2...` in index order. */
function indexes(params: Params, prefix: string): number[] {
  const found = new Set<number>();
  const pattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d{1,4})(\\.|$)`);
  for (const key of params.keys()) {
    const match = pattern.exec(key);
    if (match) found.add(Number(match[1]));
  }
  return [...found].sort((a, b) => a - b);
}

function list(params: Params, prefix: string): string[] | undefined {
  const found = indexes(params, prefix).map((i) => params.get(`${prefix}.${i}`)).filter((v): v is string => v !== undefined);
  return found.length > 0 ? found : undefined;
}

function map(params: Params, prefix: string, keyName: string, valueName: string): Record<string, string> | undefined {
  const result = record<string>();
  for (const i of indexes(params, prefix)) {
    const key = params.get(`${prefix}.${i}.${keyName}`);
    if (key !== undefined) result[key] = params.get(`${prefix}.${i}.${valueName}`) ?? '';
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

function messageAttributes(params: Params, prefix: string): Record<string, Record<string, string>> | undefined {
  const result = record<Record<string, string>>();
  for (const i of indexes(params, prefix)) {
    const name = params.get(`${prefix}.${i}.Name`);
    if (name === undefined) continue;
    const value = record<string>();
    for (const member of ['DataType', 'StringValue', 'BinaryValue']) {
      const text = params.get(`${prefix}.${i}.Value.${member}`);
      if (text !== undefined) value[member] = text;
    }
    result[name] = value;
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

const SCALARS = [
  'QueueUrl', 'QueueName', 'QueueOwnerAWSAccountId', 'QueueNamePrefix', 'NextToken', 'MaxResults', 'MessageBody',
  'DelaySeconds', 'MessageDeduplicationId', 'MessageGroupId', 'MaxNumberOfMessages', 'VisibilityTimeout', 'WaitTimeSeconds',
  'ReceiveRequestAttemptId', 'ReceiptHandle', 'SourceArn', 'DestinationArn', 'MaxNumberOfMessagesPerSecond', 'TaskHandle',
];

// Maps, not object literals: the action comes from the client, and `Action=constructor` must find nothing.
const ENTRY_PREFIX: ReadonlyMap<string, string> = new Map([
  ['SendMessageBatch', 'SendMessageBatchRequestEntry'],
  ['DeleteMessageBatch', 'DeleteMessageBatchRequestEntry'],
  ['ChangeMessageVisibilityBatch', 'ChangeMessageVisibilityBatchRequestEntry'],
]);

function members(params: Params, prefix: string): Record<string, unknown> {
  const at = (name: string) => (prefix ? `${prefix}.${name}` : name);
  const input = record<unknown>();
  for (const name of [...SCALARS, 'Id']) {
    const value = params.get(at(name));
    if (value !== undefined) input[name] = scalar(name, value);
  }
  const attributes = messageAttributes(params, at('MessageAttribute'));
  if (attributes) input.MessageAttributes = attributes;
  const systemAttributes = messageAttributes(params, at('MessageSystemAttribute'));
  if (systemAttributes) input.MessageSystemAttributes = systemAttributes;
  return input;
}

/** The operation's input in the JSON protocol's shape. */
export function decodeQueryInput(action: string, params: Params): Record<string, unknown> {
  const input = members(params, '');
  const attributeNames = list(params, 'AttributeName');
  if (attributeNames) input.AttributeNames = attributeNames;
  const systemNames = list(params, 'MessageSystemAttributeName');
  if (systemNames) input.MessageSystemAttributeNames = systemNames;
  const attributeMessageNames = list(params, 'MessageAttributeName');
  if (attributeMessageNames) input.MessageAttributeNames = attributeMessageNames;
  const tagKeys = list(params, 'TagKey');
  if (tagKeys) input.TagKeys = tagKeys;
  const attributes = map(params, 'Attribute', 'Name', 'Value');
  if (attributes) input.Attributes = attributes;
  const tags = map(params, 'Tag', 'Key', 'Value');
  // CreateQueue names its tags `tags`; TagQueue `Tags`.
  if (tags) input[action === 'CreateQueue' ? 'tags' : 'Tags'] = tags;
  const entryPrefix = ENTRY_PREFIX.get(action);
  if (entryPrefix) input.Entries = indexes(params, entryPrefix).map((i) => members(params, `${entryPrefix}.${i}`));
  return input;
}

/** Element names of list members and of map entries in query-protocol results. */
const LIST_MEMBER: ReadonlyMap<string, string> = new Map([
  ['QueueUrls', 'QueueUrl'],
  ['queueUrls', 'QueueUrl'],
  ['Messages', 'Message'],
  ['Results', 'ListMessageMoveTasksResultEntry'],
  ['Failed', 'BatchResultErrorEntry'],
]);
const SUCCESS_ENTRY: ReadonlyMap<string, string> = new Map([
  ['SendMessageBatch', 'SendMessageBatchResultEntry'],
  ['DeleteMessageBatch', 'DeleteMessageBatchResultEntry'],
  ['ChangeMessageVisibilityBatch', 'ChangeMessageVisibilityBatchResultEntry'],
]);

/** The operations whose query-protocol response has a `<Action>Result` element (those with an output shape). */
const WITH_RESULT: ReadonlySet<string> = new Set([
  'CreateQueue', 'GetQueueUrl', 'ListQueues', 'GetQueueAttributes', 'SendMessage', 'SendMessageBatch', 'ReceiveMessage',
  'DeleteMessageBatch', 'ChangeMessageVisibilityBatch', 'ListDeadLetterSourceQueues', 'ListQueueTags',
  'StartMessageMoveTask', 'CancelMessageMoveTask', 'ListMessageMoveTasks',
]);

function encodeValue(name: string, value: unknown, action: string): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    const member = name === 'Successful' ? (SUCCESS_ENTRY.get(action) ?? 'Entry') : (LIST_MEMBER.get(name) ?? name);
    return value.map((item) => encodeValue(member, item, action)).join('');
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (name === 'Attributes') return entries.map(([k, v]) => element('Attribute', textElement('Name', k) + textElement('Value', String(v)))).join('');
    if (name === 'Tags') return entries.map(([k, v]) => element('Tag', textElement('Key', k) + textElement('Value', String(v)))).join('');
    if (name === 'MessageAttributes') {
      return entries.map(([k, v]) => element('MessageAttribute', textElement('Name', k) + encodeValue('Value', v, action))).join('');
    }
    return element(name, entries.map(([k, v]) => encodeValue(k, v, action)).join(''));
  }
  return textElement(name, value as string | number | boolean);
}

export function encodeQueryResult(action: string, output: object, requestId: string): string {
  const body = Object.entries(output)
    .map(([name, value]) => encodeValue(name, value, action))
    .join('');
  // An operation with an output shape always carries its result element, empty (`<ReceiveMessageResult/>`)
  // when there is nothing in it, as SQS does: the AWS CLI v2.9 and boto3 < 1.31 fail without it. Operations
  // without output (DeleteMessage, TagQueue, ...) have none.
  const result = body !== '' ? element(`${action}Result`, body) : WITH_RESULT.has(action) ? `<${action}Result/>` : '';
  return (
    `<?xml version="1.0"?><${action}Response xmlns="${SQS_XML_NAMESPACE}">${result}` +
    `${element('ResponseMetadata', textElement('RequestId', requestId))}</${action}Response>`
  );
}

export function encodeQueryError(error: SluiceError, requestId: string): { status: number; body: string } {
  const entry: { status: number; sender: boolean; legacy?: string } = errorCatalog[error.code];
  const inner =
    textElement('Type', entry.sender ? 'Sender' : 'Receiver') +
    textElement('Code', entry.legacy ?? error.code) +
    textElement('Message', error.message) +
    '<Detail/>';
  return {
    status: entry.status,
    body: `<?xml version="1.0"?><ErrorResponse xmlns="${SQS_XML_NAMESPACE}">${element('Error', inner)}${textElement('RequestId', requestId)}</ErrorResponse>`,
  };
}

/** Form body and URL query together, as the query protocol allows either. */
export function queryParams(rawUrl: string, body: Buffer | undefined): Map<string, string> {
  const params = new Map<string, string>();
  const mark = rawUrl.indexOf('?');
  // Node hands over the request target as one byte per character; latin1 gives the bytes back.
  if (mark >= 0) parseForm(Buffer.from(rawUrl.slice(mark + 1), 'latin1'), params);
  if (body !== undefined && body.length > 0) parseForm(body, params);
  return params;
}

const AMPERSAND = 0x26;
const EQUALS = 0x3d;
const PLUS = 0x2b;
const PERCENT = 0x25;

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/**
 * `application/x-www-form-urlencoded` as URLSearchParams reads it, except that bytes which are not UTF-8
 * (raw, or percent-encoded such as `%ED%A0%80`) are refused instead of becoming U+FFFD: a message body
 * must arrive as sent or not at all.
 */
function parseForm(bytes: Buffer, into: Map<string, string>): void {
  let start = 0;
  while (start <= bytes.length) {
    let end = bytes.indexOf(AMPERSAND, start);
    if (end < 0) end = bytes.length;
    if (end > start) {
      const eq = bytes.indexOf(EQUALS, start);
      const split = eq >= 0 && eq < end ? eq : end;
      const name = decodeComponent(bytes, start, split, undefined);
      into.set(name, decodeComponent(bytes, Math.min(split + 1, end), end, name));
    }
    start = end + 1;
  }
}

function decodeComponent(bytes: Buffer, start: number, end: number, name: string | undefined): string {
  const out = Buffer.allocUnsafe(end - start);
  let length = 0;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    if (byte === PLUS) {
      out[length++] = 0x20;
    } else if (byte === PERCENT && i + 2 < end && hexValue(bytes[i + 1]) >= 0 && hexValue(bytes[i + 2]) >= 0) {
      out[length++] = hexValue(bytes[i + 1]) * 16 + hexValue(bytes[i + 2]);
      i += 2;
    } else {
      out[length++] = byte;
    }
  }
  const decoded = out.subarray(0, length);
  if (!isUtf8(decoded)) throw invalidUtf8(name);
  return decoded.toString('utf8');
}

function invalidUtf8(name: string | undefined): SluiceError {
  if (name === undefined) {
    return new SluiceError('InvalidParameterValue', 'A parameter name is not valid UTF-8', { field: 'body' });
  }
  const field = name.slice(0, 200);
  // SQS answers InvalidMessageContents for message contents (bodies and attribute values).
  const contents = /(^|\.)(MessageBody|StringValue)$/.test(name);
  return new SluiceError(
    contents ? 'InvalidMessageContents' : 'InvalidParameterValue',
    `${field}: is not valid UTF-8 (percent-encoded or raw bytes that do not form UTF-8 characters)`,
    { field },
  );
}

export { escapeXml };
