//! `gatehouse serve` loads its policies once, at start: a policy file
//! replaced while it runs changes nothing that is evaluated (the decision
//! and the report's policy sha256 are those of the file as loaded), and
//! the server logs that the file changed and that a restart loads it.

use gatehouse_e2e::policy;
use gatehouse_e2e::serve::{World, destructive_release};
use sha2::{Digest, Sha256};
use std::time::Duration;

#[test]
fn a_policy_replaced_after_the_start_is_not_evaluated_and_is_reported() {
    let world = World::new();
    let original = std::fs::read(policy("destructive-changes")).expect("policy");
    let original_sha256 = hex(&original);
    std::fs::write(world.path("policy.wasm"), &original).expect("copy policy");
    std::fs::write(
        world.path("preloaded.toml"),
        "[[policy]]\nname = \"destructive-changes\"\npath = \"policy.wasm\"\n",
    )
    .expect("write set");
    let server = world.serve_set("preloaded.toml", &[]);

    let before = server.evaluate(
        &world.evaluate,
        serde_json::json!({"release": destructive_release("prod", false)}),
    );
    assert_eq!(before.status, 200, "{}", before.text);
    assert_eq!(before.body["verdict"], "fail", "{}", before.text);
    assert_eq!(
        before.body["report"]["policies"][0]["wasm_sha256"], original_sha256,
        "{}",
        before.text
    );

    // A policy that traps on every call: were it loaded, the verdict would be `error`.
    let trap = std::fs::read(gatehouse_e2e::fixture_policy("trap-policy")).expect("trap");
    let trap_sha256 = hex(&trap);
    assert_ne!(trap_sha256, original_sha256);
    std::fs::write(world.path("policy.wasm"), &trap).expect("replace policy");

    let after = server.evaluate(
        &world.evaluate,
        serde_json::json!({"release": destructive_release("prod", false)}),
    );
    assert_eq!(after.status, 200, "{}", after.text);
    assert_eq!(after.body["verdict"], "fail", "{}", after.text);
    assert_eq!(
        after.body["report"]["policies"][0]["wasm_sha256"], original_sha256,
        "{}",
        after.text
    );

    // The server checks the files every few seconds and says what changed.
    let line = server
        .log_line("changed on disk", Duration::from_secs(120))
        .expect("the server logs that the policy file changed");
    assert!(line.contains("destructive-changes"), "{line}");
    assert!(line.contains(&trap_sha256), "{line}");
    assert!(line.contains(&original_sha256), "{line}");
    assert!(line.contains("restart"), "{line}");
    server.stop();
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
