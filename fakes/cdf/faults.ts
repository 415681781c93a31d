import { z } from 'zod';
import { badRequest } from './api-error';

export const faultSpecSchema = z.object({
  method: z.string().min(1).optional(),
  pathPattern: z.string(),
  status: z.number().int().min(100).max(599).optional(),
  count: z.number().int().min(-1).optional(),
  latencyMs: z.number().min(0).optional(),
  hang: z.boolean().optional(),
  retryAfterSeconds: z.number().min(0).optional(),
});

export type FaultSpec = z.infer<typeof faultSpecSchema>;

export interface Fault extends FaultSpec {
  id: string;
  /** Remaining matching requests this fault affects; -1 means forever. */
  remaining: number;
}

/** What the server must do with a request a fault matched. */
export interface FaultAction {
  faultId: string;
  latencyMs: number;
  hang: boolean;
  status?: number;
  retryAfterSeconds?: number;
}

export class FaultRegistry {
  private faults: { fault: Fault; regex: RegExp }[] = [];
  private seq = 0;

  add(input: unknown): Fault {
    const parsed = faultSpecSchema.safeParse(input);
    if (!parsed.success) throw badRequest(`fake-cdf: invalid fault: ${z.prettifyError(parsed.error)}`);
    const spec = parsed.data;
    let regex: RegExp;
    try {
      regex = new RegExp(spec.pathPattern);
    } catch (err) {
      throw badRequest(`fake-cdf: invalid pathPattern: ${(err as Error).message}`);
    }
    if (spec.count === 0) throw badRequest('fake-cdf: fault count must be positive or -1');
    this.seq += 1;
    const fault: Fault = { ...spec, id: `fault-${this.seq}`, remaining: spec.count ?? 1 };
    this.faults.push({ fault, regex });
    return fault;
  }

  clear(): void {
    this.faults = [];
  }

  list(): Fault[] {
    return this.faults.map(({ fault }) => ({ ...fault }));
  }

  /**
   * Consumes one use of the first fault matching the request. Exhausted faults are
   * dropped so the listing shows only what can still fire.
   */
  take(method: string, path: string): FaultAction | undefined {
    const entry = this.faults.find(
      ({ fault, regex }) =>
        (fault.method === undefined || fault.method.toUpperCase() === method.toUpperCase()) &&
        regex.test(path),
    );
    if (!entry) return undefined;
    const { fault } = entry;
    if (fault.remaining > 0) {
      fault.remaining -= 1;
      if (fault.remaining === 0) this.faults = this.faults.filter((f) => f !== entry);
    }
    return {
      faultId: fault.id,
      latencyMs: fault.latencyMs ?? 0,
      hang: fault.hang ?? false,
      ...(fault.status !== undefined ? { status: fault.status } : {}),
      ...(fault.retryAfterSeconds !== undefined ? { retryAfterSeconds: fault.retryAfterSeconds } : {}),
    };
  }
}
