/**
 * Counts what the alert channels accept and refuse (cdf_promote_alerts_sent_total, cdf_promote_alerts_failed_total)
 * around any AlertSender, by channel type, so every channel kind is counted the same way without each knowing.
 */
import type { AlertMessageKind } from '../../contracts/metrics';
import type { ActivityMetrics } from '../metrics';
import type { AlertSender } from './alert-channels';

export function meteredAlertSender(
  inner: AlertSender,
  metrics: Pick<ActivityMetrics, 'alertDelivery'>,
): AlertSender {
  const counted = async (
    type: string,
    message: AlertMessageKind,
    deliver: () => Promise<void>,
  ): Promise<void> => {
    try {
      await deliver();
    } catch (err) {
      metrics.alertDelivery(type, message, false);
      throw err;
    }
    metrics.alertDelivery(type, message, true);
  };
  return {
    send: (channel, alert) => counted(channel.type, 'alert', () => inner.send(channel, alert)),
    notify: (channel, notice) => counted(channel.type, 'notice', () => inner.notify(channel, notice)),
    resolve: (channel, resolution) =>
      counted(channel.type, 'resolve', () => inner.resolve(channel, resolution)),
  };
}
