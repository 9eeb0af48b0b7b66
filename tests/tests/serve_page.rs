//! The approvers' page (`gatehouse serve --page`, docs/approvers-page.md):
//! the real binary, a real SQLite store, and Debian's headless Chromium
//! opening one-time login links made by `gatehouse serve token login`.

use gatehouse_e2e::chromium;
use gatehouse_e2e::serve::{Server, World, destructive_release, harmless_release};
use gatehouse_e2e::{Run, gatehouse_command};
use serde_json::{Value, json};
use std::process::Stdio;

/// `gatehouse serve token login NAME` for `server`: its run.
fn login_run(world: &World, server: &Server, name: &str) -> Run {
    gatehouse_command()
        .args(["serve", "token", "login", name, "--store", &world.store()])
        .arg("--tokens-file")
        .arg(world.path("tokens"))
        .args(["--url", &server.base])
        .stdin(Stdio::null())
        .output()
        .expect("run token login")
        .into()
}

/// A one-time login link for the token `approvers` (approve,read).
fn login_link(world: &World, server: &Server) -> String {
    let run = login_run(world, server, "approvers");
    assert_eq!(run.code, 0, "{run:#?}");
    let link = run.stdout.trim().to_string();
    assert!(
        link.starts_with(&format!("{}/login?code=", server.base)),
        "{link}"
    );
    link
}

/// A destructive release whose resource names, paths, types and metadata
/// are markup; destructive-changes quotes the path in its reason.
fn hostile_release() -> Value {
    json!({
        "environmentName": "prod",
        "releaseStream": "PROD \"quoted\" & 'single'",
        "resources": [
            {"resourceType": "mysql", "resourceName": "<script>alert(1)</script> \"q\" 'a' &",
             "resourcePath": "<img src=x onerror=alert(2)>", "changeType": "DELETE"},
            {"resourceType": "service", "resourceName": "api",
             "resourcePath": "services/api", "changeType": "UPDATE_IN_PLACE"},
        ],
        "metadata": {"author": "<script>alert(3)</script>"},
    })
}

/// Evaluates `release` as `ci`: the approval request's id.
fn pending_request(world: &World, server: &Server, release: Value) -> String {
    let answer = server.evaluate(&world.evaluate, json!({ "release": release }));
    assert_eq!(answer.status, 200, "{answer:#?}");
    assert_eq!(answer.body["verdict"], "require-approval", "{answer:#?}");
    answer.body["approval_request"]["id"]
        .as_str()
        .expect("a request")
        .to_string()
}

