/**
 * SQS's query protocol, spoken by older SDKs and CLIs: form-encoded `Action=SendMessage&...` in, XML out.
 * Requests are decoded into the JSON protocol's input shapes (flattened lists `AttributeName.1`, maps
 * `Attribute.1.Name` / `Attribute.1.Value`, batch entries `SendMessageBatchRequestEntry.1.Id`) and
 * results encoded from the JSON output shapes, so the operations themselves are shared.
 */
import { errorCatalog, type SluiceError } from '../../model/errors.js';
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
  const result: Record<string, string> = {};
  for (const i of indexes(params, prefix)) {
    const key = params.get(`${prefix}.${i}.${keyName}`);
    if (key !== undefined) result[key] = params.get(`${prefix}.${i}.${valueName}`) ?? '';
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

function messageAttributes(params: Params, prefix: string): Record<string, Record<string, string>> | undefined {
  const result: Record<string, Record<string, string>> = {};
  for (const i of indexes(params, prefix)) {
    const name = params.get(`${prefix}.${i}.Name`);
    if (name === undefined) continue;
    const value: Record<string, string> = {};
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

const ENTRY_PREFIX: Record<string, string> = {
  SendMessageBatch: 'SendMessageBatchRequestEntry',
  DeleteMessageBatch: 'DeleteMessageBatchRequestEntry',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibilityBatchRequestEntry',
};

function members(params: Params, prefix: string): Record<string, unknown> {
  const at = (name: string) => (prefix ? `${prefix}.${name}` : name);
  const input: Record<string, unknown> = {};
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
  const entryPrefix = ENTRY_PREFIX[action];
  if (entryPrefix) input.Entries = indexes(params, entryPrefix).map((i) => members(params, `${entryPrefix}.${i}`));
  return input;
}

/** Element names of list members and of map entries in query-protocol results. */
const LIST_MEMBER: Record<string, string> = {
  QueueUrls: 'QueueUrl',
  queueUrls: 'QueueUrl',
  Messages: 'Message',
  Results: 'ListMessageMoveTasksResultEntry',
  Failed: 'BatchResultErrorEntry',
};
const SUCCESS_ENTRY: Record<string, string> = {
  SendMessageBatch: 'SendMessageBatchResultEntry',
  DeleteMessageBatch: 'DeleteMessageBatchResultEntry',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibilityBatchResultEntry',
};

function encodeValue(name: string, value: unknown, action: string): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    const member = name === 'Successful' ? SUCCESS_ENTRY[action] ?? 'Entry' : LIST_MEMBER[name] ?? name;
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
  const result = body === '' ? '' : element(`${action}Result`, body);
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
  const sources = [mark >= 0 ? rawUrl.slice(mark + 1) : '', body?.toString('utf8') ?? ''];
  for (const source of sources) for (const [key, value] of new URLSearchParams(source)) params.set(key, value);
  return params;
}

export { escapeXml };
