/**
 * Microsoft Teams: an Adaptive Card message, which both incoming webhooks and Workflows (Power Automate) webhooks
 * post to a channel.
 *
 * What a requester or a tool controls (reason, failure text, ref, workflow id, names) must not become a link or a
 * mention, as in Slack. Teams renders a Markdown subset, links included, in TextBlock and FactSet; it renders
 * TextRun text as it is ("Markdown is not supported", Adaptive Cards schema). So every text on these cards is a
 * TextRun inside a RichTextBlock, and the one link is ours: the action that opens the run. Mentions need an
 * `msteams.entities` entry besides the `<at>` text, and these cards have none.
 */
import type { AlertMessage, NoticeMessage } from './alert-channels';
import { clip } from './clip';

/** Teams refuses messages over about 28 KB: each text is held well under that. */
const TEXT_MAX = 2000;
const MAX_CHECKS = 10;

interface TextRun {
  type: 'TextRun';
  text: string;
  weight?: 'Bolder';
  size?: 'Large';
  color?: 'Attention' | 'Warning';
  fontType?: 'Monospace';
}

type RunStyle = Omit<TextRun, 'type' | 'text'>;

const run = (text: string, style: RunStyle = {}): TextRun => ({ type: 'TextRun', text, ...style });

/** One paragraph of plain text runs. */
const paragraph = (...inlines: TextRun[]) => ({ type: 'RichTextBlock', inlines });

/** `Label: value`, the label in bold; the value as it is. */
const field = (label: string, value: string) =>
  paragraph(run(`${label}: `, { weight: 'Bolder' }), run(clip(value, TEXT_MAX)));

function message(
  title: string,
  color: TextRun['color'],
  body: object[],
  runUrl: string,
): Record<string, unknown> {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [paragraph(run(title, { size: 'Large', weight: 'Bolder', color })), ...body],
          actions: [{ type: 'Action.OpenUrl', title: 'Open the run in Temporal', url: runUrl }],
        },
      },
    ],
  };
}

/** A failed run (or one cancelled while it touched CDF). */
export function teamsPayload(m: AlertMessage): Record<string, unknown> {
  const checks = m.failedChecks ?? [];
  const body = [
    field('Environment', m.environment),
    field('Outcome', m.outcome),
    field('Commit', m.commit ? m.commit.slice(0, 12) : '(not resolved)'),
    field('Plan', m.planHash ? m.planHash.slice(0, 12) : '(none)'),
    field('Requested by', m.requestedBy),
    ...(m.rollbackWorkflowId ? [field('Automatic rollback', m.rollbackWorkflowId)] : []),
    ...(m.triggeredBy ? [field('Rollback after', m.triggeredBy)] : []),
    field('What failed', m.failure),
    ...checks.slice(0, MAX_CHECKS).map((c) => field(`Failed check ${c.name}`, c.detail)),
    ...(checks.length > MAX_CHECKS
      ? [paragraph(run(`and ${checks.length - MAX_CHECKS} more failed checks (in the run)`))]
      : []),
  ];
  return message(m.title, 'Attention', body, m.runUrl);
}

/** "Approval needed" and reminders, with the command that approves this plan. */
export function teamsNoticePayload(n: NoticeMessage): Record<string, unknown> {
  const t = n.planSummary.totals;
  const body = [
    field('Environment', n.environment),
    field('Ref', n.ref),
    field('Commit', n.commit ? n.commit.slice(0, 12) : '(not resolved)'),
    field('Requested by', n.requestedBy),
    ...(n.reason ? [field('Reason', n.reason)] : []),
    field(
      'Plan',
      `${n.planHash}: ${t.create} to create, ${t.update} to update, ${t.delete} to delete, ${t.unchanged} unchanged`,
    ),
    field(
      'Approvals',
      `${n.approvals} of ${n.requiredApprovals}; waiting for ${n.waitingFor.join(', ') || 'nobody'}; expires ${n.approvalDeadline}`,
    ),
    paragraph(run('Approve after reading the plan:', { weight: 'Bolder' })),
    paragraph(run(clip(n.commands.approve, TEXT_MAX), { fontType: 'Monospace' })),
  ];
  return message(n.title, 'Warning', body, n.runUrl);
}
