/**
 * What a benchmark made (folders, databases, processes, open stores), undone in reverse order
 * when it ends, whether it passed, failed or timed out.
 */

/** Steps run last-in first-out when the run ends; a failing step does not stop the others. */
export class Cleanup {
  private readonly steps: { label: string; run: () => Promise<void> | void }[] = [];

  /** Registers a step; returns a function that runs it now (once) and unregisters it. */
  add(label: string, run: () => Promise<void> | void): () => Promise<void> {
    const step = { label, run };
    this.steps.push(step);
    return async () => {
      const i = this.steps.indexOf(step);
      if (i < 0) return;
      this.steps.splice(i, 1);
      await step.run();
    };
  }

  /** Runs every registered step, newest first; returns the labels of the steps that failed. */
  async runAll(): Promise<string[]> {
    const failed: string[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.run();
      } catch (err) {
        failed.push(`${step.label}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return failed;
  }
}
