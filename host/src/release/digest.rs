//! The canonical release digest: `sha256:` + lowercase hex of SHA-256 over
//! the RFC 8785 (JCS) serialisation of the normalised release, approvals
//! left out (docs/approvals.md, "Release digest", defines it for other tools).
//!
//! What is hashed is the object
//! `{"digest":"gatehouse.release/v1","environmentName":…,"releaseStream":…,
//! "metadata":{…},"resources":[{"resourceType":…,"resourceName":…,
//! "resourcePath":…,"changeType":…,"attributes":{…}},…]}`: every field always
//! present (`{}` for no attributes or metadata), resources in input order.
//! Every value in it is a string, an object or an array, so JCS reduces to:
//! no whitespace; object keys sorted by their UTF-16 code units; strings
//! escaping only `"`, `\` and U+0000–U+001F (`\b \t \n \f \r`, else
//! `\u00xx` in lowercase hex), every other character as its UTF-8 bytes.
//! That is small enough to write exactly here, streamed into the hasher;
//! a JCS crate would bring number canonicalisation this model never uses
//! and an intermediate `serde_json::Value` of the whole release.
//!
//! Approvals are not part of it: an approval signs this digest, so it
//! cannot be part of what it signs. [`VERSION`] names the encoding inside
//! the hashed bytes, so a future encoding gets another tag and never
//! collides with this one.

use super::{Release, ResourceChange};
use sha2::{Digest, Sha256};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The encoding's name, hashed as the `digest` member: bump it (and
/// document the new encoding) if what is hashed ever changes.
pub const VERSION: &str = "gatehouse.release/v1";

/// The release's digest, `sha256:<64 lowercase hex>`.
pub fn digest(release: &Release) -> String {
    let mut hasher = Hashing::default();
    put_release(&mut hasher, release);
    format!("sha256:{}", hex::encode(hasher.finish()))
}

/// The exact bytes [`digest`] hashes (for tests and for debugging another
/// tool's implementation).
pub fn canonical_bytes(release: &Release) -> Vec<u8> {
    let mut bytes = Vec::new();
    put_release(&mut bytes, release);
    bytes
}

/// Where canonical JSON is written: the hasher, or a byte buffer. Neither
/// can fail, so neither can the encoding.
trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// How many bytes [`Hashing`] gathers before hashing them.
const HASH_CHUNK: usize = 16 * 1024;

/// SHA-256 fed in chunks: the encoding writes many short pieces (a quote,
/// a key, a comma), and hashing each on its own costs more than copying it.
#[derive(Default)]
struct Hashing {
    hasher: Sha256,
    pending: Vec<u8>,
}

impl Hashing {
    fn finish(mut self) -> impl AsRef<[u8]> {
        self.hasher.update(&self.pending);
        self.hasher.finalize()
    }
}

impl Sink for Hashing {
    fn put(&mut self, bytes: &[u8]) {
        if self.pending.len() + bytes.len() > HASH_CHUNK {
            self.hasher.update(&self.pending);
            self.pending.clear();
            if bytes.len() >= HASH_CHUNK {
                self.hasher.update(bytes);
                return;
            }
        }
        if self.pending.capacity() == 0 {
            self.pending.reserve_exact(HASH_CHUNK);
        }
        self.pending.extend_from_slice(bytes);
    }
}

/// The hashed object of a release. Its members are written in JCS order,
/// fixed (their names are ASCII, so the order is plain byte order; a test
/// checks it against the sort).
fn put_release(out: &mut impl Sink, release: &Release) {
    out.put(b"{\"digest\":");
    put_string(out, VERSION);
    out.put(b",\"environmentName\":");
    put_string(out, &release.environment_name);
    out.put(b",\"metadata\":");
    put_string_map(out, &release.metadata);
    out.put(b",\"releaseStream\":");
    put_string(out, &release.release_stream);
    out.put(b",\"resources\":[");
    for (i, resource) in release.resources.iter().enumerate() {
        if i > 0 {
            out.put(b",");
        }
        put_resource(out, resource);
    }
    out.put(b"]}");
}

