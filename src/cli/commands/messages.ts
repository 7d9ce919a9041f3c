/**
 * `sluice send` and `sluice receive`: put messages on a queue (one, or every line of a file in batches
 * of ten with a progress bar) and take them off (optionally deleting them).
 */
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { InvalidArgumentError, type Command } from 'commander';
import { segment } from '../http-client.js';
import { action, collect, commandContext, integerOption, type CommandContext } from '../context.js';
import { createProgress } from '../progress.js';
import { formatTable } from '../table.js';

interface SendOptions {
  file?: string;
  attribute?: string[];
  group?: string;
  dedup?: string;
  delay?: number;
  concurrency: number;
}

interface BatchResult {
  successful: Array<{ id: string; messageId: string }>;
  failed: Array<{ id: string; code: string; message: string }>;
}

/** `name=value` (String), `name:Number=42` or `name:Binary=<base64>`. */
export function parseMessageAttribute(text: string): [string, { dataType: string; stringValue?: string; binaryValue?: string }] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`--attribute: expected name=value or name:Type=value, got '${text}'`);
  const [name, dataType = 'String'] = text.slice(0, eq).split(':', 2) as [string, string?];
  const value = text.slice(eq + 1);
  return [name, dataType.startsWith('Binary') ? { dataType, binaryValue: value } : { dataType, stringValue: value }];
}

function messageFields(options: SendOptions) {
  const attributes = Object.fromEntries((options.attribute ?? []).map(parseMessageAttribute));
  return {
    ...(Object.keys(attributes).length > 0 ? { messageAttributes: attributes } : {}),
    ...(options.group ? { messageGroupId: options.group } : {}),
    ...(options.dedup ? { messageDeduplicationId: options.dedup } : {}),
    ...(options.delay !== undefined ? { delaySeconds: options.delay } : {}),
  };
}

async function readLines(file: string): Promise<string[]> {
  if (file !== '-' && !existsSync(file)) throw new Error(`--file: ${file} does not exist`);
  const lines: string[] = [];
  const input = createInterface({ input: file === '-' ? process.stdin : createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of input) if (line.trim() !== '') lines.push(line);
  return lines;
}

async function sendFile(context: CommandContext, queue: string, options: SendOptions & { file: string }): Promise<void> {
  const bodies = await readLines(options.file);
  // One deduplication id cannot serve every line of a file.
  const { dedup: _oneId, ...perLine } = options;
  const fields = messageFields(perLine);
  const batches: string[][] = [];
  for (let i = 0; i < bodies.length; i += 10) batches.push(bodies.slice(i, i + 10));
  const progress = createProgress({ label: `send ${queue}`, total: bodies.length });
  let sent = 0;
  const failures: BatchResult['failed'] = [];
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const index = next++;
      const entries = batches[index]!.map((body, i) => ({
        id: `m${index * 10 + i}`,
        body,
        ...fields,
        // With --file, --dedup is a prefix: line n gets `<prefix>-<n>`, so lines do not deduplicate each other.
        ...(options.dedup ? { messageDeduplicationId: `${options.dedup}-${index * 10 + i}` } : {}),
      }));
      const result = await context.client.post<BatchResult>(`/v1/queues/${segment(queue)}/messages/batch`, { entries });
      sent += result.successful.length;
      failures.push(...result.failed);
      progress.update(sent + failures.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, batches.length) }, worker));
  const summary = `sent ${sent} of ${bodies.length} messages to ${queue}${failures.length ? `, ${failures.length} failed (first: ${failures[0]!.code}: ${failures[0]!.message})` : ''}`;
  progress.finish('');
  context.print({ sent, failed: failures }, () => summary);
  if (failures.length > 0) process.exitCode = 1;
}

export function registerMessages(program: Command): void {
  program
    .command('send <queue> [body]')
    .description('Send one message, or every line of a file (--file, "-" for stdin) in batches of 10.')
    .option('-f, --file <path>', 'send each non-empty line as a message')
    .option('-a, --attribute <name[:Type]=value>', 'a message attribute, repeatable (Type: String, Number, Binary)', (value: string, previous: string[] = []) => {
      parseMessageAttribute(value);
      return collect(value, previous);
    })
    .option('-g, --group <id>', 'MessageGroupId (FIFO queues)')
    .option('-d, --dedup <id>', 'MessageDeduplicationId (FIFO queues without content-based deduplication; a prefix with --file)')
    .option('--delay <seconds>', 'DelaySeconds, 0-900 (standard queues)', integerOption('--delay', 0, 900))
    .option('--concurrency <n>', 'batches in flight at once with --file', integerOption('--concurrency', 1, 64), 4)
    .action(
      action(async (queue: string, body: string | undefined, options: SendOptions, command: Command) => {
        const context = commandContext(command);
        if (options.file !== undefined) return sendFile(context, queue, { ...options, file: options.file });
        if (body === undefined) throw new Error('give a message body, or --file <path>');
        const result = await context.client.post<{ messageId: string; sequenceNumber?: string }>(`/v1/queues/${segment(queue)}/messages`, {
          body,
          ...messageFields(options),
        });
        context.print(result, () => `sent ${result.messageId}${result.sequenceNumber ? ` (sequence ${result.sequenceNumber})` : ''}`);
      }),
    );

  program
    .command('receive <queue>')
    .description('Receive up to --max messages, waiting up to --wait seconds; --delete acknowledges them.')
    .option('-n, --max <n>', 'messages to receive, 1-10', integerOption('--max', 1, 10), 10)
    .option('-w, --wait <seconds>', 'long-poll up to this many seconds, 0-20', integerOption('--wait', 0, 20), 0)
    .option('--visibility <seconds>', 'visibility timeout for the received messages', integerOption('--visibility', 0, 43_200))
    .option('--delete', 'delete the messages once received')
    .action(
      action(async (queue: string, options: { max: number; wait: number; visibility?: number; delete?: boolean }, command: Command) => {
        const context = commandContext(command);
        const base = `/v1/queues/${segment(queue)}/messages`;
        const { messages } = await context.client.post<{
          messages: Array<{ messageId: string; receiptHandle: string; body: string; attributes: Record<string, string>; messageAttributes: Record<string, unknown> }>;
        }>(`${base}/receive`, {
          maxNumberOfMessages: options.max,
          waitTimeSeconds: options.wait,
          ...(options.visibility !== undefined ? { visibilityTimeout: options.visibility } : {}),
        });
        if (options.delete && messages.length > 0) {
          const result = await context.client.post<BatchResult>(`${base}/delete-batch`, {
            entries: messages.map((message, i) => ({ id: `d${i}`, receiptHandle: message.receiptHandle })),
          });
          if (result.failed.length > 0) throw new Error(`${result.failed.length} message(s) could not be deleted: ${result.failed[0]!.message}`);
        }
        context.print({ messages }, () =>
          formatTable(messages, [
            { header: 'message id', value: (m) => m.messageId, max: 36 },
            { header: 'receives', value: (m) => Number(m.attributes.ApproximateReceiveCount ?? 0) },
            { header: 'body', value: (m) => m.body, max: 80 },
          ]),
        );
      }),
    );
}
