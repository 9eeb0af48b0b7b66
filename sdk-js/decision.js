// Decision builders: what a policy answers, with reasons an approver can act
// on (the Rust SDK's `Decision` and `Reason`).

/** Why a policy decided what it decided, optionally about one resource. */
export class Reason {
  /** A reason; `resourcePath` (optional) ties it to a resource in the report. */
  constructor(message, resourcePath = undefined) {
    this.message = message;
    this.resourcePath = resourcePath;
  }

  /** A reason about one resource (a resource change of the release). */
  static about(resource, message) {
    return new Reason(message, resource.resourcePath);
  }
}

const toReason = (reason) => (reason instanceof Reason ? reason : new Reason(String(reason)));

/**
 * A policy's verdict, built fluently: `Decision.approve(...)`,
 * `Decision.requireApproval(...)`, `Decision.fail(...)`, then `.because`,
 * `.withReasons`, and for require-approval `.fromGroups`, `.minApprovals`,
 * `.instructions`. Every builder returns the decision.
 */
export class Decision {
  /** Prefer the static builders; `verdict` is `auto-approve`, `require-approval` or `fail`. */
  constructor(verdict, reasons) {
    this.verdict = verdict;
    this.reasons = reasons;
    this.approverGroups = [];
    this.requiredApprovals = 1;
    this.instructionsText = undefined;
  }

  /** Auto-approve, with a reason for the report. */
  static approve(reason) {
    return new Decision('auto-approve', [toReason(reason)]);
  }

  /**
   * Require approval by anyone with release rights (narrow it with
   * `fromGroups`), one approval unless `minApprovals` says more.
   */
  static requireApproval(reason) {
    return new Decision('require-approval', [toReason(reason)]);
  }

  /**
   * Require approval for every reason (in order), or `undefined` when there
   * are none: the host refuses a require-approval without reasons.
   */
  static requireApprovalFor(reasons) {
    const items = Array.from(reasons, toReason);
    return items.length === 0 ? undefined : new Decision('require-approval', items);
  }

  /** Fail the release. */
  static fail(reason) {
    return new Decision('fail', [toReason(reason)]);
  }

  /** Adds a reason to any decision. */
  because(reason) {
    this.reasons.push(toReason(reason));
    return this;
  }

  /** Adds several reasons to any decision. */
  withReasons(reasons) {
    for (const reason of reasons) this.reasons.push(toReason(reason));
    return this;
  }

  /** Names the groups whose members may approve (require-approval only). */
  fromGroups(groups) {
    if (this.verdict === 'require-approval') this.approverGroups.push(...groups);
    return this;
  }

  /** Sets how many approvals are needed, at least 1 (require-approval only). */
  minApprovals(count) {
    if (this.verdict === 'require-approval') this.requiredApprovals = Math.max(1, count);
    return this;
  }

  /** Tells the approver what to check (require-approval only). */
  instructions(text) {
    if (this.verdict === 'require-approval') this.instructionsText = text;
    return this;
  }

  /** True for auto-approve. */
  isApprove() {
    return this.verdict === 'auto-approve';
  }

  /** True for require-approval. */
  isRequireApproval() {
    return this.verdict === 'require-approval';
  }

  /** True for fail. */
  isFail() {
    return this.verdict === 'fail';
  }

  /** The WIT `decision` the host expects (componentize-js's `{ tag, val }`). */
  toWit() {
    const reasons = this.reasons.map((r) =>
      r.resourcePath === undefined
        ? { message: r.message }
        : { message: r.message, resourcePath: r.resourcePath },
    );
    if (this.verdict !== 'require-approval') return { tag: this.verdict, val: reasons };
    const request = {
      reasons,
      approverGroups: [...this.approverGroups],
      minApprovals: this.requiredApprovals,
    };
    if (this.instructionsText !== undefined) request.instructions = this.instructionsText;
    return { tag: 'require-approval', val: request };
  }
}
