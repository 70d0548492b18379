// The vocabulary of a queue job: the statuses it moves through, the groups
// the queue decides by, and the paths a result can come by. Defined here
// only, so a new status is added in one place and every check follows.

import FACTS from '../../client/engine-facts.js';
import { CODES } from '../../client/codes.js';

export const STATUS = Object.freeze({
  FETCHING: 'fetching',
  QUEUED: 'queued',
  RUNNING: 'running',
  DONE: 'done',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  INTERRUPTED: 'interrupted',
});
export const STATUSES = Object.freeze(Object.values(STATUS));

// Not finished yet: cancellable, keeps "Cancel all" visible, and cut short by a reload.
export const PENDING = Object.freeze([STATUS.FETCHING, STATUS.QUEUED, STATUS.RUNNING]);
// Holding a download or a worker that cancelling has to abort (a waiting job just stops).
export const IN_FLIGHT = Object.freeze([STATUS.FETCHING, STATUS.RUNNING]);
// Ended without a result, so "Retry" applies.
export const RETRYABLE = Object.freeze([STATUS.FAILED, STATUS.CANCELLED, STATUS.INTERRUPTED]);
// Ended one way or another: removable, and what "Clear finished" and the purge may drop.
export const FINISHED = Object.freeze(STATUSES.filter((s) => !PENDING.includes(s)));
// Ended by a problem rather than by the user, so the row reads as an error.
export const PROBLEM = Object.freeze([STATUS.FAILED, STATUS.INTERRUPTED]);

// inGroup(RETRYABLE)(job): a predicate, so groups read naturally in filter/find/some.
export const inGroup = (group) => (job) => group.includes(job.status);

// Failures of the input itself: the same file fails the same way, so no Retry is offered;
// the message says what to do instead (another file, a smaller one). The engine's codes say so themselves
// (`input_fault`, py/pixelpress/errors.py, written into client/engine-facts.js), the page's own in codes.js.
export const INPUT_PROBLEMS = Object.freeze([
  ...Object.keys(FACTS.errors).filter((code) => FACTS.errors[code].input_fault),
  ...Object.keys(CODES).filter((code) => CODES[code].input_fault && !(code in FACTS.errors)),
]);
export const canRetry = (job) => RETRYABLE.includes(job.status) && !INPUT_PROBLEMS.includes(job.error?.code);

// Per-status counts plus the two groups the queue's toolbar shows.
export function countStatuses(jobs) {
  const c = Object.fromEntries(STATUSES.map((s) => [s, 0]));
  for (const j of jobs) c[j.status]++;
  const sum = (group) => group.reduce((n, s) => n + c[s], 0);
  return { total: jobs.length, ...c, pending: sum(PENDING), retryable: jobs.filter(canRetry).length };
}

export const PATH_TEXT = Object.freeze({
  device: 'Processed on this device', server: 'Processed on the server', cache: 'From cache',
});
