//! The trust section: who may approve. In `gatehouse.toml`:
//!
//! ```toml
//! [trust]
//! allowed-signers = "allowed_signers"   # relative to the config file
//! self-approval = "forbid"              # or "allow"; default "forbid"
//! author-key = "author"                 # the metadata key naming the author
//!
//! [trust.groups]
//! dba = ["alice@example.com", "bob@example.com"]
//! ```
//!
//! or, without a policy set, `eval --allowed-signers FILE --group
//! dba=alice@example.com,bob@example.com [--allow-self-approval]
//! [--author-key KEY]`. The allowed_signers file and the set are trusted
//! (whoever can change them decides who may approve); approvals, the input
//! and its metadata are not.

use super::{AllowedSigners, Rules, check_name};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The default metadata key naming a release's author.
pub const DEFAULT_AUTHOR_KEY: &str = "author";

/// Whether an approver may approve a release they authored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SelfApproval {
    /// The release's author cannot approve it (the default).
    #[default]
    Forbid,
    /// Anyone in the group may approve, the author too.
    Allow,
}

impl SelfApproval {
    /// `forbid` or `allow`.
    pub fn as_str(self) -> &'static str {
        match self {
            SelfApproval::Forbid => "forbid",
            SelfApproval::Allow => "allow",
        }
    }
}

/// A validated trust section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    /// The allowed_signers file (resolved against the config's directory).
    pub allowed_signers: PathBuf,
    /// Group → member principals.
    pub groups: BTreeMap<String, Vec<String>>,
    /// Whether the author may approve.
    pub self_approval: SelfApproval,
    /// The metadata key naming the release's author.
    pub author_key: String,
}

/// `[trust]` as read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTrust {
    #[serde(default, rename = "allowed-signers")]
    allowed_signers: Option<String>,
    #[serde(default)]
    groups: BTreeMap<String, toml::Spanned<Vec<String>>>,
    #[serde(default, rename = "self-approval")]
    self_approval: Option<toml::Spanned<String>>,
    #[serde(default, rename = "author-key")]
    author_key: Option<toml::Spanned<String>>,
}

impl RawTrust {
    /// Validates the section: `line_of` turns a byte offset into a line,
    /// `at` prefixes a message with the file and a line, `line` is the
    /// section's own; `base` resolves the allowed-signers path. Problems are
    /// pushed; `None` when there was any.
    pub(crate) fn validate(
        self,
        line: usize,
        line_of: impl Fn(usize) -> usize,
        at: impl Fn(usize) -> String,
        base: &Path,
        problems: &mut Vec<String>,
    ) -> Option<Trust> {
        let before = problems.len();
        let allowed_signers = match self.allowed_signers {
            Some(path) if !path.trim().is_empty() => Some(base.join(path)),
            _ => {
                problems.push(format!(
                    "{}: [trust] needs allowed-signers = \"PATH\": the OpenSSH allowed_signers file listing whose keys may sign approvals (docs/approvals.md)",
                    at(line)
                ));
                None
            }
        };
        let mut groups = BTreeMap::new();
        for (group, members) in self.groups {
            let l = line_of(members.span().start);
            match check_group(&group, members.into_inner()) {
                Ok(members) => {
                    groups.insert(group, members);
                }
                Err(message) => problems.push(format!("{}: [trust.groups] {message}", at(l))),
            }
        }
        let self_approval = match self.self_approval {
            None => SelfApproval::Forbid,
            Some(value) => {
                let l = line_of(value.span().start);
                match value.get_ref().as_str() {
                    "forbid" => SelfApproval::Forbid,
                    "allow" => SelfApproval::Allow,
                    other => {
                        problems.push(format!(
                            "{}: [trust] self-approval = {other:?}: expected \"forbid\" (the release's author cannot approve it; the default) or \"allow\"",
                            at(l)
                        ));
                        SelfApproval::Forbid
                    }
                }
            }
        };
        let author_key = match self.author_key {
            None => DEFAULT_AUTHOR_KEY.to_string(),
            Some(value) => {
                let l = line_of(value.span().start);
                let key = value.into_inner();
                if let Err(why) = check_author_key(&key) {
                    problems.push(format!("{}: [trust] author-key: {why}", at(l)));
                }
                key
            }
        };
        (problems.len() == before).then_some(())?;
        Some(Trust {
            allowed_signers: allowed_signers?,
            groups,
            self_approval,
            author_key,
        })
    }
}

/// Checks a group's name and members; returns the members.
fn check_group(group: &str, members: Vec<String>) -> Result<Vec<String>, String> {
    check_name(group).map_err(|why| format!("the group name {group:?} {why}"))?;
    if members.is_empty() {
        return Err(format!(
            "group {group:?} has no members; list its principals (as the allowed_signers file names them) or remove it"
        ));
    }
    for (i, member) in members.iter().enumerate() {
        check_name(member).map_err(|why| format!("group {group:?}: member {member:?} {why}"))?;
        if members[..i].contains(member) {
            return Err(format!(
                "group {group:?} lists {member:?} twice; list each principal once"
            ));
        }
    }
    Ok(members)
}

