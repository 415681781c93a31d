/**
 * The metrics activities record: how long each Toolkit command took and how it ended, and what the alert channels
 * accepted or refused. Recorded through the running activity's metric meter, so each series also carries the
 * SDK's `namespace`, `taskQueue` and `activityType` labels; without metrics configured the meter records nothing.
 */
import { Context } from '@temporalio/activity';
import { noopMetricMeter, type MetricMeter } from '@temporalio/common';
import {
  ALERTS_FAILED_METRIC,
  ALERTS_SENT_METRIC,
  TOOLKIT_COMMAND_METRIC,
  type AlertMessageKind,
  type ToolkitResult,
} from '../contracts/metrics';

export interface ActivityMetrics {
  toolkitCommand(command: string, result: ToolkitResult, seconds: number): void;
  alertDelivery(channelType: string, message: AlertMessageKind, delivered: boolean): void;
}

/** The running activity's meter; `outside` when called outside an activity (unit tests of the runner). */
function currentMeter(outside: MetricMeter): MetricMeter {
  try {
    return Context.current().metricMeter;
  } catch {
    return outside;
  }
}

export function createActivityMetrics(outside: MetricMeter = noopMetricMeter): ActivityMetrics {
  // A metric that cannot be recorded must never fail the deploy or the alert it describes.
  const safely = (record: (meter: MetricMeter) => void): void => {
    try {
      record(currentMeter(outside));
    } catch {
      // Nothing to do: the next scrape simply lacks this one value.
    }
  };
  return {
    toolkitCommand(command, result, seconds) {
      safely((meter) =>
        meter
          .createHistogram(TOOLKIT_COMMAND_METRIC.name, 'float', 's', TOOLKIT_COMMAND_METRIC.help)
          .record(Math.max(seconds, 0), { command, result }),
      );
    },
    alertDelivery(channelType, message, delivered) {
      const metric = delivered ? ALERTS_SENT_METRIC : ALERTS_FAILED_METRIC;
      safely((meter) =>
        meter
          .createCounter(metric.name, undefined, metric.help)
          .add(1, { channel_type: channelType, message }),
      );
    },
  };
}
