//! The `ordered` rule: the required groups are stages signed off in the order
//! listed (tech lead, then PM, then on-call). A stage is *approved* at the
//! moment its `min-approvals`-th distinct approver signed; an approval for the
//! next stage counts only if its time is strictly later than that moment.
//!
//! Decisions this module makes (the README states them for users):
//! - An approval given before (or at the same second as) the previous stage
//!   was approved does not count for its stage, and a reason says so, unless
//!   the same approver also approved that stage again in time.
//! - While a stage is not approved, no approval for a later stage counts yet.
//! - `min-approvals` applies to every stage; each approver counts once per
//!   stage, at their earliest approval that counts.
//! - An approval naming several groups is judged separately for each: it can
//!   never complete two consecutive stages, since the second needs a strictly
//!   later time than the first was approved at.
//! - The approval request names every stage still owed, the next one first,
//!   so a request is satisfied only when the whole sign-off is.

use crate::{Config, Window};
use gatehouse_sdk::{Decision, EvaluationError, Reason, Release, SettingsError, Timestamp};

/// An approver and the time of their approval for one stage.
type Signed<'a> = (&'a str, Timestamp);

/// When a stage's approvals may have been given to count.
#[derive(Debug, Clone, Copy)]
enum Bound {
    /// The first stage: any time counts.
    Any,
    /// Strictly after the previous stage was approved at this time.
    After(Timestamp),
    /// An earlier stage is not approved yet: nothing counts.
    Closed,
}

/// A stage that reached its quorum.
struct Approved<'a> {
    group: &'a str,
    at: Timestamp,
    by: Vec<Signed<'a>>,
}

/// Decides with the groups as ordered stages (see the module docs).
pub fn decide(
    release: &Release,
    config: &Config,
    window: &Window,
) -> Result<Decision, EvaluationError> {
    let groups = &config.required_groups;
    let total = groups.len();
    let quorum_index =
        usize::try_from(config.min_approvals.saturating_sub(1)).unwrap_or(usize::MAX);
    let need = config.min_approvals;
    let mut previous: Option<Approved> = None;
    let mut open = false;
    let mut waiting = Vec::new();
    let mut not_counted = Vec::new();
    let mut approved = Vec::new();
    let mut owed = Vec::new();
    for (index, group) in groups.iter().enumerate() {
        let number = index + 1;
        let before = index.checked_sub(1).and_then(|i| groups.get(i));
        let bound = match &previous {
            _ if open => Bound::Closed,
            Some(stage) => Bound::After(stage.at),
            None => Bound::Any,
        };
        let (counted, early) = sort_approvals(release, group, bound, window)?;
        let have = counted.len();
        // While an earlier stage is open nothing counts, so `counted` is empty.
        if let Some(&(_, at)) = counted.get(quorum_index) {
            approved.push(Reason::new(format!(
                "stage {number} of {total} ({group}): approved by {} ({have} of {need})",
                list(&counted)
            )));
            previous = Some(Approved {
                group,
                at,
                by: counted,
            });
        } else {
            owed.push(group.clone());
            if let (true, Some(before)) = (open, before) {
                waiting.push(Reason::new(format!(
                    "stage {number} of {total} ({group}) waits for stage {index} ({before}) to be approved first"
                )));
            } else {
                open = true;
                let so_far = if counted.is_empty() {
                    String::new()
                } else {
                    format!(" ({have} of {need} so far: {})", list(&counted))
                };
                let after = previous.as_ref().map_or(String::new(), |stage| {
                    format!("; {} approved by {}", stage.group, list(&stage.by))
                });
                waiting.push(Reason::new(format!(
                    "stage {number} of {total} ({group}) waits for approval{so_far}{after}"
                )));
            }
        }
        if let Some(before) = before {
            not_counted.extend(
                early
                    .iter()
                    .map(|&(who, at)| Reason::new(too_early(group, who, at, before, bound))),
            );
        }
    }
    let Some(decision) = Decision::require_approval_for(waiting) else {
        return Ok(Decision::AutoApprove(
            approved.into_iter().chain(not_counted).collect(),
        ));
    };
    Ok(decision
        .with_reasons(not_counted)
        .with_reasons(approved)
        .from_groups(owed)
        .min_approvals(config.min_approvals)
        .instructions(format!(
            "Approve in stage order ({}): an approval counts only if given after the previous stage was approved. The gate passes once every stage has signed off.",
            groups.join(", then ")
        )))
}

