//! The generic signed webhook (`network = "webhook"`): any source that can sign an HTTP
//! request — a web form, an app-store review feed, a status page — opens cases by POSTing a
//! JSON post to `/webhooks/generic/{account}`, and approved replies go back to the account's
//! `callback_url`, signed the same way.
//!
//! `signing` is the one signature both directions share (pure), `wire` reads a delivered post
//! and writes a reply's body (pure), `route` serves the endpoint, `publish` sends replies
//! exactly once through the receiver's `Idempotency-Key` handling. Holds no workflow rules:
//! that an account without a callback refuses drafts, and that this network offers no
//! actions, are the engine's.

pub mod publish;
pub mod route;
pub mod signing;
pub mod wire;

/// Case 12's draft 12.1, a public answer to Jane's post `form-8812`, not yet approved: the
/// request the unit tests publish.
#[cfg(test)]
fn sample_request() -> crate::social::PublishRequest {
    use crate::engine::{Author, DraftKind, PostKind};
    crate::social::PublishRequest {
        account: "acme-forms".to_owned(),
        case: 12,
        draft: "12.1".to_owned(),
        kind: DraftKind::Public,
        text: "Sorry, Jane!".to_owned(),
        in_reply_to: "form-8812".to_owned(),
        parent: None,
        reference: None,
        conversation_id: "order-1234".to_owned(),
        author: Author {
            id: "cust-42".to_owned(),
            handle: "jane".to_owned(),
            name: None,
        },
        approved_at: None,
        drafted_at: chrono::DateTime::UNIX_EPOCH,
        target_kind: PostKind::Mention,
        last_direct_at: None,
    }
}
