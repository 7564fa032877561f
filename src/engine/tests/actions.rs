//! Table rows for the network actions besides publishing — like, unlike, repost, delete,
//! hide, unhide and deleting a customer's comment —
//! on every network, with every refusal and both outcomes (repeated ones included); and the
//! stored shapes they add (old cases without them still load).

use super::table::Row;
use super::*;

use Command as C;
use DraftState::Published;
use PostKind::{Comment, DirectMessage as Dm, Mention};

fn like(actor: Actor, post: Option<&str>) -> Input {
    cmd(
        actor,
        C::Like {
            post: post.map(str::to_owned),
        },
    )
}

fn unlike(actor: Actor, post: Option<&str>) -> Input {
    cmd(
        actor,
        C::Unlike {
            post: post.map(str::to_owned),
        },
    )
}

fn repost(actor: Actor, post: Option<&str>) -> Input {
    cmd(
        actor,
        C::Repost {
            post: post.map(str::to_owned),
        },
    )
}

fn delete(actor: Actor, target: Option<&str>) -> Input {
    cmd(
        actor,
        C::Delete {
            target: target.map(str::to_owned),
        },
    )
}

fn hide(actor: Actor, post: Option<&str>) -> Input {
    cmd(
        actor,
        C::Hide {
            post: post.map(str::to_owned),
        },
    )
}

fn unhide(actor: Actor, post: Option<&str>) -> Input {
    cmd(
        actor,
        C::Unhide {
            post: post.map(str::to_owned),
        },
    )
}

fn liking(post: &str) -> NetworkAction {
    NetworkAction::Like { post: s(post) }
}

fn unliking(post: &str) -> NetworkAction {
    NetworkAction::Unlike { post: s(post) }
}

fn reposting(post: &str) -> NetworkAction {
    NetworkAction::Repost { post: s(post) }
}

fn hiding(post: &str) -> NetworkAction {
    NetworkAction::Hide { post: s(post) }
}

fn unhiding(post: &str) -> NetworkAction {
    NetworkAction::Unhide { post: s(post) }
}

fn removing(post: &str) -> NetworkAction {
    NetworkAction::Remove { post: s(post) }
}

/// Deleting a draft published by the fixtures (as `net-<draft>`).
fn deleting(draft: &str) -> NetworkAction {
    NetworkAction::Delete {
        draft: s(draft),
        id: format!("net-{draft}"),
    }
}

fn act(action: NetworkAction, by: &str) -> Effect {
    Effect::Act { action, by: s(by) }
}

fn acted(action: NetworkAction, by: &str) -> Input {
    Input::Outcome(Outcome::Acted { action, by: s(by) })
}

fn act_failed(action: NetworkAction, by: &str, reason: &str) -> Input {
    Input::Outcome(Outcome::ActFailed {
        action,
        by: s(by),
        reason: s(reason),
    })
}

fn unsupported(platform: Platform, action: &str) -> Refusal {
    Refusal::ActionUnsupported {
        platform,
        action: s(action),
    }
}

/// A row where `input` is accepted and queues exactly `action` for `by`, with one audit line
/// and nothing else changed (the network is the truth: the case changes on its outcome).
fn queues(name: &str, f: Fixture, input: Input, action: NetworkAction, by: &str) -> Row {
    let audit = action.key();
    Row::new(name, f, input)
        .effects(vec![act(action, by)])
        .audit(&[audit])
        .check(|before, t| {
            eq("liked", &t.case.liked, &before.liked)?;
            eq("reposted", &t.case.reposted, &before.reposted)?;
            eq("hidden", &t.case.hidden, &before.hidden)?;
            let deleted = |c: &Case| c.drafts.iter().map(|d| d.deleted_at).collect::<Vec<_>>();
            eq("deletions", deleted(&t.case), deleted(before))?;
            let removed = |c: &Case| c.posts.iter().map(|p| p.removed).collect::<Vec<_>>();
            eq("removals", removed(&t.case), removed(before))
        })
}

/// Applies the network's confirmation of `action`.
fn done(f: Fixture, action: NetworkAction) -> Fixture {
    f.then(acted(action, "ana"))
}

/// A second public post by Carol (`p2`) joins the case.
fn second_post(f: Fixture, account: &str) -> Fixture {
    let kind = f.case.kind;
    f.posts(&post(account, "p2", kind, "Hello??"))
}

