//! Bluesky against the reference PDS (`@atproto/dev-env`: PLC, PDS and AppView): a second
//! account mentions the brand (with a mention facet, as the apps write it) → one case; the
//! approved reply is in the brand's repository under the mention, with the customer's
//! mention facet; a 429 delays the reply but loses nothing; an answer lost after the PDS
//! wrote the reply, a `kill -9` and a restart leave exactly one reply; restarts do not log in
//! again. The reference PDS cannot refuse a call with a 429 on demand (its limits reset after
//! an hour), so that one refusal comes from the recording proxy; the rest is the server's.

use std::time::Duration;

use serde_json::{Value, json};

use crate::console::Console;
use crate::proxy::{Proxy, Refusal};
use crate::run::wait_until;
use crate::{call, env};

const WAIT: Duration = Duration::from_secs(30);
const PUT: &str = "/xrpc/com.atproto.repo.putRecord";
const NOTIFICATIONS: &str = "/xrpc/app.bsky.notification.listNotifications";
const LOGIN: &str = "/xrpc/com.atproto.server.createSession";

/// The PDS and its two accounts, from `run.sh`'s variables.
struct Server {
    pds: String,
    brand_handle: String,
    brand_did: String,
    brand_password: String,
    customer_did: String,
    customer_token: String,
}

impl Server {
    fn from_env() -> Server {
        let pds = env("ATP_PDS_URL");
        let session = call(
            &format!("{pds}{LOGIN}"),
            None,
            Some(json!({
                "identifier": env("ATP_CUSTOMER_HANDLE"),
                "password": env("ATP_CUSTOMER_APP_PASSWORD"),
            })),
        );
        Server {
            customer_token: session["accessJwt"].as_str().unwrap().to_owned(),
            customer_did: env("ATP_CUSTOMER_DID"),
            brand_handle: env("ATP_BRAND_HANDLE"),
            brand_did: env("ATP_BRAND_DID"),
            brand_password: env("ATP_BRAND_APP_PASSWORD"),
            pds,
        }
    }

    /// The customer posts `@<brand> text` with the mention facet; the post's uri.
    fn customer_mentions(&self, text: &str) -> String {
        let mention = format!("@{}", self.brand_handle);
        let record = json!({
            "$type": "app.bsky.feed.post",
            "text": format!("{mention} {text}"),
            "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "facets": [{
                "index": {"byteStart": 0, "byteEnd": mention.len()},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": self.brand_did}],
            }],
        });
        let created = call(
            &format!("{}/xrpc/com.atproto.repo.createRecord", self.pds),
            Some(&self.customer_token),
            Some(
                json!({"repo": self.customer_did, "collection": "app.bsky.feed.post", "record": record}),
            ),
        );
        created["uri"].as_str().unwrap().to_owned()
    }

    /// The brand's posts that answer `uri`, read from its repository on the PDS.
    fn brand_replies(&self, uri: &str) -> Vec<Value> {
        let url = format!(
            "{}/xrpc/com.atproto.repo.listRecords?repo={}&collection=app.bsky.feed.post&limit=100",
            self.pds, self.brand_did
        );
        call(&url, None, None)["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["value"].clone())
            .filter(|post| post["reply"]["parent"]["uri"] == uri)
            .collect()
    }

    /// Asserts the one reply to `uri` names the customer with a mention facet whose UTF-8
    /// byte range covers `@handle` in its text.
    fn one_addressed_reply(&self, uri: &str) -> Value {
        let replies = self.brand_replies(uri);
        assert_eq!(replies.len(), 1, "{replies:#?}");
        let reply = replies[0].clone();
        let text = reply["text"].as_str().unwrap();
        let facet = reply["facets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["features"][0]["did"] == self.customer_did.as_str())
            .unwrap_or_else(|| panic!("no mention facet for the customer: {reply:#}"));
        let start = facet["index"]["byteStart"].as_u64().unwrap() as usize;
        let end = facet["index"]["byteEnd"].as_u64().unwrap() as usize;
        assert!(
            text.as_bytes()[start..end].starts_with(b"@"),
            "{text:?} [{start}..{end}]"
        );
        reply
    }
}

fn account(url: &str, server: &Server) -> String {
    format!(
        r#"
[[accounts]]
id = "acme-bsky"
network = "bluesky"
api_url = "{url}"
approval = "always"
poll_interval = "1s"
auth = {{ kind = "app_password", identifier = "{handle}", app_password = "{password}" }}
"#,
        handle = server.brand_handle,
        password = server.brand_password,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the reference PDS: tests/interop/run.sh"]
async fn reference_pds_mention_reply_429_kill_and_restart() {
    let server = Server::from_env();
    let proxy = Proxy::start(&server.pds);
    let mut console = Console::new(&account(&proxy.url(), &server));
    proxy.wait_for("GET", NOTIFICATIONS, 1, WAIT);

    // A second account mentions the brand: one case.
    let first = server.customer_mentions("my order never arrived");
    console.wait_cases(1).await;

    // The first write is refused with a 429 (the PDS's own shape and headers); the reply still
    // goes out, once, threaded under the mention and addressed to the customer.
    let reset = (chrono::Utc::now() + chrono::TimeDelta::seconds(1)).timestamp();
    proxy.refuse_next(
        "POST",
        PUT,
        Refusal {
            status: 429,
            headers: vec![
                ("ratelimit-limit", "5000".to_owned()),
                ("ratelimit-remaining", "0".to_owned()),
                ("ratelimit-reset", reset.to_string()),
            ],
            body: json!({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"})
                .to_string(),
        },
    );
    console.reply_and_approve("Sorry about that! Checking with the courier.");
    console.wait_text("Draft 1.1 published as").await;
    let reply = server.one_addressed_reply(&first);
    assert_eq!(reply["reply"]["root"]["uri"], first.as_str());

    // The PDS writes the next reply but its answer is lost; kill -9; restart.
    let second = server.customer_mentions("and what about my refund?");
    console.wait_cases(2).await;
    proxy.lose_next("POST", PUT);
    console.say("as maria");
    console.say("#2 !claim");
    console.say("#2 !reply The refund is on its way.");
    console.say("as lee");
    console.say("react ✅ 2.1");
    assert!(
        wait_until(WAIT, || proxy.calls().iter().any(|c| c.lost)),
        "the write never reached the PDS"
    );
    console.kill();
    console.start();
    console.wait_text("Draft 2.1 published as").await;
    console.stop();
    server.one_addressed_reply(&second);

    // A clean restart polls again and posts nothing more; nobody logged in again.
    let polls = proxy
        .calls()
        .iter()
        .filter(|c| c.path == NOTIFICATIONS)
        .count();
    console.start();
    proxy.wait_for("GET", NOTIFICATIONS, polls + 2, WAIT);
    console.stop();
    server.one_addressed_reply(&first);
    server.one_addressed_reply(&second);
    let logins = proxy.calls().iter().filter(|c| c.path == LOGIN).count();
    assert_eq!(logins, 1, "the bot logged in again after a restart");
    assert_eq!(console.bot.cases().len(), 2);
}
