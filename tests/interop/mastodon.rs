//! Mastodon against `mastodon-mock` (a Mastodon API server with fault injection): a second
//! account mentions the brand → one case; the approved reply appears under the mention (read
//! back through `/context`); a 429 the server injects delays the reply but loses nothing; an
//! answer lost after the server made the reply, a `kill -9` and a restart leave exactly one
//! reply; a clean restart adds nothing.

use std::time::Duration;

use serde_json::{Value, json};

use crate::console::Console;
use crate::proxy::Proxy;
use crate::{call, env};

const WAIT: Duration = Duration::from_secs(30);
const STATUSES: &str = "/api/v1/statuses";
const NOTIFICATIONS: &str = "/api/v1/notifications";

/// The server, from `run.sh`'s variables.
struct Server {
    url: String,
    brand_token: String,
    brand_acct: String,
    customer_token: String,
}

impl Server {
    fn from_env() -> Server {
        Server {
            url: env("MASTODON_URL"),
            brand_token: env("MASTODON_BRAND_TOKEN"),
            brand_acct: env("MASTODON_BRAND_ACCT"),
            customer_token: env("MASTODON_CUSTOMER_TOKEN"),
        }
    }

    /// A call to the API as the holder of `token`.
    fn call(&self, path: &str, token: &str, body: Option<Value>) -> Value {
        call(&format!("{}{path}", self.url), Some(token), body)
    }

    /// Every test starts from the server's seed, with no fault rules.
    fn reset(&self) {
        self.call("/api/v1/_mock/reset", &self.brand_token, Some(json!({})));
    }

    /// The customer mentions the brand publicly; the status id.
    fn customer_mentions(&self, text: &str) -> String {
        let status = self.call(
            STATUSES,
            &self.customer_token,
            Some(json!({"status": format!("@{} {text}", self.brand_acct), "visibility": "public"})),
        );
        status["id"].as_str().unwrap().to_owned()
    }

    /// The next `count` posts of a status answer 429 with `Retry-After: 1`.
    fn rate_limit_next_posts(&self, count: u32) {
        let reset = (chrono::Utc::now() + chrono::TimeDelta::seconds(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let headers = json!({"Retry-After": "1", "X-RateLimit-Reset": reset});
        let rule = json!({
            "match": {"methods": ["POST"], "path": STATUSES},
            "effect": {"type": "ratelimit", "headers": headers},
            "count": count,
        });
        self.call("/api/v1/_mock/faults", &self.brand_token, Some(rule));
    }

    /// The brand's replies directly under `status`, read as the customer sees them.
    fn brand_replies(&self, status: &str) -> Vec<Value> {
        let context = self.call(
            &format!("{STATUSES}/{status}/context"),
            &self.customer_token,
            None,
        );
        context["descendants"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["account"]["acct"] == self.brand_acct.as_str())
            .filter(|s| s["in_reply_to_id"] == status)
            .cloned()
            .collect()
    }
}

fn account(url: &str, token: &str) -> String {
    format!(
        r#"
[[accounts]]
id = "acme-masto"
network = "mastodon"
api_url = "{url}"
approval = "always"
poll_interval = "1s"
auth = {{ kind = "access_token", access_token = "{token}" }}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs mastodon-mock: tests/interop/run.sh"]
async fn mastodon_mock_mention_reply_429_kill_and_restart() {
    let server = Server::from_env();
    server.reset();
    let proxy = Proxy::start(&server.url);
    let mut console = Console::new(&account(&proxy.url(), &server.brand_token));
    proxy.wait_for("GET", NOTIFICATIONS, 1, WAIT);

    // A second account mentions the brand: one case.
    let first = server.customer_mentions("my order never arrived");
    console.wait_cases(1).await;

    // The server refuses the first publication with a 429; the reply still goes out, once.
    server.rate_limit_next_posts(1);
    console.reply_and_approve("Sorry about that! Checking with the courier.");
    console.wait_text("Draft 1.1 published as").await;
    let replies = server.brand_replies(&first);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    let content = replies[0]["content"].as_str().unwrap();
    assert!(content.contains("Checking with the courier"), "{content}");
    let posts: Vec<u16> = proxy
        .wait_for("POST", STATUSES, 2, WAIT)
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(posts, [429, 200]);

    // The server makes the next reply but its answer is lost; kill -9; restart.
    let second = server.customer_mentions("and what about my refund?");
    console.wait_cases(2).await;
    proxy.lose_next("POST", STATUSES);
    console.say("as maria");
    console.say("#2 !claim");
    console.say("#2 !reply The refund is on its way.");
    console.say("as lee");
    console.say("react ✅ 2.1");
    proxy.wait_for("POST", STATUSES, 3, WAIT);
    console.kill();
    console.start();
    console.wait_text("Draft 2.1 published as").await;
    console.stop();
    assert_eq!(server.brand_replies(&second).len(), 1);

    // A clean restart polls again and posts nothing more.
    let polls = proxy
        .calls()
        .iter()
        .filter(|c| c.path == NOTIFICATIONS)
        .count();
    console.start();
    proxy.wait_for("GET", NOTIFICATIONS, polls + 2, WAIT);
    console.stop();
    assert_eq!(server.brand_replies(&first).len(), 1);
    assert_eq!(server.brand_replies(&second).len(), 1);
    assert_eq!(console.bot.cases().len(), 2);
}
