"""Decision builders: what a policy answers, with reasons an approver can act
on (the Rust SDK's `Decision` and `Reason`).

    >>> d = (Decision.require_approval("mysql 'orders' is deleted")
    ...      .from_groups(["dba", "sre"]).min_approvals(2)
    ...      .instructions("Check the last backup first."))
    >>> d.verdict
    'require-approval'
"""

from collections.abc import Iterable
from typing import Any


class Reason:
    """Why a policy decided what it decided, optionally about one resource
    (the report shows its path)."""

    def __init__(self, message: str, resource_path: str | None = None) -> None:
        self.message = message
        self.resource_path = resource_path

    @staticmethod
    def about(resource: Any, message: str) -> "Reason":
        """A reason about one resource (a `ResourceChange` of the release)."""
        return Reason(message, resource.resource_path)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Reason)
            and (self.message, self.resource_path) == (other.message, other.resource_path)
        )

    def __repr__(self) -> str:
        return f"Reason({self.message!r}, {self.resource_path!r})"


def _reason(reason: "Reason | str") -> Reason:
    return reason if isinstance(reason, Reason) else Reason(str(reason))


class Decision:
    """A policy's verdict, built fluently: `Decision.approve(...)`,
    `Decision.require_approval(...)`, `Decision.fail(...)`, then `.because`,
    `.with_reasons`, and for require-approval `.from_groups`, `.min_approvals`,
    `.instructions`. Every builder returns the decision."""

    def __init__(self, verdict: str, reasons: list[Reason]) -> None:
        self.verdict = verdict
        """`auto-approve`, `require-approval` or `fail`, as in reports."""
        self.reasons = reasons
        """The reasons, in order."""
        self.approver_groups: list[str] = []
        """Groups whose members may approve; empty means anyone with release rights."""
        self.required_approvals = 1
        """Approvals needed (from each group when groups are named); at least 1."""
        self.instructions_text: str | None = None
        """What the approver should check."""

    @staticmethod
    def approve(reason: "Reason | str") -> "Decision":
        """Auto-approve, with a reason for the report."""
        return Decision("auto-approve", [_reason(reason)])

    @staticmethod
    def require_approval(reason: "Reason | str") -> "Decision":
        """Require approval by anyone with release rights (narrow it with
        `from_groups`), one approval unless `min_approvals` says more."""
        return Decision("require-approval", [_reason(reason)])

    @staticmethod
    def require_approval_for(reasons: Iterable["Reason | str"]) -> "Decision | None":
        """Require approval for every reason (in order), or None when there are
        none: the host refuses a require-approval without reasons."""
        items = [_reason(r) for r in reasons]
        return Decision("require-approval", items) if items else None

    @staticmethod
    def fail(reason: "Reason | str") -> "Decision":
        """Fail the release."""
        return Decision("fail", [_reason(reason)])

    def because(self, reason: "Reason | str") -> "Decision":
        """Adds a reason to any decision."""
        self.reasons.append(_reason(reason))
        return self

    def with_reasons(self, reasons: Iterable["Reason | str"]) -> "Decision":
        """Adds several reasons to any decision."""
        self.reasons.extend(_reason(r) for r in reasons)
        return self

    def from_groups(self, groups: Iterable[str]) -> "Decision":
        """Names the groups whose members may approve (require-approval only;
        other decisions are returned unchanged)."""
        if self.verdict == "require-approval":
            self.approver_groups.extend(groups)
        return self

    def min_approvals(self, count: int) -> "Decision":
        """Sets how many approvals are needed, at least 1 (require-approval only)."""
        if self.verdict == "require-approval":
            self.required_approvals = max(1, count)
        return self

    def instructions(self, text: str) -> "Decision":
        """Tells the approver what to check (require-approval only)."""
        if self.verdict == "require-approval":
            self.instructions_text = text
        return self

    def is_approve(self) -> bool:
        """True for auto-approve."""
        return self.verdict == "auto-approve"

    def is_require_approval(self) -> bool:
        """True for require-approval."""
        return self.verdict == "require-approval"

    def is_fail(self) -> bool:
        """True for fail."""
        return self.verdict == "fail"

    def to_wit(self) -> Any:
        """The WIT `decision` the host expects (needs the bindings that
        componentize-py generates, so only inside a component build)."""
        from wit_world.imports import types

        reasons = [types.Reason(r.message, r.resource_path) for r in self.reasons]
        if self.verdict == "auto-approve":
            return types.Decision_AutoApprove(reasons)
        if self.verdict == "fail":
            return types.Decision_Fail(reasons)
        return types.Decision_RequireApproval(
            types.ApprovalRequest(
                reasons=reasons,
                approver_groups=list(self.approver_groups),
                min_approvals=self.required_approvals,
                instructions=self.instructions_text,
            )
        )
