/**
 * What the server holds as a running activity's last heartbeat details: its pending activity, described. An apply
 * reads it to know that its "deploy started" beat has arrived before it deploys (activities/heartbeat.ts).
 */
import type { Info } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';

export type HeartbeatReceipts = (info: Info) => Promise<unknown>;

export function serverHeartbeatReceipts(client: Client): HeartbeatReceipts {
  return async (info) => {
    if (!info.workflowExecution) return undefined;
    const { pendingActivities } = await client.workflowService.describeWorkflowExecution({
      namespace: info.workflowNamespace,
      execution: { workflowId: info.workflowExecution.workflowId, runId: info.workflowExecution.runId },
    });
    const payload = pendingActivities?.find((a) => a.activityId === info.activityId)?.heartbeatDetails
      ?.payloads?.[0];
    return payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
  };
}
