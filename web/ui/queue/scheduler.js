// Runs at most `concurrency` jobs at a time, oldest first. Holding the rest
// back is what makes "Waiting" a true state: a waiting job cancels for free,
// while a running one costs the worker it runs on.

export class Scheduler {
  // next(): the next job ready to run, or undefined. run(job): a promise that settles when it ends.
  constructor({ concurrency, next, run }) {
    this.concurrency = concurrency;
    this.next = next;
    this.run = run;
    this.active = 0;
  }

  pump() {
    while (this.active < this.concurrency) {
      const job = this.next();
      if (!job) return;
      this.launch(job);
    }
  }

  // run() marks the job running before its first await, so pump() never picks it twice.
  async launch(job) {
    this.active++;
    try {
      await this.run(job);
    } finally {
      this.active--;
      this.pump();
    }
  }
}