/// A reply by tia (trusted on `x`, so no approval) published as `net-7.1`.
fn x_dm_answered() -> Fixture {
    Fixture::on("x", Dm)
        .then(reply(tia(), "Sent you the label"))
        .then(published("7.1"))
}

pub(super) fn rows() -> Vec<Row> {
    let mut rows = likes();
    rows.extend(reposts());
    rows.extend(deletions());
    rows.extend(hides());
    rows.extend(removals());
    rows.extend(outcomes());
    rows
}

fn likes() -> Vec<Row> {
    use Fixture as F;
    let liked = || done(F::new_case(), liking("p1"));
    vec![
        queues(
            "like: the customer's latest public post",
            F::new_case(),
            like(ana(), None),
            liking("p1"),
            "ana",
        ),
        queues(
            "like: by default the latest of several posts",
            second_post(F::new_case(), "x"),
            like(bo(), None),
            liking("p2"),
            "bo",
        ),
        queues(
            "like: an earlier post named by its id",
            second_post(F::new_case(), "x"),
            like(ana(), Some("p1")),
            liking("p1"),
            "ana",
        ),
        queues(
            "like: by default skips a direct message for the latest public post",
            F::new_case().edit(|c| {
                let mut dm = c.posts[0].clone();
                dm.id = s("d2");
                dm.kind = Dm;
                c.posts.push(dm);
            }),
            like(ana(), None),
            liking("p1"),
            "ana",
        ),
        queues(
            "like: allowed on a closed case (a thank-you after closing)",
            F::closed(),
            like(ana(), None),
            liking("p1"),
            "ana",
        ),
        queues(
            "like: from outside the thread, the same",
            F::new_case(),
            Input::Command {
                actor: ana(),
                command: C::Like { post: None },
                required: Permission::Agent,
                in_thread: false,
            },
            liking("p1"),
            "ana",
        ),
        queues(
            "like: a second like before the first is confirmed queues another (idempotent)",
            F::new_case().then(like(ana(), None)),
            like(bo(), None),
            liking("p1"),
            "bo",
        ),
        queues(
            "like: a Facebook comment",
            F::on("fb", Comment),
            like(ana(), None),
            liking("p1"),
            "ana",
        ),
        queues(
            "like: a Mastodon mention (favourite)",
            F::on("masto", Mention),
            like(ana(), None),
            liking("p1"),
            "ana",
        ),
        queues(
            "like: a Bluesky mention",
            F::on("bsky", Mention),
            like(ana(), None),
            liking("p1"),
            "ana",
        ),
        queues(
            "like: approvers may",
            F::new_case(),
            like(lee(), None),
            liking("p1"),
            "lee",
        ),
        Row::new("like: by an outsider", F::new_case(), like(olga(), None)).refused(
            Refusal::NotAllowed {
                command: s("like"),
                needs: Permission::Agent,
            },
        ),
        Row::new(
            "like: Instagram can't like from the API",
            F::on("ig", Comment),
            like(ana(), None),
        )
        .refused(unsupported(Platform::Instagram, "like")),
        Row::new(
            "like: an unknown post",
            F::new_case(),
            like(ana(), Some("p9")),
        )
        .refused(Refusal::UnknownPost { post: s("p9") }),
        Row::new(
            "like: a direct-message case has no public post",
            F::on("x", Dm),
            like(ana(), None),
        )
        .refused(Refusal::NothingToLike { case: NUMBER }),
        Row::new(
            "like: a direct message named by its id",
            F::on("x", Dm),
            like(ana(), Some("p1")),
        )
        .refused(unsupported(Platform::X, "like")),
        Row::new("like: already liked", liked(), like(bo(), None))
            .refused(Refusal::AlreadyLiked { post: s("p1") }),
        // unlike
        queues(
            "unlike: takes back our like",
            liked(),
            unlike(ana(), None),
            unliking("p1"),
            "ana",
        ),
        queues(
            "unlike: by default the latest liked post, not the latest post",
            second_post(liked(), "x"),
            unlike(ana(), None),
            unliking("p1"),
            "ana",
        ),
        queues(
            "unlike: on a closed case",
            done(F::closed(), liking("p1")),
            unlike(ana(), Some("p1")),
            unliking("p1"),
            "ana",
        ),
        queues(
            "unlike: a Facebook comment",
            done(F::on("fb", Comment), liking("p1")),
            unlike(ana(), None),
            unliking("p1"),
            "ana",
        ),
        Row::new(
            "unlike: nothing was liked",
            F::new_case(),
            unlike(ana(), None),
        )
        .refused(Refusal::NotLiked { post: s("p1") }),
        Row::new(
            "unlike: the post named isn't liked",
            second_post(liked(), "x"),
            unlike(ana(), Some("p2")),
        )
        .refused(Refusal::NotLiked { post: s("p2") }),
        Row::new(
            "unlike: Instagram",
            F::on("ig", Comment),
            unlike(ana(), None),
        )
        .refused(unsupported(Platform::Instagram, "unlike")),
        Row::new("unlike: by an outsider", liked(), unlike(olga(), None)).refused(
            Refusal::NotAllowed {
                command: s("unlike"),
                needs: Permission::Agent,
            },
        ),
    ]
}

