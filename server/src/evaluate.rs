//! One evaluation for the service: a submission (the release inline, its
//! format, overrides and metadata) and uploaded approvals, through the
//! core's one entry point ([`gatehouse_core::evaluation::evaluate`]) exactly
//! as `gatehouse eval --config SET --approvals ...` would run it. Blocking:
//! callers run it on the evaluation pool.

use gatehouse_core::approvals::{ApprovalFile, Collected, MAX_APPROVAL_FILES};
use gatehouse_core::audit::LimitsRecord;
use gatehouse_core::error::Error;
use gatehouse_core::evaluation::{
    ApprovalsInput, EngineSource, Evaluation, Observed, Policies, PreparedSet, RecordContext,
    decision_record,
};
use gatehouse_core::input::LoadedInput;
use gatehouse_core::release::{Format, InputOptions, read_release};
use gatehouse_core::report::{ErrorReport, Report};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// The name the inline release has in messages and reports.
pub const SOURCE: &str = "request.release";

/// What was submitted for evaluation, without approvals: kept with an
/// approval request so that the release can be evaluated again, byte for
/// byte, when approvals arrive.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Submission {
    /// The release JSON, Terraform plan or Pulumi preview, as sent.
    pub release: Box<RawValue>,
    /// `auto` (default), `release`, `terraform` or `pulumi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Overrides (or supplies) the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Overrides (or supplies) the release stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_stream: Option<String>,
    /// Metadata to add (as `--meta KEY=VALUE`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// A signed approval as uploaded: the statement file's text and its
/// signature file's text.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// The `.approval.json` text, exactly as signed.
    pub statement: String,
    /// The `.sig` text (`-----BEGIN SSH SIGNATURE-----` ...).
    pub signature: String,
}

/// The name an uploaded approval has in reports: `approvals[i]`.
pub fn upload_name(index: usize) -> String {
    format!("approvals[{index}]")
}

/// Why there is no outcome to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A request the client must fix (the release, the format, metadata,
    /// approvals that are not approvals): nothing is evaluated or recorded.
    Refused(String),
    /// The server could not build the record (a 5xx).
    Internal(String),
}

use Failure::{Internal, Refused};

/// An evaluation's outcome, ready to record.
#[derive(Debug)]
pub struct Evaluated {
    /// The report, or the error that stopped the evaluation (exit 3).
    pub outcome: Result<Report, Error>,
    /// What the evaluation observed.
    pub seen: Observed,
    /// The audit record, JSON, without the release when it has a digest
    /// (then in `release`).
    pub record: String,
    /// The normalised release JSON the policies saw, moved out of `record`.
    pub release: Option<String>,
    /// The report (or error report) JSON, serialised once: stored with the
    /// decision and sent in the answer as it is.
    pub report: Box<RawValue>,
}

impl Evaluated {
    /// `auto-approve`, `require-approval`, `fail`, or `error`.
    pub fn verdict(&self) -> String {
        match &self.outcome {
            Ok(report) => report.verdict.as_str().to_string(),
            Err(_) => "error".to_string(),
        }
    }

    /// 0, 2, 1, or 3.
    pub fn exit_code(&self) -> i64 {
        match &self.outcome {
            Ok(report) => i64::from(report.exit_code),
            Err(_) => 3,
        }
    }
}

impl Submission {
    /// The conversion options, checking the format and metadata keys.
    fn options(&self) -> Result<InputOptions, Failure> {
        let format = match self.format.as_deref() {
            None | Some("auto") => None,
            Some("release") => Some(Format::Release),
            Some("terraform") => Some(Format::Terraform),
            Some("pulumi") => Some(Format::Pulumi),
            Some(other) => {
                return Err(Refused(format!(
                    "format {}: use auto, release, terraform or pulumi",
                    gatehouse_core::untrusted::quote(other)
                )));
            }
        };
        let mut meta = Vec::with_capacity(self.metadata.len());
        for (key, value) in &self.metadata {
            gatehouse_core::settings::check_key(key).map_err(|why| {
                Refused(format!(
                    "metadata key {}: {why}",
                    gatehouse_core::untrusted::quote(key)
                ))
            })?;
            meta.push((key.clone(), value.clone()));
        }
        Ok(InputOptions {
            format,
            environment: self.environment.clone(),
            release_stream: self.release_stream.clone(),
            meta,
            approvals: Vec::new(),
        })
    }