/// The hashed object of one resource: every field, even empty attributes,
/// in JCS order.
fn put_resource(out: &mut impl Sink, resource: &ResourceChange) {
    out.put(b"{\"attributes\":");
    put_string_map(out, &resource.attributes);
    out.put(b",\"changeType\":");
    put_string(out, resource.change_type.as_str());
    out.put(b",\"resourceName\":");
    put_string(out, &resource.resource_name);
    out.put(b",\"resourcePath\":");
    put_string(out, &resource.resource_path);
    out.put(b",\"resourceType\":");
    put_string(out, &resource.resource_type);
    out.put(b"}");
}

/// Member names of the two fixed objects, in the order written above.
#[cfg(test)]
const RELEASE_MEMBERS: [&str; 5] = [
    "digest",
    "environmentName",
    "metadata",
    "releaseStream",
    "resources",
];
#[cfg(test)]
const RESOURCE_MEMBERS: [&str; 5] = [
    "attributes",
    "changeType",
    "resourceName",
    "resourcePath",
    "resourceType",
];

/// Orders object keys as JCS does: by their UTF-16 code units (which
/// differs from Rust's code-point order for keys mixing characters above
/// U+FFFF with those in U+E000–U+FFFF).
fn utf16_order(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Whether `key` has a character above U+FFFF (four UTF-8 bytes, the first
/// 0xF0 or more): only then can UTF-16 order differ from the map's.
fn beyond_the_bmp(key: &str) -> bool {
    key.bytes().any(|byte| byte >= 0xF0)
}

/// An object of strings (metadata, attributes) with its members in JCS
/// order. The map's own order (code points) is that order unless a key
/// has a character beyond the BMP; then the keys are sorted by UTF-16.
fn put_string_map(out: &mut impl Sink, map: &BTreeMap<String, String>) {
    out.put(b"{");
    if map.keys().any(|key| beyond_the_bmp(key)) {
        let mut sorted: Vec<(&String, &String)> = map.iter().collect();
        sorted.sort_by(|a, b| utf16_order(a.0, b.0));
        put_members(out, sorted);
    } else {
        put_members(out, map.iter());
    }
    out.put(b"}");
}

fn put_members<'a>(
    out: &mut impl Sink,
    members: impl IntoIterator<Item = (&'a String, &'a String)>,
) {
    for (i, (key, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.put(b",");
        }
        put_string(out, key);
        out.put(b":");
        put_string(out, value);
    }
}

/// Writes a JSON string as JCS does: `"` and `\` escaped, U+0000–U+001F as
/// `\b \t \n \f \r` or `\u00xx` (lowercase), everything else as is (every
/// byte of a multi-byte character is >= 0x80, so bytes can be scanned).
fn put_string(out: &mut impl Sink, text: &str) {
    out.put(b"\"");
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if byte >= 0x20 && byte != b'"' && byte != b'\\' {
            continue;
        }
        out.put(&bytes[start..i]);
        match byte {
            b'"' => out.put(b"\\\""),
            b'\\' => out.put(b"\\\\"),
            0x08 => out.put(b"\\b"),
            b'\t' => out.put(b"\\t"),
            b'\n' => out.put(b"\\n"),
            0x0c => out.put(b"\\f"),
            b'\r' => out.put(b"\\r"),
            _ => out.put(format!("\\u{byte:04x}").as_bytes()),
        }
        start = i + 1;
    }
    out.put(&bytes[start..]);
    out.put(b"\"");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::{Approval, ChangeKind};

    fn canonical_map(map: &BTreeMap<String, String>) -> String {
        let mut bytes = Vec::new();
        put_string_map(&mut bytes, map);
        String::from_utf8(bytes).expect("UTF-8")
    }

    fn canonical_string(text: &str) -> String {
        let mut bytes = Vec::new();
        put_string(&mut bytes, text);
        String::from_utf8(bytes).expect("UTF-8")
    }

    #[test]
    fn the_fixed_members_are_written_in_utf16_order() {
        for members in [RELEASE_MEMBERS, RESOURCE_MEMBERS] {
            let mut sorted = members;
            sorted.sort_by(|a, b| utf16_order(a, b));
            assert_eq!(sorted, members);
        }
        // And the writer uses that order (the bytes themselves are checked by
        // the_encoding_is_exactly_the_documented_one).
        let text = String::from_utf8(canonical_bytes(&release())).expect("UTF-8");
        for members in [RELEASE_MEMBERS, RESOURCE_MEMBERS] {
            let at: Vec<usize> = members
                .iter()
                .filter_map(|m| text.find(&format!("\"{m}\":")))
                .collect();
            assert_eq!(at.len(), members.len(), "{text}");
            assert!(at.windows(2).all(|w| w[0] < w[1]), "{members:?} in {text}");
        }
    }

    #[test]
    fn a_release_hashed_in_chunks_has_the_digest_of_its_bytes() {
        // Larger than several chunks, with a piece longer than one.
        let mut big = release();
        big.resources[0].resource_path = "p".repeat(HASH_CHUNK + 7);
        for i in 0..2_000 {
            big.resources
                .push(resource(&format!("r{i}"), ChangeKind::Create));
        }
        let bytes = canonical_bytes(&big);
        assert!(bytes.len() > 4 * HASH_CHUNK);
        assert_eq!(
            digest(&big),
            format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
        );
    }

    fn resource(name: &str, change: ChangeKind) -> ResourceChange {
        ResourceChange {
            resource_type: "mysql".into(),
            resource_name: name.into(),
            resource_path: format!("datastores/{name}"),
            change_type: change,
            attributes: BTreeMap::new(),
        }
    }

    fn release() -> Release {
        let mut with_attributes = resource("users", ChangeKind::Recreate);
        with_attributes
            .attributes
            .insert("terraform.actions".into(), "delete,create".into());
        Release {
            environment_name: "prod".into(),
            release_stream: "PROD".into(),
            resources: vec![resource("orders", ChangeKind::Delete), with_attributes],
            metadata: BTreeMap::from([("commit".into(), "9f2c1e7".into())]),
            approvals: Vec::new(),
        }
    }

    #[test]
    fn the_encoding_is_exactly_the_documented_one() {
        // The object docs/approvals.md shows, byte for byte: keys sorted,
        // no whitespace, empty attributes present as {}.
        let expected = concat!(
            r#"{"digest":"gatehouse.release/v1","environmentName":"prod","#,
            r#""metadata":{"commit":"9f2c1e7"},"releaseStream":"PROD","resources":["#,
            r#"{"attributes":{},"changeType":"DELETE","resourceName":"orders","#,
            r#""resourcePath":"datastores/orders","resourceType":"mysql"},"#,
            r#"{"attributes":{"terraform.actions":"delete,create"},"changeType":"RECREATE","#,
            r#""resourceName":"users","resourcePath":"datastores/users","resourceType":"mysql"}]}"#
        );
        let bytes = canonical_bytes(&release());
        assert_eq!(String::from_utf8(bytes.clone()).expect("UTF-8"), expected);
        let digest = digest(&release());
        assert_eq!(
            digest,
            format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
        );
        // Computed independently (Python's hashlib over the text above).
        assert_eq!(
            digest,
            "sha256:0bd5f4779fa3d678515958c26169a4a5c6e76914124fc8ad546cabbbc80cdc78"
        );
    }

    #[test]
    fn an_empty_release_still_has_every_member() {
        let empty = Release {
            environment_name: String::new(),
            release_stream: String::new(),
            resources: Vec::new(),
            metadata: BTreeMap::new(),
            approvals: Vec::new(),
        };
        assert_eq!(
            String::from_utf8(canonical_bytes(&empty)).expect("UTF-8"),
            r#"{"digest":"gatehouse.release/v1","environmentName":"","metadata":{},"releaseStream":"","resources":[]}"#
        );
    }

    #[test]
    fn keys_sort_by_utf16_code_units_as_rfc_8785_shows() {
        // RFC 8785 section 3.2.3's sorting example: U+1F600 (UTF-16 D83D
        // DE00) sorts before U+FB33, although its code point is larger.
        let map = BTreeMap::from([
            ("\u{20ac}".to_string(), "Euro Sign".to_string()),
            ("\r".to_string(), "Carriage Return".to_string()),
            (
                "\u{fb33}".to_string(),
                "Hebrew Letter Dalet With Dagesh".to_string(),
            ),
            ("1".to_string(), "One".to_string()),
            ("\u{1f600}".to_string(), "Emoji: Grinning Face".to_string()),
            ("\u{80}".to_string(), "Control".to_string()),
            (
                "\u{f6}".to_string(),
                "Latin Small Letter O With Diaeresis".to_string(),
            ),
        ]);
        let text = canonical_map(&map);
        let values: Vec<&str> = text.split('"').skip(3).step_by(4).collect::<Vec<_>>();
        assert_eq!(
            values,
            [
                "Carriage Return",
                "One",
                "Control",
                "Latin Small Letter O With Diaeresis",
                "Euro Sign",
                "Emoji: Grinning Face",
                "Hebrew Letter Dalet With Dagesh"
            ],
            "{text}"
        );
        assert!(
            text.contains("\"\u{80}\":\"Control\""),
            "written raw: {text}"
        );
        // Code-point order (Rust's BTreeMap) disagrees: U+FFFD < U+1F600.
        let map = BTreeMap::from([
            ("\u{fffd}".to_string(), "replacement".to_string()),
            ("\u{1f600}".to_string(), "grin".to_string()),
        ]);
        assert_eq!(
            map.keys().next().map(String::as_str),
            Some("\u{fffd}"),
            "BTreeMap order"
        );
        assert_eq!(
            canonical_map(&map),
            "{\"\u{1f600}\":\"grin\",\"\u{fffd}\":\"replacement\"}"
        );
    }

    #[test]
    fn strings_escape_only_quote_backslash_and_controls() {
        let mut all = String::new();
        for c in (0u32..0x80).filter_map(char::from_u32) {
            all.push(c);
        }
        all.push_str("\u{7f}\u{80}\u{2028}\u{2029}é€😀\u{fffd}");
        let text = canonical_string(&all);
        let expected = concat!(
            r#""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f"#,
            r#"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f"#,
            r##" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"##,
        );
        let tail = "\u{7f}\u{7f}\u{80}\u{2028}\u{2029}é€😀\u{fffd}\"";
        assert_eq!(text, format!("{expected}{tail}"));
        // serde_json escapes strings the same way (a second opinion).
        assert_eq!(text, serde_json::to_string(&all).expect("serialise"));
        // And the escaped text reads back as the original.
        let back: String = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back, all);
    }

    /// What a change of a release changes, and the change.
    type Change = (&'static str, fn(&mut Release));

    #[test]
    fn approvals_do_not_change_it_and_everything_else_does() {
        let base = release();
        let mut approved = base.clone();
        approved.approvals.push(Approval {
            approver: "asmith".into(),
            groups: vec!["dba".into()],
            at: "2026-11-20T10:00:00Z".into(),
        });
        assert_eq!(digest(&approved), digest(&base));

        let changes: Vec<Change> = vec![
            ("environment", |r| r.environment_name.push('x')),
            ("stream", |r| r.release_stream.push('x')),
            ("metadata value", |r| {
                r.metadata.insert("commit".into(), "9f2c1e8".into());
            }),
            ("metadata key", |r| {
                r.metadata.insert("author".into(), String::new());
            }),
            ("change type", |r| {
                r.resources[0].change_type = ChangeKind::UpdateInPlace
            }),
            ("type", |r| r.resources[0].resource_type.push('x')),
            ("name", |r| r.resources[0].resource_name.push('x')),
            ("path", |r| r.resources[0].resource_path.push('x')),
            ("attribute value", |r| {
                r.resources[1]
                    .attributes
                    .insert("terraform.actions".into(), "create,delete".into());
            }),
            ("empty attribute", |r| {
                r.resources[0].attributes.insert("k".into(), String::new());
            }),
            ("order", |r| r.resources.reverse()),
            ("one resource less", |r| {
                r.resources.pop();
            }),
        ];
        let mut seen = vec![digest(&base)];
        for (what, change) in changes {
            let mut changed = base.clone();
            change(&mut changed);
            let d = digest(&changed);
            assert!(!seen.contains(&d), "{what} did not change the digest");
            seen.push(d);
        }
    }

    #[test]
    fn values_cannot_be_shifted_between_fields() {
        // Each string is delimited, so moving text from one field into the
        // next cannot give the same bytes.
        let mut a = release();
        a.resources[0].resource_name = "ab".into();
        a.resources[0].resource_path = "c".into();
        let mut b = release();
        b.resources[0].resource_name = "a".into();
        b.resources[0].resource_path = "bc".into();
        assert_ne!(digest(&a), digest(&b));
        let mut c = release();
        c.metadata = BTreeMap::from([("a".into(), "b\",\"c\":\"d".into())]);
        let mut d = release();
        d.metadata = BTreeMap::from([("a".into(), "b".into()), ("c".into(), "d".into())]);
        assert_ne!(digest(&c), digest(&d));
    }
}
