//! The approvals of one evaluation: verifying signed approvals under the
//! trust section and handing the valid ones to the policies
//! (docs/approvals.md); each policy's request for approval is settled by
//! [`crate::gate::run_and_settle`].

use super::ApprovalsInput;
use crate::approvals::{self, ApprovalsRecord, Counted, ReleaseFacts, Rules, TrustRecord};
use crate::config::Trust;
use crate::error::Error;
use crate::release::Release;
use crate::report::ApprovalsReport;

/// The approvals of one evaluation, once gathered.
#[derive(Debug, Clone)]
pub struct Gathered {
    /// For the report.
    pub report: ApprovalsReport,
    /// For the audit record.
    pub record: ApprovalsRecord,
    /// The valid signed approvals: what satisfies requests.
    pub counted: Vec<Counted>,
    /// Warnings about unsigned approvals lists (ignored unknown fields).
    pub warnings: Vec<String>,
}

/// Reads the approvals (the `--approvals` paths, or statements already in
/// memory) and settles what the policies will see in `release.approvals`:
///
/// - with a trust section, only signed approvals: each is verified and
///   checked against this release, and only the valid ones are passed on.
///   An unsigned list, or unsigned approvals in the input itself, is an
///   error saying how to sign;
/// - without one, unsigned lists are appended to the input's approvals as
///   before, marked unverified; a signed approval is an error (there is
///   nothing to verify it against).
pub(super) fn gather(
    input: ApprovalsInput,
    trust: Option<&Trust>,
    release: &mut Release,
    release_digest: &str,
    now: i64,
) -> Result<Gathered, Error> {
    let collected = match input {
        ApprovalsInput::Paths {
            paths,
            max_input_mib,
        } => approvals::collect(&paths, max_input_mib.saturating_mul(1 << 20))
            .map_err(Error::Usage)?,
        ApprovalsInput::Collected(collected) => collected,
    };
    let Some(trust) = trust else {
        if let Some(signed) = collected.signed.first() {
            return Err(Error::Usage(format!(
                "--approvals {}: a signed approval, but there are no allowed-signers to verify it against: add a [trust] section with allowed-signers to the policy set, or pass --allowed-signers FILE (docs/approvals.md)",
                signed.name
            )));
        }
        let mut warnings = Vec::new();
        for list in &collected.unsigned {
            let (more, notes) = crate::release::parse_approvals(&list.bytes, &list.name)?;
            release.approvals.extend(more);
            warnings.extend(notes);
        }
        return Ok(Gathered {
            report: ApprovalsReport::unverified(&release.approvals),
            record: ApprovalsRecord {
                unverified: !release.approvals.is_empty(),
                ..ApprovalsRecord::default()
            },
            counted: Vec::new(),
            warnings,
        });
    };
    let how_to_sign = format!(
        "only signed approvals count under a trust section: each approver runs `{}` with their own group and key, and eval reads the files with --approvals (docs/approvals.md)",
        crate::report::approve_command(release_digest, &release.environment_name, &[])
    );
    if let Some(list) = collected.unsigned.first() {
        return Err(Error::Usage(format!(
            "--approvals {}: an unsigned approvals list; {how_to_sign}",
            list.name
        )));
    }
    if !release.approvals.is_empty() {
        return Err(Error::Usage(format!(
            "the input carries {} unsigned approval{} (its `approvals` list); remove them: {how_to_sign}",
            release.approvals.len(),
            if release.approvals.len() == 1 {
                ""
            } else {
                "s"
            }
        )));
    }
    let signers = trust.load_signers().map_err(Error::Config)?;
    let rules = if collected.signed.is_empty() {
        Rules {
            groups: &trust.groups,
            forbidden_author: None,
        }
    } else {
        trust.rules(&release.metadata).map_err(Error::Config)?
    };
    let facts = ReleaseFacts {
        digest: release_digest,
        environment: &release.environment_name,
        at: now,
    };
    let assessed = approvals::assess(collected.signed, &signers, facts, rules);
    let counted: Vec<Counted> = assessed.iter().filter_map(|a| a.counted()).collect();
    release.approvals = counted.iter().map(Counted::to_release_approval).collect();
    Ok(Gathered {
        report: ApprovalsReport::verified(
            trust.allowed_signers.display().to_string(),
            signers.sha256().to_string(),
            &assessed,
        ),
        record: ApprovalsRecord::verified(TrustRecord::new(trust, signers.sha256()), &assessed),
        counted,
        warnings: Vec::new(),
    })
}