fn reposts() -> Vec<Row> {
    use Fixture as F;
    vec![
        queues(
            "repost: the customer's latest public post on X",
            F::new_case(),
            repost(ana(), None),
            reposting("p1"),
            "ana",
        ),
        queues(
            "repost: a Mastodon boost",
            F::on("masto", Mention),
            repost(ana(), Some("p1")),
            reposting("p1"),
            "ana",
        ),
        queues(
            "repost: Bluesky",
            F::on("bsky", Mention),
            repost(ana(), None),
            reposting("p1"),
            "ana",
        ),
        queues(
            "repost: a liked post can be reposted too",
            done(F::new_case(), liking("p1")),
            repost(ana(), None),
            reposting("p1"),
            "ana",
        ),
        Row::new(
            "repost: already reposted",
            done(F::new_case(), reposting("p1")),
            repost(bo(), None),
        )
        .refused(Refusal::AlreadyReposted { post: s("p1") }),
        Row::new(
            "repost: Facebook pages can't share",
            F::on("fb", Comment),
            repost(ana(), None),
        )
        .refused(unsupported(Platform::Facebook, "repost")),
        Row::new(
            "repost: Instagram",
            F::on("ig", Comment),
            repost(ana(), None),
        )
        .refused(unsupported(Platform::Instagram, "repost")),
        Row::new(
            "repost: a direct-message case",
            F::on("masto", Dm),
            repost(ana(), None),
        )
        .refused(Refusal::NothingToLike { case: NUMBER }),
        Row::new(
            "repost: a direct message named by its id",
            F::on("masto", Dm),
            repost(ana(), Some("p1")),
        )
        .refused(unsupported(Platform::Mastodon, "repost")),
        Row::new(
            "repost: an unknown post",
            F::new_case(),
            repost(ana(), Some("nope")),
        )
        .refused(Refusal::UnknownPost { post: s("nope") }),
        Row::new(
            "repost: by an outsider",
            F::new_case(),
            repost(olga(), None),
        )
        .refused(Refusal::NotAllowed {
            command: s("repost"),
            needs: Permission::Agent,
        }),
    ]
}

