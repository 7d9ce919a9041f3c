/** Sluice names resources with AWS-shaped ARNs so handlers and clients that parse them keep working. */
export interface ArnContext {
  region: string;
  accountId: string;
}

export const defaultArnContext: ArnContext = { region: 'us-east-1', accountId: '000000000000' };

export function queueArn(ctx: ArnContext, queueName: string): string {
  return `arn:aws:sqs:${ctx.region}:${ctx.accountId}:${queueName}`;
}

export function functionArn(ctx: ArnContext, functionName: string): string {
  return `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${functionName}`;
}

export function tableArn(ctx: ArnContext, tableName: string): string {
  return `arn:aws:dynamodb:${ctx.region}:${ctx.accountId}:table/${tableName}`;
}

/** Parses `arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE`; undefined when the text is not an ARN. */
export function parseArn(arn: string): { service: string; region: string; accountId: string; resource: string } | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const [, , service, region, accountId, ...rest] = parts;
  if (!service || region === undefined || accountId === undefined) return undefined;
  return { service, region, accountId, resource: rest.join(':') };
}