    /// Reads the release: [`Failure::Refused`] naming the problem when it is not one.
    pub fn load(&self) -> Result<LoadedInput, Failure> {
        let options = self.options()?;
        let bytes = self.release.get().as_bytes().to_vec();
        let (release, warnings) = read_release(&bytes, SOURCE, &options)
            .map_err(|e| Refused(Error::Input(e).to_string()))?;
        Ok(LoadedInput {
            source: SOURCE.to_string(),
            bytes,
            release,
            warnings,
        })
    }
}

/// Evaluates a submission with the uploaded approvals against the policy
/// set, whose policies were loaded once at start. Problems with the request itself (the release, a malformed
/// approval list) are [`Failure::Refused`]; anything else that stops the evaluation
/// is an outcome (exit 3), recorded like a decision, as `eval` records it.
pub fn evaluate(
    policies: &PreparedSet,
    engines: &dyn EngineSource,
    submission: &Submission,
    uploads: &[Upload],
    now: i64,
) -> Result<Evaluated, Failure> {
    if uploads.len() > MAX_APPROVAL_FILES {
        return Err(Refused(format!(
            "approvals: more than {MAX_APPROVAL_FILES}; each approver signs one statement per release"
        )));
    }
    let input = submission.load()?;
    let signed = uploads
        .iter()
        .enumerate()
        .map(|(i, u)| ApprovalFile {
            name: upload_name(i),
            statement: u.statement.as_bytes().to_vec(),
            signature: u.signature.as_bytes().to_vec(),
        })
        .collect();
    let evaluation = Evaluation {
        policies: Policies::Prepared(policies),
        approvals: ApprovalsInput::Collected(Collected {
            signed,
            unsigned: Vec::new(),
        }),
        now,
        keep_release: true,
    };
    let mut seen = Observed::default();
    let outcome = gatehouse_core::evaluation::evaluate(input, evaluation, engines, &mut seen);
    if let Err(e @ (Error::Input(_) | Error::Usage(_))) = &outcome {
        return Err(Refused(e.to_string()));
    }
    let context = RecordContext::now(
        Some(policies.set().path.display().to_string()),
        LimitsRecord {
            fuel: 0,
            memory_bytes: 0,
            timeout_ms: 0,
        },
    );
    // The release leaves the record here, on the evaluation's thread: the
    // store keeps it once per digest, and its single writer then handles
    // only the small record.
    let (record, release) = decision_record(&context, &seen, &outcome)
        .and_then(|mut r| {
            let release = match (&r.release_digest, r.input.take()) {
                (Some(_), Some(input)) => Some(input.into_string()),
                (None, input) => {
                    r.input = input;
                    None
                }
                (Some(_), None) => None,
            };
            let record = serde_json::to_string(&r).map_err(|e| e.to_string())?;
            Ok((record, release))
        })
        .map_err(|e| Internal(format!("cannot record the evaluation: {e}")))?;
    let report = match &outcome {
        Ok(report) => serde_json::to_string(report),
        Err(e) => serde_json::to_string(
            &ErrorReport::from_error(e).with_release_digest(seen.release_digest.clone()),
        ),
    }
    .and_then(RawValue::from_string)
    .map_err(|e| Internal(format!("cannot serialise the report: {e}")))?;
    Ok(Evaluated {
        outcome,
        seen,
        record,
        release,
        report,
    })
}