fn deletions() -> Vec<Row> {
    use Fixture as F;
    let two_published = || {
        F::waiting()
            .then(reply(ana(), "Anything else?"))
            .then(approve(lee(), "7.2"))
            .then(published("7.2"))
    };
    vec![
        queues(
            "delete: our latest published reply",
            F::waiting(),
            delete(ana(), None),
            deleting("7.1"),
            "ana",
        ),
        queues(
            "delete: a reply named by its draft id",
            two_published(),
            delete(ana(), Some("7.1")),
            deleting("7.1"),
            "ana",
        ),
        queues(
            "delete: a reply named by its number in the case",
            two_published(),
            delete(bo(), Some("1")),
            deleting("7.1"),
            "bo",
        ),
        queues(
            "delete: by default the latest reply still on the network",
            done(two_published(), deleting("7.2")),
            delete(ana(), None),
            deleting("7.1"),
            "ana",
        ),
        queues(
            "delete: allowed on a closed case",
            F::closed(),
            delete(ana(), None),
            deleting("7.1"),
            "ana",
        ),
        queues(
            "delete: a Mastodon direct reply (a status like any other)",
            F::on("masto", Dm)
                .then(reply(ana(), "Sent you the label"))
                .then(approve(lee(), "7.1"))
                .then(published("7.1")),
            delete(ana(), None),
            deleting("7.1"),
            "ana",
        ),
        queues(
            "delete: an Instagram comment reply",
            F::on("ig", Comment)
                .then(reply(ana(), "Back in stock Friday"))
                .then(published("7.1")),
            delete(ana(), None),
            deleting("7.1"),
            "ana",
        ),
        queues(
            "delete: a Facebook comment reply",
            F::on("fb", Comment)
                .then(reply(ana(), "Sorry, Carol"))
                .then(approve(lee(), "7.1"))
                .then(published("7.1")),
            delete(ana(), None),
            deleting("7.1"),
            "ana",
        ),
        queues(
            "delete: a Bluesky reply",
            F::on("bsky", Mention)
                .then(reply(ana(), "On it"))
                .then(published("7.1")),
            delete(ana(), None),
            deleting("7.1"),
            "ana",
        ),
        Row::new(
            "delete: an unknown draft",
            F::waiting(),
            delete(ana(), Some("7.9")),
        )
        .refused(Refusal::UnknownDraft { draft: s("7.9") }),
        Row::new(
            "delete: a draft still waiting for approval",
            F::pending(),
            delete(ana(), Some("7.1")),
        )
        .refused(Refusal::NotPublished { draft: s("7.1") }),
        Row::new(
            "delete: a failed draft",
            F::failed(),
            delete(ana(), Some("7.1")),
        )
        .refused(Refusal::NotPublished { draft: s("7.1") }),
        Row::new(
            "delete: nothing was published",
            F::pending(),
            delete(ana(), None),
        )
        .refused(Refusal::NothingToDelete { case: NUMBER }),
        Row::new(
            "delete: a reply already deleted",
            done(F::waiting(), deleting("7.1")),
            delete(ana(), Some("7.1")),
        )
        .refused(Refusal::AlreadyDeleted { draft: s("7.1") }),
        Row::new(
            "delete: every reply already deleted",
            done(F::waiting(), deleting("7.1")),
            delete(ana(), None),
        )
        .refused(Refusal::NothingToDelete { case: NUMBER }),
        Row::new(
            "delete: X can't unsend a direct message",
            x_dm_answered(),
            delete(ana(), None),
        )
        .refused(unsupported(Platform::X, "delete")),
        Row::new(
            "delete: nor can Instagram",
            F::on("ig", Dm)
                .then(reply(ana(), "Sent you the label"))
                .then(published("7.1")),
            delete(ana(), Some("7.1")),
        )
        .refused(unsupported(Platform::Instagram, "delete")),
        Row::new("delete: by an outsider", F::waiting(), delete(olga(), None)).refused(
            Refusal::NotAllowed {
                command: s("delete"),
                needs: Permission::Agent,
            },
        ),
    ]
}

/// The customer's comment `p1` removed from the network (the webhook said so).
fn gone(f: Fixture) -> Fixture {
    f.then(Input::PostChanged {
        post: s("p1"),
        change: PostChange::Removed,
    })
}

