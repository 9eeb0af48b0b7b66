//! `gatehouse approve --server URL --request ID`: fetch the approval
//! request, sign a statement for its release digest and environment with
//! the approver's key (the same signing as a local `gatehouse approve`),
//! upload it, and print where the request stands.
//!
//! Exit codes: 0 the request is approved, 2 accepted but more approvals are
//! owed, 1 the request is rejected, 3 error (the server refused the
//! approval, or could not be asked; the server's reason is printed).

use super::{Client, ClientError, render, token};
use crate::commands::approve::{ApproveArgs, sign};
use crate::output::{EXIT_ERROR, print_error};
use gatehouse_core::approvals::{check_digest, check_name};
use gatehouse_core::untrusted::line;
use serde_json::{Value, json};
use std::io::Write;

/// How many times an approval answered 409 `concurrent-approvals` (others
/// arrived while it was judged) is posted again before giving up.
const CONCURRENT_RETRIES: u32 = 3;

/// Runs `gatehouse approve --server` and returns the exit code.
pub fn run(args: &ApproveArgs, server: &str) -> i32 {
    match approve(args, server) {
        Ok(code) => code,
        Err(message) => {
            print_error(&message);
            EXIT_ERROR
        }
    }
}

/// The exit code for a request's state: approved 0, pending 2, rejected 1.
fn state_code(state: &str) -> Option<i32> {
    match state {
        "approved" => Some(0),
        "pending" => Some(2),
        "rejected" => Some(1),
        _ => None,
    }
}

fn approve(args: &ApproveArgs, server: &str) -> Result<i32, String> {
    let id = args
        .request
        .as_deref()
        .ok_or("--server needs --request ID: the approval request to decide")?;
    super::check_id("--request", id)?;
    let token_file = token::file(args.token_file.as_deref())?;
    let client = Client::new(server, &token_file)?;
    let path = format!("/v1/approval-requests/{id}");
    let request = client.get(&path).map_err(|e| e.to_string())?;
    if request["id"].as_str() != Some(id) {
        return Err(format!(
            "the server answered {path} with another request; is --server a gatehouse server?"
        ));
    }
    let state = request["state"].as_str().unwrap_or_default();
    if state != "pending" {
        print(&request, None)?;
        return match state_code(state) {
            Some(code) => {
                print_note(&format!(
                    "approval request {id} is already {state}; nothing was signed"
                ));
                Ok(code)
            }
            None => Err(format!(
                "approval request {id} is {}: it can no longer be decided, and nothing was signed; the release must be submitted again",
                line(state)
            )),
        };
    }
    let digest = request["release_digest"].as_str().unwrap_or_default();
    check_digest(digest).map_err(|why| format!("the request's release digest: {why}"))?;
    let environment = request["environment"].as_str().unwrap_or_default();
    check_name(environment).map_err(|why| format!("the request's environment {why}"))?;
    let signed = sign(
        args,
        digest.to_string(),
        environment,
        args.decision.decision(),
    )?;
    let body = json!({"statement": signed.json, "signature": signed.armored}).to_string();
    let mut tries = 0;
    let answer = loop {
        match client.post(&format!("{path}/approvals"), body.as_bytes()) {
            Err(ClientError::Status {
                status: 409,
                code: Some(code),
                ..
            }) if code == "concurrent-approvals" && tries < CONCURRENT_RETRIES => {
                tries += 1;
            }
            Err(e) => {
                return Err(format!(
                    "the approval was not accepted onto request {id}: {e}"
                ));
            }
            Ok(answer) => break answer,
        }
    };
    let updated = &answer["approval_request"];
    if updated["id"].as_str() != Some(id) {
        return Err(format!(
            "the server's answer to the approval is not the API's; is --server a gatehouse server? (request {id})"
        ));
    }
    print(updated, Some(&signed.summary()))?;
    let state = updated["state"].as_str().unwrap_or_default();
    state_code(state).ok_or_else(|| {
        format!(
            "approval request {id} is {} after the approval; nothing more can be done with it",
            line(state)
        )
    })
}

/// Prints the request (id, state, what is still owed) and, after a
/// signature, what was signed.
fn print(request: &Value, signed: Option<&str>) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    render::write_request(request, &mut out)
        .and_then(|()| match signed {
            Some(summary) => out.write_all(summary.as_bytes()),
            None => Ok(()),
        })
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))
}

/// `gatehouse: NOTE` on stderr, escaped.
fn print_note(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "gatehouse: {}", line(message));
}