/// An author key is a metadata key: letters, digits, `-`, `_`, `.`.
fn check_author_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("is empty; name the metadata key that holds the release's author".into());
    }
    crate::settings::check_key(key)
}

impl Trust {
    /// The trust section from `eval`'s flags, when `--allowed-signers` is
    /// given: `--group GROUP=P1,P2` (repeatable, each group once),
    /// `--allow-self-approval`, `--author-key KEY`.
    pub fn from_flags(
        allowed_signers: Option<&Path>,
        groups: &[String],
        allow_self_approval: bool,
        author_key: Option<&str>,
    ) -> Result<Option<Trust>, String> {
        let Some(allowed_signers) = allowed_signers else {
            return Ok(None);
        };
        let mut parsed = BTreeMap::new();
        for item in groups {
            let bad = |why: String| {
                format!(
                    "--group {item:?}: {why}; expected GROUP=P1,P2, e.g. --group dba=alice@example.com,bob@example.com"
                )
            };
            let (group, members) = item.split_once('=').ok_or_else(|| bad("no '='".into()))?;
            let members: Vec<String> = members
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect();
            let members = check_group(group.trim(), members).map_err(bad)?;
            if parsed.insert(group.trim().to_string(), members).is_some() {
                return Err(format!(
                    "--group: the group {:?} is given twice; give each group once, with all its members",
                    group.trim()
                ));
            }
        }
        let author_key = author_key.unwrap_or(DEFAULT_AUTHOR_KEY).to_string();
        check_author_key(&author_key).map_err(|why| format!("--author-key: {why}"))?;
        Ok(Some(Trust {
            allowed_signers: allowed_signers.to_path_buf(),
            groups: parsed,
            self_approval: if allow_self_approval {
                SelfApproval::Allow
            } else {
                SelfApproval::Forbid
            },
            author_key,
        }))
    }

    /// Reads the allowed_signers file (every line checked).
    pub fn load_signers(&self) -> Result<AllowedSigners, String> {
        AllowedSigners::load(&self.allowed_signers).map_err(|e| format!("allowed-signers: {e}"))
    }

    /// The rules approvals are assessed by, for a release with this
    /// `metadata`. With self-approval forbidden the release must name its
    /// author (an error otherwise, saying how: separation of duties cannot
    /// be checked without it).
    pub fn rules<'a>(
        &'a self,
        metadata: &'a BTreeMap<String, String>,
    ) -> Result<Rules<'a>, String> {
        let forbidden_author = match self.self_approval {
            SelfApproval::Allow => None,
            SelfApproval::Forbid => {
                let author = metadata.get(&self.author_key).filter(|a| !a.is_empty());
                let Some(author) = author else {
                    return Err(format!(
                        "self-approval is forbidden, but the release names no author (metadata {:?}), so separation of duties cannot be checked: pass --meta {}=NAME (the author's principal), or allow self-approval ([trust] self-approval = \"allow\", or --allow-self-approval)",
                        self.author_key, self.author_key
                    ));
                };
                Some((author.as_str(), self.author_key.as_str()))
            }
        };
        Ok(Rules {
            groups: &self.groups,
            forbidden_author,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(groups: &[&str]) -> Result<Option<Trust>, String> {
        let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        Trust::from_flags(Some(Path::new("signers")), &groups, false, None)
    }

    #[test]
    fn flags_give_a_trust_section() {
        assert_eq!(Trust::from_flags(None, &[], true, None), Ok(None));
        let trust = flags(&["dba=alice, bob", "sre=carol"])
            .expect("valid")
            .expect("given");
        assert_eq!(trust.groups["dba"], ["alice", "bob"]);
        assert_eq!(trust.self_approval, SelfApproval::Forbid);
        assert_eq!(trust.author_key, "author");
        for (bad, fragment) in [
            ("dba", "no '='"),
            ("dba=", "has no members"),
            ("=alice", "is empty"),
            ("dba=alice,alice", "twice"),
            ("dba=a\u{202e}b", "\\u{202e}"),
        ] {
            let err = flags(&[bad]).expect_err(bad);
            assert!(err.contains(fragment), "{bad}: {err}");
        }
        let err = flags(&["dba=a", "dba=b"]).expect_err("twice");
        assert!(err.contains("given twice"), "{err}");
        let err =
            Trust::from_flags(Some(Path::new("s")), &[], false, Some("a b")).expect_err("key");
        assert!(err.starts_with("--author-key: "), "{err}");
    }

    #[test]
    fn self_approval_needs_an_author_unless_allowed() {
        let mut trust = flags(&[]).expect("valid").expect("given");
        let mut metadata = BTreeMap::new();
        let err = trust.rules(&metadata).expect_err("no author");
        assert!(err.contains("pass --meta author=NAME"), "{err}");
        metadata.insert("author".to_string(), "alice".to_string());
        assert_eq!(
            trust.rules(&metadata).expect("author").forbidden_author,
            Some(("alice", "author"))
        );
        trust.self_approval = SelfApproval::Allow;
        metadata.clear();
        assert_eq!(
            trust.rules(&metadata).expect("allowed").forbidden_author,
            None
        );
    }
}