fn hides() -> Vec<Row> {
    use Fixture as F;
    let fb = || F::on("fb", Comment);
    let hidden = || done(fb(), hiding("p1"));
    vec![
        queues(
            "hide: the customer's latest comment on Facebook",
            fb(),
            hide(ana(), None),
            hiding("p1"),
            "ana",
        ),
        queues(
            "hide: an Instagram comment",
            F::on("ig", Comment),
            hide(bo(), None),
            hiding("p1"),
            "bo",
        ),
        queues(
            "hide: by default the latest comment not yet hidden",
            second_post(hidden(), "fb"),
            hide(ana(), None),
            hiding("p2"),
            "ana",
        ),
        queues(
            "hide: by default skips a hidden latest comment for an earlier one",
            done(second_post(fb(), "fb"), hiding("p2")),
            hide(ana(), None),
            hiding("p1"),
            "ana",
        ),
        queues(
            "hide: an earlier comment named by its id",
            second_post(fb(), "fb"),
            hide(ana(), Some("p1")),
            hiding("p1"),
            "ana",
        ),
        queues(
            "hide: allowed on a closed case (abuse after closing)",
            F::closed().edit(|c| {
                c.platform = Platform::Facebook;
                c.account = s("fb");
                c.posts[0].kind = Comment;
            }),
            hide(ana(), None),
            hiding("p1"),
            "ana",
        ),
        Row::new("hide: already hidden", hidden(), hide(bo(), Some("p1")))
            .refused(Refusal::AlreadyHidden { post: s("p1") }),
        Row::new(
            "hide: every comment already hidden",
            hidden(),
            hide(bo(), None),
        )
        .refused(Refusal::AlreadyHidden { post: s("p1") }),
        Row::new(
            "hide: a Messenger case has no comment",
            F::on("fb", Dm),
            hide(ana(), None),
        )
        .refused(Refusal::NothingToHide { case: NUMBER }),
        Row::new(
            "hide: a direct message named by its id",
            F::on("fb", Dm),
            hide(ana(), Some("p1")),
        )
        .refused(unsupported(Platform::Facebook, "hide")),
        Row::new(
            "hide: an Instagram mention is on someone else's media",
            F::on("ig", Mention),
            hide(ana(), Some("p1")),
        )
        .refused(unsupported(Platform::Instagram, "hide")),
        Row::new("hide: X can't", F::new_case(), hide(ana(), None))
            .refused(unsupported(Platform::X, "hide")),
        Row::new(
            "hide: nor can Mastodon",
            F::on("masto", Mention),
            hide(ana(), None),
        )
        .refused(unsupported(Platform::Mastodon, "hide")),
        Row::new("hide: an unknown comment", fb(), hide(ana(), Some("p9")))
            .refused(Refusal::UnknownPost { post: s("p9") }),
        Row::new(
            "hide: a removed comment",
            gone(fb()),
            hide(ana(), Some("p1")),
        )
        .refused(Refusal::PostGone { post: s("p1") }),
        Row::new(
            "hide: by default nothing left when the comment is gone",
            gone(fb()),
            hide(ana(), None),
        )
        .refused(Refusal::NothingToHide { case: NUMBER }),
        Row::new("hide: by an outsider", fb(), hide(olga(), None)).refused(Refusal::NotAllowed {
            command: s("hide"),
            needs: Permission::Agent,
        }),
        // unhide
        queues(
            "unhide: shows our hidden comment again",
            hidden(),
            unhide(ana(), None),
            unhiding("p1"),
            "ana",
        ),
        queues(
            "unhide: by default the latest hidden comment, not the latest comment",
            second_post(hidden(), "fb"),
            unhide(bo(), None),
            unhiding("p1"),
            "bo",
        ),
        Row::new("unhide: nothing is hidden", fb(), unhide(ana(), None))
            .refused(Refusal::NothingHidden { case: NUMBER }),
        Row::new(
            "unhide: the comment named isn't hidden",
            second_post(hidden(), "fb"),
            unhide(ana(), Some("p2")),
        )
        .refused(Refusal::NotHidden { post: s("p2") }),
        Row::new("unhide: X can't", F::new_case(), unhide(ana(), None))
            .refused(unsupported(Platform::X, "unhide")),
    ]
}

fn removals() -> Vec<Row> {
    use Fixture as F;
    let fb = || F::on("fb", Comment);
    vec![
        queues(
            "delete <comment>: the customer's Facebook comment named by its id",
            fb(),
            delete(ana(), Some("p1")),
            removing("p1"),
            "ana",
        ),
        queues(
            "delete <comment>: an Instagram comment",
            F::on("ig", Comment),
            delete(bo(), Some("p1")),
            removing("p1"),
            "bo",
        ),
        queues(
            "delete <comment>: a hidden comment can be deleted too",
            done(fb(), hiding("p1")),
            delete(ana(), Some("p1")),
            removing("p1"),
            "ana",
        ),
        queues(
            "delete without an id is our reply, never the customer's comment",
            fb().then(reply(ana(), "Sorry, Carol"))
                .then(approve(lee(), "7.1"))
                .then(published("7.1")),
            delete(ana(), None),
            deleting("7.1"),
            "ana",
        ),
        Row::new(
            "delete <comment>: already removed",
            gone(fb()),
            delete(ana(), Some("p1")),
        )
        .refused(Refusal::PostGone { post: s("p1") }),
        Row::new(
            "delete <comment>: a Messenger message can't be",
            F::on("fb", Dm),
            delete(ana(), Some("p1")),
        )
        .refused(unsupported(Platform::Facebook, "remove")),
        Row::new(
            "delete <post>: X doesn't let the account delete other people's posts",
            F::new_case(),
            delete(ana(), Some("p1")),
        )
        .refused(unsupported(Platform::X, "remove")),
        Row::new(
            "delete <comment>: by an outsider",
            fb(),
            delete(olga(), Some("p1")),
        )
        .refused(Refusal::NotAllowed {
            command: s("delete"),
            needs: Permission::Agent,
        }),
    ]
}