/// Splits the approvals for `group` that the window lets through into those
/// that count (each approver once, at their earliest counting approval) and
/// those given too early (each approver once, at their latest such approval;
/// left out when the approver also has one that counts), both in time order.
fn sort_approvals<'a>(
    release: &'a Release,
    group: &str,
    bound: Bound,
    window: &Window,
) -> Result<(Vec<Signed<'a>>, Vec<Signed<'a>>), EvaluationError> {
    let mut counted: Vec<Signed<'a>> = Vec::new();
    let mut early: Vec<Signed<'a>> = Vec::new();
    for approval in release
        .approvals
        .iter()
        .filter(|a| a.groups.iter().any(|g| g == group))
    {
        let Some(at) = window.time_of(approval, group)? else {
            continue;
        };
        let who = approval.approver.as_str();
        let counts = match bound {
            Bound::Any => true,
            Bound::After(approved_at) => at > approved_at,
            Bound::Closed => false,
        };
        if counts {
            remember(&mut counted, who, at, Ord::min);
        } else {
            remember(&mut early, who, at, Ord::max);
        }
    }
    early.retain(|(who, _)| !counted.iter().any(|(name, _)| name == who));
    counted.sort_by_key(|&(_, at)| at);
    early.sort_by_key(|&(_, at)| at);
    Ok((counted, early))
}

/// Adds `who` at `at` to `list`, or, when `who` is already there, keeps the
/// time `keep` picks (the earliest or the latest).
fn remember<'a>(
    list: &mut Vec<Signed<'a>>,
    who: &'a str,
    at: Timestamp,
    keep: fn(Timestamp, Timestamp) -> Timestamp,
) {
    match list.iter_mut().find(|(name, _)| *name == who) {
        Some(entry) => entry.1 = keep(entry.1, at),
        None => list.push((who, at)),
    }
}

/// Why an approval for `group` did not count: it did not come strictly after
/// the `before` stage was approved.
fn too_early(group: &str, who: &str, at: Timestamp, before: &str, bound: Bound) -> String {
    let why = match bound {
        Bound::After(approved_at) if at == approved_at => {
            format!("came at the same time as the {before} stage was approved, not after it")
        }
        Bound::After(approved_at) => {
            format!("came before the {before} stage was approved (at {approved_at})")
        }
        Bound::Any | Bound::Closed => format!("came before the {before} stage was approved"),
    };
    format!("{group} approval by {who} at {at} {why}; it does not count")
}

