/**
 * A queue's grouping rule: which part of a message names its task group. Stored in the queue's settings
 * as `SluiceGroupKey` (a Sluice extension of SQS's attributes) and applied when a message is sent, so a
 * claim finds a group's messages by an indexed column instead of reading bodies.
 *
 * - `MessageGroupId`: the message's MessageGroupId, as SQS fair queues group a standard queue;
 * - `attribute:<name>`: the string (or number, or base64 binary) value of a message attribute;
 * - `body:<dot.path>`: a string, number or boolean at a path of a JSON body (`body:tenant.id`).
 *
 * A message without the key (no MessageGroupId, no such attribute, a body that is not JSON or lacks the
 * path, a value longer than 256 characters) joins the default group, whose key is the empty string.
 */
import { invalidValue } from '../model/errors.js';
import type { StoredMessageAttributes } from '../queues/message-attributes.js';
import { groupLimitBounds } from './types.js';

export type GroupKeyRule =
  { kind: 'messageGroupId' } | { kind: 'attribute'; name: string } | { kind: 'body'; path: string[] };

/** The group of messages that carry no key. */
export const defaultGroupKey = '';

const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const PATH_SEGMENT = /^[^.]{1,255}$/;

/** Parses and checks a rule; `field` names the setting in the error. */
export function parseGroupKeyRule(text: unknown, field = 'SluiceGroupKey'): GroupKeyRule {
  const shape = "must be 'MessageGroupId', 'attribute:<name>' or 'body:<dot.path>'";
  if (typeof text !== 'string') throw invalidValue(field, `${JSON.stringify(text)} is invalid; ${shape}`);
  if (text === 'MessageGroupId') return { kind: 'messageGroupId' };
  if (text.startsWith('attribute:')) {
    const name = text.slice('attribute:'.length);
    if (!ATTRIBUTE_NAME.test(name)) {
      throw invalidValue(
        field,
        `'${text}' names no valid message attribute (1-256 letters, digits, '_', '-', '.')`,
      );
    }
    return { kind: 'attribute', name };
  }
  if (text.startsWith('body:')) {
    const path = text.slice('body:'.length).split('.');
    if (path.length > 32 || !path.every((segment) => PATH_SEGMENT.test(segment))) {
      throw invalidValue(field, `'${text}' is not a dot path of 1-32 non-empty names into a JSON body`);
    }
    return { kind: 'body', path };
  }
  throw invalidValue(field, `'${text.slice(0, 100)}' is invalid; ${shape}`);
}

export function formatGroupKeyRule(rule: GroupKeyRule): string {
  switch (rule.kind) {
    case 'messageGroupId':
      return 'MessageGroupId';
    case 'attribute':
      return `attribute:${rule.name}`;
    case 'body':
      return `body:${rule.path.join('.')}`;
  }
}

/** The parts of a message a rule may read, as the store keeps them. */
export interface KeyedMessage {
  groupId: string | null;
  /** JSON of the stored attributes, or null. */
  messageAttributes: string | null;
  body: string;
}

const parsedRules = new Map<string, GroupKeyRule>();

/** The group key of a message under a rule given as text (parsed once per distinct text). */
export function groupKeyOf(ruleText: string, message: KeyedMessage): string {
  let rule = parsedRules.get(ruleText);
  if (!rule) {
    rule = parseGroupKeyRule(ruleText);
    if (parsedRules.size > 1000) parsedRules.clear();
    parsedRules.set(ruleText, rule);
  }
  const key = rawKey(rule, message);
  return key === undefined || key.length > groupLimitBounds.maxKeyLength ? defaultGroupKey : key;
}

function rawKey(rule: GroupKeyRule, message: KeyedMessage): string | undefined {
  switch (rule.kind) {
    case 'messageGroupId':
      return message.groupId ?? undefined;
    case 'attribute': {
      if (message.messageAttributes === null) return undefined;
      const attributes = JSON.parse(message.messageAttributes) as StoredMessageAttributes;
      const attribute = Object.hasOwn(attributes, rule.name) ? attributes[rule.name] : undefined;
      return attribute?.stringValue ?? attribute?.binaryValue;
    }
    case 'body': {
      let value: unknown;
      try {
        value = JSON.parse(message.body);
      } catch {
        return undefined;
      }
      for (const segment of rule.path) {
        if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) return undefined;
        value = (value as Record<string, unknown>)[segment];
      }
      return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : undefined;
    }
  }
}