fn outcomes() -> Vec<Row> {
    use Fixture as F;
    let liked = || done(F::new_case(), liking("p1"));
    vec![
        Row::new(
            "acted like: the post is liked, the thread told",
            F::new_case(),
            acted(liking("p1"), "ana"),
        )
        .effects(vec![thread(Notice::Acted {
            action: liking("p1"),
            by: s("ana"),
        })])
        .audit(&["liked"])
        .check(|_, t| eq("liked", t.case.liked.clone(), [s("p1")].into())),
        Row::new(
            "acted like twice: the second report changes nothing",
            liked(),
            acted(liking("p1"), "bo"),
        )
        .noop(),
        Row::new(
            "acted like for a post not in the case changes nothing",
            F::new_case(),
            acted(liking("p9"), "ana"),
        )
        .noop(),
        Row::new(
            "acted unlike: the like is gone",
            liked(),
            acted(unliking("p1"), "ana"),
        )
        .effects(vec![thread(Notice::Acted {
            action: unliking("p1"),
            by: s("ana"),
        })])
        .audit(&["unliked"])
        .check(|_, t| eq("liked", t.case.liked.is_empty(), true)),
        Row::new(
            "acted unlike twice: the second report changes nothing",
            done(liked(), unliking("p1")),
            acted(unliking("p1"), "ana"),
        )
        .noop(),
        Row::new(
            "acted repost: the post is reposted",
            F::new_case(),
            acted(reposting("p1"), "ana"),
        )
        .effects(vec![thread(Notice::Acted {
            action: reposting("p1"),
            by: s("ana"),
        })])
        .audit(&["reposted"])
        .check(|_, t| eq("reposted", t.case.reposted.clone(), [s("p1")].into())),
        Row::new(
            "acted repost twice: the second report changes nothing",
            done(F::new_case(), reposting("p1")),
            acted(reposting("p1"), "ana"),
        )
        .noop(),
        Row::new(
            "acted delete: the reply is marked deleted, still published, status kept",
            F::waiting(),
            acted(deleting("7.1"), "bo"),
        )
        .drafts(&[("7.1", Published)])
        .effects(vec![thread(Notice::Acted {
            action: deleting("7.1"),
            by: s("bo"),
        })])
        .audit(&["deleted"])
        .draft("7.1", |d| {
            eq("deleted by", d.deleted_by.as_deref(), Some("bo"))?;
            eq("deleted", d.deleted_at.is_some(), true)
        })
        .check(|_, t| {
            let d = t.case.draft("7.1").ok_or("no draft")?;
            eq("deleted at", d.deleted_at, Some(t.case.updated_at))?;
            eq(
                "first response",
                t.case.sla.first_response_at.is_some(),
                true,
            )
        }),
        Row::new(
            "acted delete twice: the second report changes nothing",
            done(F::waiting(), deleting("7.1")),
            acted(deleting("7.1"), "ana"),
        )
        .noop(),
        Row::new(
            "acted delete for an unknown draft changes nothing",
            F::waiting(),
            acted(deleting("7.9"), "ana"),
        )
        .noop(),
        Row::new(
            "acted hide: the comment is hidden, the thread told",
            F::on("fb", Comment),
            acted(hiding("p1"), "ana"),
        )
        .effects(vec![thread(Notice::Acted {
            action: hiding("p1"),
            by: s("ana"),
        })])
        .audit(&["hid"])
        .check(|_, t| eq("hidden", t.case.hidden.clone(), [s("p1")].into())),
        Row::new(
            "acted hide twice: the second report changes nothing",
            done(F::on("fb", Comment), hiding("p1")),
            acted(hiding("p1"), "bo"),
        )
        .noop(),
        Row::new(
            "acted unhide: the comment shows again",
            done(F::on("ig", Comment), hiding("p1")),
            acted(unhiding("p1"), "ana"),
        )
        .effects(vec![thread(Notice::Acted {
            action: unhiding("p1"),
            by: s("ana"),
        })])
        .audit(&["unhid"])
        .check(|_, t| eq("hidden", t.case.hidden.is_empty(), true)),
        Row::new(
            "acted remove: the comment is marked removed and stays in the case",
            F::on("fb", Comment),
            acted(removing("p1"), "bo"),
        )
        .effects(vec![thread(Notice::Acted {
            action: removing("p1"),
            by: s("bo"),
        })])
        .audit(&["deleted comment"])
        .check(|_, t| {
            let p = t.case.post("p1").ok_or("no post")?;
            eq("removed", p.removed, true)
        }),
        Row::new(
            "acted remove after the webhook already said it is gone changes nothing",
            gone(F::on("fb", Comment)),
            acted(removing("p1"), "bo"),
        )
        .noop(),
        Row::new(
            "the webhook's removal after our deletion changes nothing",
            done(F::on("fb", Comment), removing("p1")),
            Input::PostChanged {
                post: s("p1"),
                change: PostChange::Removed,
            },
        )
        .noop(),
        Row::new(
            "act failed for a hide already done changes nothing",
            done(F::on("fb", Comment), hiding("p1")),
            act_failed(hiding("p1"), "ana", "timeout"),
        )
        .noop(),
        Row::new(
            "act failed: the asker is told why, nothing changes",
            F::new_case(),
            act_failed(liking("p1"), "ana", "rate limited"),
        )
        .effects(vec![thread(Notice::ActFailed {
            action: liking("p1"),
            by: s("ana"),
            reason: s("rate limited"),
        })])
        .audit(&["like failed"])
        .check(|before, t| {
            eq("liked", &t.case.liked, &before.liked)?;
            eq(
                "details",
                t.audit[0].details.as_deref(),
                Some("post p1: rate limited"),
            )
        }),
        Row::new(
            "act failed for a delete",
            F::waiting(),
            act_failed(deleting("7.1"), "bo", "not found"),
        )
        .effects(vec![thread(Notice::ActFailed {
            action: deleting("7.1"),
            by: s("bo"),
            reason: s("not found"),
        })])
        .audit(&["delete failed"])
        .draft("7.1", |d| eq("deleted", d.deleted_at, None)),
        Row::new(
            "act failed after the network confirmed it anyway changes nothing",
            liked(),
            act_failed(liking("p1"), "ana", "timeout"),
        )
        .noop(),
        Row::new(
            "act failed for a delete already done changes nothing",
            done(F::waiting(), deleting("7.1")),
            act_failed(deleting("7.1"), "ana", "timeout"),
        )
        .noop(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Stored shapes

#[test]
fn a_case_stored_before_network_actions_still_loads() {
    let case = Fixture::waiting().case;
    let mut json = serde_json::to_value(&case).unwrap();
    let object = json.as_object_mut().unwrap();
    // A case with nothing hidden doesn't store the set.
    assert!(object.get("hidden").is_none());
    assert!(object.remove("liked").is_some());
    assert!(object.remove("reposted").is_some());
    // A draft that was never deleted stores no deletion fields at all.
    let draft = &json["drafts"][0];
    assert!(draft.get("deleted_at").is_none() && draft.get("deleted_by").is_none());
    let old: Case = serde_json::from_value(json).unwrap();
    assert!(old.liked.is_empty() && old.reposted.is_empty());
    assert_eq!(old, case);
}

#[test]
fn actions_round_trip_through_the_outbox_and_store() {
    let case = done(done(Fixture::waiting(), liking("p1")), deleting("7.1")).case;
    let json = serde_json::to_value(&case).unwrap();
    assert_eq!(json["liked"], serde_json::json!(["p1"]));
    let fb = done(
        done(Fixture::on("fb", Comment), hiding("p1")),
        removing("p1"),
    )
    .case;
    let stored = serde_json::to_value(&fb).unwrap();
    assert_eq!(stored["hidden"], serde_json::json!(["p1"]));
    assert_eq!(stored["posts"][0]["removed"], true);
    assert_eq!(serde_json::from_value::<Case>(stored).unwrap(), fb);
    assert_eq!(json["drafts"][0]["deleted_by"], "ana");
    assert_eq!(serde_json::from_value::<Case>(json).unwrap(), case);

    let effect = act(deleting("7.1"), "ana");
    let json = serde_json::to_value(&effect).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "effect": "act",
            "action": {"action": "delete", "draft": "7.1", "id": "net-7.1"},
            "by": "ana",
        })
    );
    assert_eq!(serde_json::from_value::<Effect>(json).unwrap(), effect);
    let outcome = Outcome::ActFailed {
        action: liking("p1"),
        by: s("ana"),
        reason: s("gone"),
    };
    let json = serde_json::to_string(&outcome).unwrap();
    assert_eq!(serde_json::from_str::<Outcome>(&json).unwrap(), outcome);
}