#[test]
fn chromium_shows_pending_requests_with_the_command_and_hostile_text_as_text() {
    let Some(browser) = chromium::find_or_skip("serve_page") else {
        return;
    };
    let world = World::new();
    let server = world.serve(&["--page"]);
    let hostile = pending_request(&world, &server, hostile_release());
    let plain = pending_request(&world, &server, destructive_release("prod", true));
    let approved = server.evaluate(
        &world.evaluate,
        json!({ "release": harmless_release("prod") }),
    );
    assert_eq!(approved.body["verdict"], "auto-approve", "{approved:#?}");

    // Without a session: the 401 page, nothing of the store.
    let dom = browser.dump_dom(&format!("{}/", server.base));
    assert!(dom.contains("Not signed in"), "{dom}");
    assert!(!dom.contains(&hostile) && !dom.contains(&plain), "{dom}");

    let link = login_link(&world, &server);
    let dom = browser.dump_dom(&link);
    assert!(dom.contains("Gatehouse approvals"), "{dom}");
    for id in [&hostile, &plain] {
        let command = format!(
            "gatehouse approve --server {} --request {id} --token-file &lt;FILE&gt; --key ~/.ssh/id_ed25519 --principal &lt;you&gt; --group dba",
            server.base
        );
        assert!(dom.contains(&command), "no command for {id}: {dom}");
    }
    assert!(dom.contains("class=\"group\">dba</strong>"), "{dom}");
    assert!(dom.contains("auto-approve"), "recent decisions: {dom}");
    // The markup came through as text: no element was made of it.
    let lower = dom.to_lowercase();
    assert!(!lower.contains("<script"), "a script element: {dom}");
    assert!(!lower.contains("<img"), "an img element: {dom}");
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the name as text: {dom}"
    );
    assert!(
        dom.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "the path as text: {dom}"
    );
    assert!(
        dom.contains("DELETE of mysql &lt;img src=x onerror=alert(2)&gt;</li>"),
        "the policy's reason as text: {dom}"
    );
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt; \"q\" 'a' &amp;"),
        "quotes and ampersand as text: {dom}"
    );
    assert!(dom.contains("PROD \"quoted\" &amp; 'single'"), "{dom}");

    // The same link again: refused, nothing shown.
    let dom = browser.dump_dom(&link);
    assert!(dom.contains("used already or expired"), "{dom}");
    assert!(!dom.contains(&hostile) && !dom.contains(&plain), "{dom}");

    // Screenshots, laptop and phone, each with its own link.
    let shots = tempfile::tempdir().expect("dir");
    for (name, width, height) in [
        ("approvers-page-laptop.png", 1280, 900),
        ("approvers-page-phone.png", 390, 844),
    ] {
        let file = shots.path().join(name);
        browser.screenshot(&login_link(&world, &server), width, height, &file);
        if std::env::var("GATEHOUSE_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
            let docs = gatehouse_e2e::workspace_root().join("docs/images");
            std::fs::create_dir_all(&docs).expect("docs/images");
            std::fs::copy(&file, docs.join(name)).expect("copy the screenshot");
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

struct Page {
    status: u16,
    headers: ureq::http::HeaderMap,
    text: String,
}

fn get(url: &str, cookie: Option<&str>) -> Page {
    let mut request = agent().get(url);
    if let Some(cookie) = cookie {
        request = request.header("Cookie", cookie);
    }
    let mut response = request.call().expect("an HTTP answer");
    Page {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.body_mut().read_to_string().expect("body"),
    }
}

fn header<'a>(page: &'a Page, name: &str) -> &'a str {
    page.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn assert_security_headers(page: &Page) {
    assert_eq!(
        header(page, "content-security-policy"),
        "default-src 'none'; style-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    assert_eq!(header(page, "x-content-type-options"), "nosniff");
    assert_eq!(header(page, "referrer-policy"), "no-referrer");
    assert_eq!(header(page, "cache-control"), "no-store");
    assert!(header(page, "content-type").starts_with("text/html"));
}

#[test]
fn the_page_is_off_by_default_and_needs_a_one_time_link_for_a_read_token() {
    let world = World::new();
    let off = world.serve(&[]);
    assert_eq!(get(&format!("{}/", off.base), None).status, 404);
    assert_eq!(
        get(&format!("{}/login?code=00", off.base), None).status,
        404
    );
    off.stop();

    let server = world.serve(&["--page"]);
    let id = pending_request(&world, &server, destructive_release("prod", false));
    let anonymous = get(&format!("{}/", server.base), None);
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);
    assert_security_headers(&anonymous);
    assert!(!anonymous.text.contains(&id));
    let forged = get(
        &format!("{}/", server.base),
        Some(&format!("gatehouse_session={}", "a".repeat(64))),
    );
    assert_eq!(forged.status, 401);

    // A token without the read scope gets no link.
    let run = login_run(&world, &server, "ci");
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(run.stderr.contains("lacks the read scope"), "{run:#?}");
    let run = login_run(&world, &server, "nobody");
    assert_eq!(run.code, 3, "{run:#?}");

    let link = login_link(&world, &server);
    let opened = get(&link, None);
    assert_eq!(opened.status, 303, "{}", opened.text);
    assert_eq!(header(&opened, "location"), "/");
    assert_security_headers(&opened);
    let cookie = header(&opened, "set-cookie").to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    let session = cookie.split(';').next().expect("name=value").to_string();
    assert!(session.starts_with("gatehouse_session="), "{cookie}");

    let page = get(&format!("{}/", server.base), Some(&session));
    assert_eq!(page.status, 200, "{}", page.text);
    assert_security_headers(&page);
    assert!(page.text.contains(&id), "{}", page.text);
    assert!(!page.text.contains("<script"), "{}", page.text);
    let css = get(&format!("{}/page.css", server.base), None);
    assert_eq!(css.status, 200);
    assert!(header(&css, "content-type").starts_with("text/css"));

    // Used once: the second opening is refused and sets nothing.
    let again = get(&link, None);
    assert_eq!(again.status, 401, "{}", again.text);
    assert!(again.headers.get("set-cookie").is_none());
    assert!(!again.text.contains(&id));

    // Removing the token from the tokens file ends its sessions.
    let tokens = std::fs::read_to_string(world.path("tokens")).expect("tokens");
    let kept: String = tokens
        .lines()
        .filter(|l| !l.starts_with("approvers "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(world.path("tokens"), kept).expect("write tokens");
    let revoked = get(&format!("{}/", server.base), Some(&session));
    assert_eq!(revoked.status, 401, "{}", revoked.text);
    assert!(!revoked.text.contains(&id));
    server.stop();

    // Behind https (--page-url https://...), the cookie is Secure.
    let auditor = world.serve(&["--page", "--page-url", "https://gatehouse.example.com"]);
    let run: Run = gatehouse_command()
        .args([
            "serve",
            "token",
            "login",
            "auditor",
            "--store",
            &world.store(),
        ])
        .arg("--tokens-file")
        .arg(world.path("tokens"))
        .args(["--url", &auditor.base])
        .stdin(Stdio::null())
        .output()
        .expect("token login")
        .into();
    assert_eq!(run.code, 0, "{run:#?}");
    let opened = get(run.stdout.trim(), None);
    assert_eq!(opened.status, 303, "{}", opened.text);
    assert!(header(&opened, "set-cookie").contains("; Secure"));
}