/// `alice at 2026-11-22T09:00:00Z, bob at ...`.
fn list(signed: &[Signed]) -> String {
    signed
        .iter()
        .map(|(who, at)| format!("{who} at {at}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// With `ordered`, each group is one stage, so a group listed twice is a
/// mistake (did you mean another group, or `min-approvals`?).
pub fn check_stages(groups: &[String]) -> Result<(), SettingsError> {
    for (index, group) in groups.iter().enumerate() {
        if groups.iter().take(index).any(|earlier| earlier == group) {
            return Err(SettingsError::new(
                "required-groups",
                format!(
                    "lists {group:?} twice; with ordered=true each group is one stage, so list it once (use min-approvals for more approvers per stage)"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{ApprovalQuorum, Config, decide};
    use gatehouse_sdk::{
        Approval, ApprovalRequest, Decision, Policy, Release, Settings, Timestamp,
    };

    const NOW: Timestamp = Timestamp(1_795_343_405); // 2026-11-22T10:30:05Z

    fn approval(who: &str, groups: &[&str], at: &str) -> Approval {
        Approval {
            approver: who.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            at: at.into(),
        }
    }

    fn config(pairs: &[(&str, &str)]) -> Config {
        ApprovalQuorum::validate_settings(&Settings::from_pairs(pairs.iter().copied()))
            .expect("valid settings")
    }

    fn stages() -> Config {
        config(&[
            ("required-groups", "tech-lead,pm,on-call"),
            ("ordered", "true"),
        ])
    }

    fn run(config: &Config, approvals: Vec<Approval>) -> Decision {
        let release = Release {
            approvals: approvals.into(),
            ..Release::new("prod", "PROD")
        };
        decide(&release, config, NOW).expect("decides")
    }

    fn messages(d: &Decision) -> Vec<&str> {
        d.reasons().iter().map(|r| r.message.as_str()).collect()
    }

    fn request(d: &Decision) -> &ApprovalRequest {
        let Decision::RequireApproval(r) = d else {
            panic!("expected require-approval, got {d:?}");
        };
        r
    }

    fn alice() -> Approval {
        approval("alice", &["tech-lead"], "2026-11-22T09:00:00Z")
    }

    fn bob() -> Approval {
        approval("bob", &["pm"], "2026-11-22T09:30:00Z")
    }

    #[test]
    fn stages_signed_in_order_auto_approve() {
        let carol = approval("carol", &["on-call"], "2026-11-22T10:00:00Z");
        let d = run(&stages(), vec![carol, bob(), alice()]);
        assert!(d.is_approve(), "{d:?}");
        assert_eq!(
            messages(&d),
            [
                "stage 1 of 3 (tech-lead): approved by alice at 2026-11-22T09:00:00Z (1 of 1)",
                "stage 2 of 3 (pm): approved by bob at 2026-11-22T09:30:00Z (1 of 1)",
                "stage 3 of 3 (on-call): approved by carol at 2026-11-22T10:00:00Z (1 of 1)",
            ]
        );
    }

    #[test]
    fn the_next_stage_is_named_with_who_it_waits_for() {
        let d = run(&stages(), vec![]);
        let r = request(&d);
        assert_eq!(r.approver_groups, ["tech-lead", "pm", "on-call"]);
        assert_eq!(
            messages(&d),
            [
                "stage 1 of 3 (tech-lead) waits for approval",
                "stage 2 of 3 (pm) waits for stage 1 (tech-lead) to be approved first",
                "stage 3 of 3 (on-call) waits for stage 2 (pm) to be approved first",
            ]
        );
        assert!(
            r.instructions.as_deref().is_some_and(
                |i| i.starts_with("Approve in stage order (tech-lead, then pm, then on-call)")
            ),
            "{r:?}"
        );

        let d = run(&stages(), vec![alice()]);
        assert_eq!(request(&d).approver_groups, ["pm", "on-call"]);
        assert_eq!(
            messages(&d),
            [
                "stage 2 of 3 (pm) waits for approval; tech-lead approved by alice at 2026-11-22T09:00:00Z",
                "stage 3 of 3 (on-call) waits for stage 2 (pm) to be approved first",
                "stage 1 of 3 (tech-lead): approved by alice at 2026-11-22T09:00:00Z (1 of 1)",
            ]
        );
    }

    #[test]
    fn an_approval_before_the_previous_stage_does_not_count() {
        let early = approval("carol", &["on-call"], "2026-11-22T09:15:00Z");
        let d = run(&stages(), vec![alice(), early.clone(), bob()]);
        assert_eq!(request(&d).approver_groups, ["on-call"]);
        assert_eq!(
            messages(&d),
            [
                "stage 3 of 3 (on-call) waits for approval; pm approved by bob at 2026-11-22T09:30:00Z",
                "on-call approval by carol at 2026-11-22T09:15:00Z came before the pm stage was approved (at 2026-11-22T09:30:00Z); it does not count",
                "stage 1 of 3 (tech-lead): approved by alice at 2026-11-22T09:00:00Z (1 of 1)",
                "stage 2 of 3 (pm): approved by bob at 2026-11-22T09:30:00Z (1 of 1)",
            ]
        );

        // Unordered, the same approvals are a full quorum.
        let unordered = config(&[("required-groups", "tech-lead,pm,on-call")]);
        assert!(run(&unordered, vec![alice(), early.clone(), bob()]).is_approve());
        let explicit = config(&[
            ("required-groups", "tech-lead,pm,on-call"),
            ("ordered", "no"),
        ]);
        assert_eq!(
            run(&explicit, vec![alice(), early.clone(), bob()]),
            run(&unordered, vec![alice(), early.clone(), bob()])
        );

        // Approving again after the pm stage counts, and the early one is not mentioned.
        let again = approval("carol", &["on-call"], "2026-11-22T10:00:00Z");
        let d = run(&stages(), vec![alice(), early, bob(), again]);
        assert!(d.is_approve(), "{d:?}");
        assert_eq!(
            messages(&d)[2],
            "stage 3 of 3 (on-call): approved by carol at 2026-11-22T10:00:00Z (1 of 1)"
        );
        assert_eq!(messages(&d).len(), 3, "{d:?}");
    }

    #[test]
    fn a_missing_middle_stage_holds_back_the_later_ones() {
        let carol = approval("carol", &["on-call"], "2026-11-22T10:00:00Z");
        let d = run(&stages(), vec![alice(), carol]);
        assert_eq!(request(&d).approver_groups, ["pm", "on-call"]);
        assert_eq!(
            messages(&d),
            [
                "stage 2 of 3 (pm) waits for approval; tech-lead approved by alice at 2026-11-22T09:00:00Z",
                "stage 3 of 3 (on-call) waits for stage 2 (pm) to be approved first",
                "on-call approval by carol at 2026-11-22T10:00:00Z came before the pm stage was approved; it does not count",
                "stage 1 of 3 (tech-lead): approved by alice at 2026-11-22T09:00:00Z (1 of 1)",
            ]
        );
    }

    #[test]
    fn an_equal_time_is_not_after() {
        // 10:00+01:00 is 09:00Z, the very second the tech lead approved.
        let same = approval("bob", &["pm"], "2026-11-22T10:00:00+01:00");
        let d = run(&stages(), vec![alice(), same]);
        assert_eq!(request(&d).approver_groups, ["pm", "on-call"]);
        assert!(
            messages(&d).contains(
                &"pm approval by bob at 2026-11-22T09:00:00Z came at the same time as the tech-lead stage was approved, not after it; it does not count"
            ),
            "{d:?}"
        );
        // One second later counts.
        let later = approval("bob", &["pm"], "2026-11-22T09:00:01Z");
        let d = run(&stages(), vec![alice(), later]);
        assert_eq!(request(&d).approver_groups, ["on-call"]);
    }

    #[test]
    fn an_approval_naming_several_groups_cannot_complete_two_consecutive_stages() {
        let dave = approval("dave", &["pm", "on-call"], "2026-11-22T09:30:00Z");
        let d = run(&stages(), vec![alice(), dave]);
        assert_eq!(request(&d).approver_groups, ["on-call"]);
        assert!(
            messages(&d).contains(
                &"on-call approval by dave at 2026-11-22T09:30:00Z came at the same time as the pm stage was approved, not after it; it does not count"
            ),
            "{d:?}"
        );
        // A later approval naming both counts for on-call (and again, harmlessly, for pm).
        let dave_again = approval("dave", &["pm", "on-call"], "2026-11-22T10:00:00Z");
        let d = run(&stages(), vec![alice(), bob(), dave_again]);
        assert!(d.is_approve(), "{d:?}");
    }

    #[test]
    fn min_approvals_applies_per_stage_and_a_stage_is_approved_at_its_quorum() {
        let c = config(&[
            ("required-groups", "tech-lead,on-call"),
            ("ordered", "true"),
            ("min-approvals", "2"),
        ]);
        let ann = approval("ann", &["tech-lead"], "2026-11-22T08:00:00Z");
        let carl = approval("carl", &["tech-lead"], "2026-11-22T09:00:00Z");
        // Between the two tech leads: the stage was not yet approved.
        let olga = approval("olga", &["on-call"], "2026-11-22T08:30:00Z");
        let omar = approval("omar", &["on-call"], "2026-11-22T09:10:00Z");
        let d = run(&c, vec![ann.clone(), carl.clone(), olga, omar.clone()]);
        assert_eq!(request(&d).approver_groups, ["on-call"]);
        assert_eq!(request(&d).min_approvals, 2);
        assert_eq!(
            messages(&d)[..2],
            [
                "stage 2 of 2 (on-call) waits for approval (1 of 2 so far: omar at 2026-11-22T09:10:00Z); tech-lead approved by ann at 2026-11-22T08:00:00Z, carl at 2026-11-22T09:00:00Z",
                "on-call approval by olga at 2026-11-22T08:30:00Z came before the tech-lead stage was approved (at 2026-11-22T09:00:00Z); it does not count",
            ]
        );
        let otto = approval("otto", &["on-call"], "2026-11-22T09:20:00Z");
        assert!(run(&c, vec![ann.clone(), carl.clone(), omar.clone(), otto]).is_approve());
        // One approver twice is still one.
        let omar_again = approval("omar", &["on-call"], "2026-11-22T09:40:00Z");
        let d = run(&c, vec![ann, carl, omar, omar_again]);
        assert_eq!(request(&d).approver_groups, ["on-call"]);
    }

    #[test]
    fn stale_and_future_approvals_are_ignored_as_unordered() {
        let c = config(&[
            ("required-groups", "tech-lead,pm"),
            ("ordered", "true"),
            ("max-age-hours", "1"),
        ]);
        let stale = approval("alice", &["tech-lead"], "2026-11-22T09:00:00Z");
        let future = approval("bob", &["pm"], "2026-11-22T11:00:00Z");
        let d = run(&c, vec![stale, future]);
        assert_eq!(request(&d).approver_groups, ["tech-lead", "pm"]);
        assert_eq!(
            messages(&d),
            [
                "stage 1 of 2 (tech-lead) waits for approval",
                "stage 2 of 2 (pm) waits for stage 1 (tech-lead) to be approved first",
            ]
        );
    }

    #[test]
    fn the_setting_is_a_boolean_and_stages_are_distinct() {
        let err = ApprovalQuorum::validate_settings(&Settings::from_pairs([
            ("required-groups", "a,b"),
            ("ordered", "sometimes"),
        ]))
        .expect_err("not a boolean");
        assert_eq!(
            err.to_string(),
            "setting 'ordered': expected true or false, got \"sometimes\""
        );
        let err = ApprovalQuorum::validate_settings(&Settings::from_pairs([
            ("required-groups", "a, b, a"),
            ("ordered", "true"),
        ]))
        .expect_err("a stage twice");
        assert!(
            err.to_string()
                .starts_with("setting 'required-groups': lists \"a\" twice"),
            "{err}"
        );
        // Unordered, a repeated group is accepted as before.
        assert!(!config(&[("required-groups", "a, b, a")]).ordered);
        assert!(config(&[("required-groups", "a"), ("ordered", "ON")]).ordered);
    }
}