#[test]
fn action_keys_name_the_commands() {
    for kind in ActionKind::ALL {
        assert_eq!(ActionKind::from_key(kind.key()), Some(kind));
        assert!(Command::NAMES.contains(&kind.command()), "{}", kind.key());
    }
    assert_eq!(liking("p1").key(), "like");
    assert_eq!(removing("p1").key(), "remove");
    assert_eq!(ActionKind::Remove.command(), "delete");
    assert_eq!(deleting("7.1").target(), "7.1");
    assert_eq!(deleting("7.1").post(), None);
    assert_eq!(hiding("p1").post(), Some("p1"));
    assert_eq!(NetworkAction::on_post(ActionKind::Delete, s("p1")), None);
    assert_eq!(
        NetworkAction::on_post(ActionKind::Remove, s("p1")),
        Some(removing("p1"))
    );
}

#[test]
fn still_wanted_keeps_every_action() {
    let f = done(Fixture::waiting(), deleting("7.1"));
    for effect in [act(deleting("7.1"), "ana"), act(liking("p1"), "ana")] {
        assert!(still_wanted(&f.case, &effect), "{effect:?}");
    }
}

#[test]
fn texts_say_what_happened_and_what_to_do_instead() {
    use crate::text::{at, notice_on, refusal};
    let f = second_post(Fixture::waiting(), "x");
    let notice = |n: Notice| notice_on(&f.case, &n, Some(Platform::X), &at);
    assert_eq!(
        notice(Notice::Acted {
            action: liking("p2"),
            by: s("ana"),
        }),
        "❤️ Liked the customer's post (by @ana)."
    );
    assert_eq!(
        notice(Notice::Acted {
            action: reposting("p1"),
            by: s("ana"),
        }),
        "🔁 Reposted the customer's post p1 on X (by @ana)."
    );
    assert_eq!(
        notice(Notice::Acted {
            action: deleting("7.1"),
            by: s("bo"),
        }),
        "🗑️ Deleted our reply 7.1 from X (by @bo)."
    );
    assert_eq!(
        notice(Notice::ActFailed {
            action: unliking("p2"),
            by: s("ana"),
            reason: s("HTTP 429"),
        }),
        "@ana: couldn't take back our like of the customer's post on X: HTTP 429. `unlike p2` tries again."
    );
    // Without a simulated network, the case's own platform is named.
    assert!(
        crate::text::notice(
            &f.case,
            &Notice::Acted {
                action: deleting("7.1"),
                by: s("bo"),
            },
            &at
        )
        .contains("from Demo")
    );
    let say = |r: Refusal| refusal(&r, &at);
    assert_eq!(
        say(unsupported(Platform::Instagram, "like")),
        "Instagram doesn't let the account like posts from here; answer with `reply` instead."
    );
    assert_eq!(
        say(unsupported(Platform::X, "like")),
        "X can't like a direct message, only public posts; name a public post of the case (`like <post>`), or answer with `reply`."
    );
    assert_eq!(
        say(unsupported(Platform::X, "delete")),
        "X can't take back a direct message once it is sent: the customer keeps it. Send a correction with `dm`."
    );
    assert!(say(unsupported(Platform::Facebook, "repost")).starts_with("Facebook doesn't let"));
    assert_eq!(
        say(unsupported(Platform::Instagram, "hide")),
        "Instagram only lets the account `hide` comments on its own posts, not mentions or direct messages; name a comment of the case (`hide <post>`)."
    );
    assert_eq!(
        say(unsupported(Platform::X, "remove")),
        "X doesn't let the account hide or delete other people's posts; answer with `reply`, or report the post in the X app."
    );
    let fb = Fixture::on("fb", Comment).case;
    let on_fb = |n: Notice| notice_on(&fb, &n, Some(Platform::Facebook), &at);
    assert_eq!(
        on_fb(Notice::Acted {
            action: hiding("p1"),
            by: s("ana"),
        }),
        "🙈 Hid the customer's comment on Facebook (by @ana): only its author and their friends still see it."
    );
    assert_eq!(
        on_fb(Notice::Acted {
            action: removing("p1"),
            by: s("ana"),
        }),
        "🗑️ Deleted the customer's comment from Facebook (by @ana)."
    );
    assert_eq!(
        on_fb(Notice::ActFailed {
            action: removing("p1"),
            by: s("ana"),
            reason: s("HTTP 500"),
        }),
        "@ana: couldn't delete the customer's comment from Facebook: HTTP 500. `delete p1` tries again."
    );
    assert_eq!(
        say(Refusal::AlreadyHidden { post: s("p1") }),
        "The customer's comment p1 is already hidden; `unhide p1` shows it again."
    );
    assert!(say(unsupported(Platform::Webhook, "delete")).starts_with("Webhook doesn't let"));
}
