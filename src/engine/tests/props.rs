//! Property tests: random sequences of commands, reactions, dispatcher outcomes, sweeps, time
//! steps and (duplicate, reordered) customer posts, with the workflow's invariants checked after
//! every step; and dedupe of posts under any order and any duplicates.
//!
//! The dispatcher is modelled as the real one behaves: `Publish` effects queue up in an
//! outbox; one at a time is started, and only if its draft is still approved when it starts;
//! its result (published, or failed for good) is reported later, possibly after the case moved
//! on. A publication that failed for good may also be reported late for any draft that was ever
//! queued (the dispatcher gives up on retries after checking the draft). Network actions
//! (like, unlike, repost, delete) queue up too and are reported done or failed, sometimes twice.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

use super::*;

/// People who act, with (agent, approver). `tia` is trusted on the `x` account.
const PEOPLE: [(&str, bool, bool); 6] = [
    ("ana", true, false),
    ("bo", true, false),
    ("tia", true, false),
    ("lee", true, true),
    ("max", true, true),
    ("olga", false, false),
];
const APPROVERS: [&str; 2] = ["lee", "max"];
const EMOJI: [&str; 5] = ["✅", "❌", "👍", "white_check_mark", "x"];
const TEXTS: [&str; 6] = [
    "We're on it",
    "Sorry about that",
    "Fixed now",
    "",
    "Thanks for waiting",
    "Fixed now ",
];
/// Accounts the property test runs a case on (one per approval mode and more).
const PROP_ACCOUNTS: [&str; 5] = ["x", "fb", "ig", "masto", "bsky"];
/// How many customer posts the pool of one conversation has.
const POOL: usize = 4;

fn person(i: usize) -> Actor {
    let (id, agent, approver) = PEOPLE[i % PEOPLE.len()];
    actor(id, agent, approver)
}

#[derive(Debug, Clone)]
enum Op {
    /// A command by a person; `arg` picks its argument.
    Command {
        actor: usize,
        command: usize,
        arg: usize,
    },
    /// A reaction on the case's `draft`-th draft (or an unknown one).
    React {
        actor: usize,
        draft: usize,
        emoji: usize,
        added: bool,
    },
    /// The dispatcher starts the next queued publication, if none is running.
    Dispatch,
    /// The running publication ends.
    Finish {
        ok: bool,
    },
    /// The dispatcher reports a publication again (a redelivery).
    ReportAgain {
        draft: usize,
    },
    /// A publication that failed for good is reported late.
    LateFailure {
        draft: usize,
    },
    /// The dispatcher shows a draft in the thread.
    Shown {
        draft: usize,
    },
    Sweep,
    Wait {
        minutes: i64,
    },
    /// The customer's `post`-th post of the pool comes in (again, maybe).
    Post {
        post: usize,
    },
    /// The dispatcher performs the oldest queued network action (reporting it twice, maybe).
    Act {
        ok: bool,
        twice: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..PEOPLE.len(), 0..COMMANDS, 0..12usize)
            .prop_map(|(actor, command, arg)| Op::Command { actor, command, arg }),
        5 => (0..PEOPLE.len(), 0..6usize, 0..EMOJI.len(), prop::bool::weighted(0.8))
            .prop_map(|(actor, draft, emoji, added)| Op::React { actor, draft, emoji, added }),
        3 => Just(Op::Dispatch),
        3 => prop::bool::weighted(0.7).prop_map(|ok| Op::Finish { ok }),
        1 => (0..6usize).prop_map(|draft| Op::ReportAgain { draft }),
        1 => (0..6usize).prop_map(|draft| Op::LateFailure { draft }),
        1 => (0..6usize).prop_map(|draft| Op::Shown { draft }),
        1 => Just(Op::Sweep),
        2 => prop_oneof![Just(1i64), Just(30), Just(5 * 60), Just(26 * 60), Just(80 * 60)]
            .prop_map(|minutes| Op::Wait { minutes }),
        2 => (0..POOL).prop_map(|post| Op::Post { post }),
        2 => (prop::bool::weighted(0.8), prop::bool::weighted(0.2))
            .prop_map(|(ok, twice)| Op::Act { ok, twice }),
    ]
}

/// Number of command choices (replies are weighted up).
const COMMANDS: usize = 27;

fn command(index: usize, arg: usize) -> Command {
    let text = || TEXTS[arg % TEXTS.len()].to_owned();
    // A post of the pool (or `p0`, unknown), or the default target.
    let post = || (!arg.is_multiple_of(3)).then(|| format!("p{}", arg % (POOL + 1)));
    match index {
        0 => Command::Claim,
        1 => Command::Unclaim,
        2 => Command::Assign {
            user: PEOPLE[arg % PEOPLE.len()].0.to_owned(),
        },
        3..=5 => Command::Reply { text: text() },
        6 => Command::Dm { text: text() },
        7 => Command::Note { text: text() },
        8 => Command::Canned {
            name: ["sorry", "thanks", "nope"][arg % 3].to_owned(),
        },
        9 => Command::Escalate {
            team: ["billing", "legal"][arg % 2].to_owned(),
            reason: arg.is_multiple_of(3).then(|| "why not".to_owned()),
        },
        10 => Command::Offline {
            channel: [
                OfflineChannel::Email,
                OfflineChannel::Sms,
                OfflineChannel::Dm,
            ][arg % 3],
            address: arg
                .is_multiple_of(2)
                .then(|| "care@acme.example".to_owned()),
        },
        11 | 12 => Command::Close {
            note: arg.is_multiple_of(2).then(|| "done".to_owned()),
        },
        13 => Command::Reopen,
        14 => Command::Recall,
        15 | 16 => Command::Retry,
        17 => Command::Tag {
            label: ["vip", "billing"][arg % 2].to_owned(),
        },
        18 => Command::Snooze {
            duration: Duration::from_secs([30, 600, 7200][arg % 3]),
        },
        19 => Command::Status,
        20 => Command::Help { command: None },
        21 => Command::Like { post: post() },
        22 => Command::Unlike { post: post() },
        23 => Command::Repost { post: post() },
        24 => Command::Hide { post: post() },
        25 => Command::Unhide { post: post() },
        _ => Command::Delete {
            // A customer's comment, a draft by its number in the case (`0` is unknown), or
            // the default target.
            target: match arg % 5 {
                0 => post(),
                _ => (!arg.is_multiple_of(3)).then(|| format!("{}", arg % 4)),
            },
        },
    }
}

/// The customer's posts in one conversation on `account`.
fn pool(account: &str) -> Vec<SocialPost> {
    let kind = match account {
        "fb" | "ig" => PostKind::Comment,
        _ => PostKind::Mention,
    };
    (1..=POOL)
        .map(|i| post(account, &format!("p{i}"), kind, &format!("message {i}")))
        .collect()
}

/// May `d`, in its current state, be sent out? Decided by a configured approver other than
/// its author (unless self-approval is allowed), or needing no approval and approved by the bot.
fn authorized(d: &Draft, config: &Config) -> bool {
    match d.decided_by.as_deref() {
        Some(BOT) => !d.needs_approval,
        Some(by) => {
            APPROVERS.contains(&by) && (by != d.author || config.approval.allow_self_approval)
        }
        None => false,
    }
}

/// The case, the outbox and the network, as the store and dispatcher would hold them.
struct World {
    config: &'static Config,
    now: DateTime<Utc>,
    sent: Sent,
    cases: BTreeMap<u64, Case>,
    current: u64,
    /// dedupe key → case, conversation key → latest case (the store's indexes).
    posts: HashMap<String, u64>,
    conversations: HashMap<String, u64>,
    pool: Vec<SocialPost>,
    outbox: VecDeque<(u64, String)>,
    running: Option<(u64, String)>,
    /// Drafts for which a `Publish` was ever queued (each checked as authorized then).
    queued: HashSet<String>,
    /// Successful publications per draft, as the network saw them.
    network: HashMap<String, u32>,
    /// Queued network actions: case, action, who asked.
    acts: VecDeque<(u64, NetworkAction, String)>,
    log: Vec<String>,
}

impl World {
    fn new(account: &str, config: &'static Config) -> Self {
        let pool = pool(account);
        let mut world = World {
            config,
            now: t0(),
            sent: Sent::default(),
            cases: BTreeMap::new(),
            current: 0,
            posts: HashMap::new(),
            conversations: HashMap::new(),
            pool,
            outbox: VecDeque::new(),
            running: None,
            queued: HashSet::new(),
            network: HashMap::new(),
            acts: VecDeque::new(),
            log: Vec::new(),
        };
        world.post(0);
        world
    }

    fn case(&self) -> &Case {
        &self.cases[&self.current]
    }

    /// The id of the current case's `i`-th draft, or an unknown id.
    fn draft_id(&self, i: usize) -> String {
        let case = self.case();
        match case.drafts.get(i % 6) {
            Some(d) => d.id.clone(),
            None => format!("{}.99", case.number),
        }
    }

    fn fail(&self, what: String) -> ! {
        panic!("{what}\nsteps:\n  {}", self.log.join("\n  "))
    }

    fn ensure(&self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.fail(what());
        }
    }

    fn run(&mut self, op: &Op) {
        self.log
            .push(format!("{} {op:?}", self.now.format("%d %H:%M")));
        match *op {
            Op::Command {
                actor,
                command: c,
                arg,
            } => {
                let command = command(c, arg);
                let input = Input::Command {
                    actor: person(actor),
                    required: required(&command),
                    command,
                    in_thread: arg % 4 != 0,
                };
                self.apply(self.current, input);
            }
            Op::React {
                actor,
                draft,
                emoji,
                added,
            } => {
                let input = Input::Reaction {
                    actor: person(actor),
                    draft: self.draft_id(draft),
                    emoji: EMOJI[emoji].to_owned(),
                    added,
                };
                self.apply(self.current, input);
            }
            Op::Dispatch => {
                if self.running.is_none() {
                    while let Some((number, draft)) = self.outbox.pop_front() {
                        let still_approved = self.cases[&number]
                            .draft(&draft)
                            .is_some_and(|d| d.state == DraftState::Approved);
                        if still_approved {
                            self.running = Some((number, draft));
                            break;
                        }
                    }
                }
            }
            Op::Finish { ok } => {
                if let Some((number, draft)) = self.running.take() {
                    if ok {
                        let count = self.network.entry(draft.clone()).or_default();
                        *count += 1;
                        let count = *count;
                        self.ensure(count == 1, || {
                            format!("draft {draft} published {count} times")
                        });
                        self.apply(
                            number,
                            Input::Outcome(Outcome::Published {
                                id: format!("net-{draft}"),
                                draft,
                            }),
                        );
                    } else {
                        self.apply(
                            number,
                            Input::Outcome(Outcome::PublishFailed {
                                draft,
                                reason: "refused".to_owned(),
                            }),
                        );
                    }
                }
            }
            Op::ReportAgain { draft } => {
                let published: Vec<String> = self
                    .case()
                    .drafts
                    .iter()
                    .filter(|d| d.state == DraftState::Published)
                    .map(|d| d.id.clone())
                    .collect();
                if let Some(id) = published.get(draft % 6) {
                    for outcome in [
                        Outcome::Published {
                            draft: id.clone(),
                            id: "net-again".to_owned(),
                        },
                        Outcome::PublishFailed {
                            draft: id.clone(),
                            reason: "late".to_owned(),
                        },
                    ] {
                        let before = self.case().clone();
                        let t = apply(&before, Input::Outcome(outcome.clone()), &self.ctx())
                            .unwrap_or_else(|r| self.fail(format!("{outcome:?} refused: {r:?}")));
                        self.ensure(t.is_noop(&before), || {
                            format!("{outcome:?} on published draft changed the case: {t:?}")
                        });
                    }
                }
            }
            Op::LateFailure { draft } => {
                let id = self.draft_id(draft);
                if self.queued.contains(&id) && self.running.as_ref().is_none_or(|(_, r)| *r != id)
                {
                    self.apply(
                        self.current,
                        Input::Outcome(Outcome::PublishFailed {
                            draft: id,
                            reason: "gave up".to_owned(),
                        }),
                    );
                }
            }
            Op::Shown { draft } => {
                let input = Input::Outcome(Outcome::DraftShown {
                    draft: self.draft_id(draft),
                    message: format!("m-{draft}"),
                });
                self.apply(self.current, input);
            }
            Op::Sweep => {
                let numbers: Vec<u64> = self.cases.keys().copied().collect();
                for number in numbers {
                    self.apply(number, Input::Sweep);
                }
            }
            Op::Act { ok, twice } => {
                if let Some((number, action, by)) = self.acts.pop_front() {
                    let outcome = if ok {
                        Outcome::Acted { action, by }
                    } else {
                        Outcome::ActFailed {
                            action,
                            by,
                            reason: "refused".to_owned(),
                        }
                    };
                    self.apply(number, Input::Outcome(outcome.clone()));
                    if twice {
                        let before = self.cases[&number].clone();
                        let t = apply(&before, Input::Outcome(outcome.clone()), &self.ctx())
                            .unwrap_or_else(|r| self.fail(format!("{outcome:?} refused: {r:?}")));
                        if ok {
                            self.ensure(t.is_noop(&before), || {
                                format!("{outcome:?} reported again changed the case: {t:?}")
                            });
                        }
                        self.check_step(&before, &t, Some(&Input::Outcome(outcome)));
                        self.commit(t);
                    }
                }
            }
            Op::Wait { minutes } => self.now += TimeDelta::minutes(minutes),
            Op::Post { post } => self.post(post),
        }
        self.now += TimeDelta::seconds(1);
        self.check_world();
    }

    fn ctx(&self) -> Ctx<'_> {
        ctx(self.config, &self.sent, self.now)
    }

    /// Ingests a post through the store's indexes, as the service does.
    fn post(&mut self, i: usize) {
        let post = tweak(self.pool[i % self.pool.len()].clone(), |p| {
            p.created_at = self.now
        });
        if self.posts.contains_key(&post.dedupe_key()) {
            return;
        }
        let key = post.conversation_key();
        let candidate = self.conversations.get(&key).map(|n| self.cases[n].clone());
        let next = self.cases.keys().max().map_or(1, |n| n + 1);
        let transition = match ingest(&post, candidate.as_ref(), next, &self.ctx()) {
            Ingested::Duplicate => self.fail(format!(
                "{} is in no case, yet ingest calls it a duplicate",
                post.id
            )),
            Ingested::Opened(t) => {
                self.ensure(t.case.number == next, || {
                    "new case has the wrong number".to_owned()
                });
                self.ensure(t.effects == vec![Effect::Card], || {
                    format!("a new case's effects: {:?}", t.effects)
                });
                self.check_case(&t.case);
                t
            }
            Ingested::Joined(t) => {
                let before = candidate.unwrap_or_else(|| self.fail("joined no case".to_owned()));
                self.check_step(&before, &t, None);
                t
            }
        };
        self.posts.insert(post.dedupe_key(), transition.case.number);
        self.conversations.insert(key, transition.case.number);
        self.current = transition.case.number;
        self.commit(transition);
    }

    /// Applies an input to case `number`; a refusal changes nothing.
    fn apply(&mut self, number: u64, input: Input) {
        let before = self.cases[&number].clone();
        match apply(&before, input.clone(), &self.ctx()) {
            Ok(t) => {
                self.check_step(&before, &t, Some(&input));
                self.commit(t);
            }
            Err(refusal) => {
                // A refusal is a value for the person who acted; check it renders.
                let text = crate::text::refusal(&refusal, &crate::text::at);
                self.ensure(!text.is_empty(), || format!("{refusal:?} renders empty"));
            }
        }
    }

    fn commit(&mut self, t: Transition) {
        let number = t.case.number;
        for effect in &t.effects {
            match effect {
                Effect::Publish { draft } => {
                    self.outbox.push_back((number, draft.clone()));
                    self.queued.insert(draft.clone());
                }
                Effect::Act { action, by } => {
                    self.acts.push_back((number, action.clone(), by.clone()));
                }
                _ => {}
            }
        }
        // What the store indexes for X's duplicate rule.
        let platform = rules::rules_platform(self.config.account(&t.case.account), t.case.platform);
        if platform == Platform::X {
            let before = self.cases.get(&number);
            for d in &t.case.drafts {
                let newly = d.state == DraftState::Published
                    && before
                        .and_then(|b| b.draft(&d.id))
                        .is_none_or(|b| b.state != DraftState::Published);
                if newly && d.kind == DraftKind::Public {
                    self.sent
                        .0
                        .insert((t.case.account.clone(), rules::normalized(&d.text)));
                }
            }
        }
        self.cases.insert(number, t.case);
    }

    /// Invariants of one case on its own.
    fn check_case(&self, c: &Case) {
        let n = c.number;
        match c.status {
            Status::New => self.ensure(c.assignee.is_none(), || format!("#{n} is new but owned")),
            Status::Open => {
                self.ensure(c.assignee.is_some(), || format!("#{n} is open but unowned"))
            }
            _ => {}
        }
        self.ensure(
            (c.status == Status::Closed) == c.closed_at.is_some(),
            || {
                format!(
                    "#{n}: status {:?} with closed_at {:?}",
                    c.status, c.closed_at
                )
            },
        );
        let ids: HashSet<&str> = c.drafts.iter().map(|d| d.id.as_str()).collect();
        self.ensure(ids.len() == c.drafts.len(), || {
            format!("#{n}: draft ids repeat")
        });
        for (i, d) in c.drafts.iter().enumerate() {
            self.ensure(d.id == format!("{n}.{}", i + 1), || {
                format!("#{n}: draft id {}", d.id)
            });
            match d.state {
                DraftState::Pending => self.ensure(d.decided_by.is_none(), || {
                    format!("pending draft {} decided by {:?}", d.id, d.decided_by)
                }),
                DraftState::Approved => self.ensure(authorized(d, self.config), || {
                    format!("draft {} approved without an approver: {d:?}", d.id)
                }),
                DraftState::Rejected => self.ensure(
                    d.decided_by
                        .as_deref()
                        .is_some_and(|b| APPROVERS.contains(&b)),
                    || format!("draft {} rejected by {:?}", d.id, d.decided_by),
                ),
                DraftState::Recalled => self
                    .ensure(d.decided_by.as_deref() == Some(&d.author), || {
                        format!("draft {} recalled by {:?}", d.id, d.decided_by)
                    }),
                DraftState::Published => {
                    self.ensure(self.queued.contains(&d.id), || {
                        format!(
                            "draft {} published without ever being approved for it",
                            d.id
                        )
                    });
                    self.ensure(d.published_id.is_some() && d.published_at.is_some(), || {
                        format!("published draft {} without id or time", d.id)
                    });
                }
                DraftState::Failed => self.ensure(d.error.is_some(), || {
                    format!("failed draft {} without reason", d.id)
                }),
            }
        }
        let posts: HashSet<&str> = c.posts.iter().map(|p| p.id.as_str()).collect();
        self.ensure(posts.len() == c.posts.len(), || {
            format!("#{n}: a post is in twice")
        });
        // Only the case's own public posts are liked or reposted.
        for id in c.liked.iter().chain(&c.reposted) {
            self.ensure(c.post(id).is_some_and(|p| !p.kind.is_direct()), || {
                format!("#{n}: {id} liked or reposted but no public post of the case")
            });
        }
        // Only a published reply is deleted, and we know who asked.
        for d in &c.drafts {
            if d.deleted_at.is_some() {
                self.ensure(
                    d.state == DraftState::Published && d.deleted_by.is_some(),
                    || {
                        format!(
                            "deleted draft {} is {:?} by {:?}",
                            d.id, d.state, d.deleted_by
                        )
                    },
                );
            }
        }
    }

    /// Invariants of one step from `before` to `t` (`input` is None for an ingest).
    fn check_step(&self, before: &Case, t: &Transition, input: Option<&Input>) {
        let after = &t.case;
        self.check_case(after);
        self.ensure(after.number == before.number, || {
            "the case number changed".to_owned()
        });
        // Exactly one Publish per move into Approved, for an authorized draft.
        for d in &after.drafts {
            let was = before.draft(&d.id).map(|b| b.state);
            let into_approved =
                d.state == DraftState::Approved && was != Some(DraftState::Approved);
            let publishes = t
                .effects
                .iter()
                .filter(|e| matches!(e, Effect::Publish { draft } if *draft == d.id))
                .count();
            self.ensure(publishes == usize::from(into_approved), || {
                format!(
                    "draft {} went {was:?} → {:?} with {publishes} Publish effects",
                    d.id, d.state
                )
            });
        }
        for e in &t.effects {
            if let Effect::Publish { draft } | Effect::ShowDraft { draft } = e {
                self.ensure(after.draft(draft).is_some(), || {
                    format!("effect {e:?} for no draft")
                });
            }
        }
        // Published is final, with the first publication's id.
        for b in before
            .drafts
            .iter()
            .filter(|b| b.state == DraftState::Published)
        {
            let a = after.draft(&b.id);
            self.ensure(
                a.is_some_and(|a| {
                    a.state == DraftState::Published && a.published_id == b.published_id
                }),
                || format!("published draft {} changed: {a:?}", b.id),
            );
        }
        // The network is the truth: only its confirmation changes likes, reposts, hidden
        // comments and deletions (ours, or of a customer's comment).
        let confirmed = matches!(input, Some(Input::Outcome(Outcome::Acted { .. })));
        let deletions = |c: &Case| -> Vec<Option<DateTime<Utc>>> {
            c.drafts.iter().map(|d| d.deleted_at).collect()
        };
        let removals = |c: &Case| -> Vec<bool> { c.posts.iter().map(|p| p.removed).collect() };
        if !confirmed {
            self.ensure(
                after.liked == before.liked
                    && after.reposted == before.reposted
                    && after.hidden == before.hidden
                    && deletions(after).get(..before.drafts.len()) == Some(&deletions(before)[..])
                    && removals(after).get(..before.posts.len()) == Some(&removals(before)[..]),
                || format!("{input:?} changed likes, reposts, hidden comments or deletions"),
            );
        }
        // A repost and a deletion are never undone.
        self.ensure(after.reposted.is_superset(&before.reposted), || {
            "a repost vanished".to_owned()
        });
        // Every accepted action command queues exactly one action.
        if let Some(Input::Command {
            command:
                Command::Like { .. }
                | Command::Unlike { .. }
                | Command::Repost { .. }
                | Command::Hide { .. }
                | Command::Unhide { .. }
                | Command::Delete { .. },
            ..
        }) = input
        {
            let acts = t
                .effects
                .iter()
                .filter(|e| matches!(e, Effect::Act { .. }))
                .count();
            self.ensure(acts == 1 && t.audit.len() == 1, || {
                format!("{input:?} queued {acts} actions, audit {:?}", t.audit)
            });
        }
        // Drafts are never lost.
        self.ensure(after.drafts.len() >= before.drafts.len(), || {
            "a draft vanished".to_owned()
        });
        // The card is refreshed exactly when something it shows changed.
        let card_changed = card_view(before) != card_view(after);
        self.ensure(t.effects.contains(&Effect::Card) == card_changed, || {
            format!(
                "card changed: {card_changed}, effects {:?}\nbefore {:?}\nafter  {:?}",
                t.effects,
                card_view(before),
                card_view(after)
            )
        });
        self.ensure(
            t.effects.iter().filter(|e| **e == Effect::Card).count() <= 1,
            || "two card effects".to_owned(),
        );
        // Audit entries are stamped now, and so is the case when it changed.
        self.ensure(t.audit.iter().all(|a| a.at == self.now), || {
            "audit not stamped now".to_owned()
        });
        if !t.audit.is_empty() {
            self.ensure(after.updated_at == self.now, || {
                "updated_at not moved".to_owned()
            });
        }
        let Some(input) = input else {
            // Ingest: only the customer speaks.
            self.ensure(t.audit.iter().all(|a| a.actor == CUSTOMER), || {
                "ingest audit".to_owned()
            });
            self.ensure(after.assignee == before.assignee, || {
                "ingest changed the owner".to_owned()
            });
            return;
        };
        let command = match input {
            Input::Command { command, .. } => Some(command),
            _ => None,
        };
        // Only claim, unclaim and assign change the owner.
        if !matches!(
            command,
            Some(Command::Claim | Command::Unclaim | Command::Assign { .. })
        ) {
            self.ensure(after.assignee == before.assignee, || {
                format!("{input:?} changed the owner")
            });
        }
        // A closed case stays closed but for `reopen`.
        if before.status == Status::Closed && command != Some(&Command::Reopen) {
            self.ensure(after.status == Status::Closed, || {
                format!("{input:?} revived a closed case")
            });
        }
        // The first response, once recorded, stays.
        if before.sla.first_response_at.is_some() {
            self.ensure(
                after.sla.first_response_at == before.sla.first_response_at,
                || "first response time moved".to_owned(),
            );
        }
        // Outcomes, reactions and sweeps are not people's work: they answer nobody.
        if command.is_none() {
            self.ensure(t.answer.is_none(), || "an answer to no one".to_owned());
        }
    }

    /// Invariants across cases and the outbox.
    fn check_world(&self) {
        let mut seen = HashSet::new();
        for case in self.cases.values() {
            for p in &case.posts {
                let key = format!("{}/{}", case.account, p.id);
                self.ensure(seen.insert(key.clone()), || {
                    format!("post {key} is in two cases")
                });
            }
        }
        for (draft, count) in &self.network {
            self.ensure(*count <= 1, || format!("{draft} published {count} times"));
        }
    }
}

/// `cases` runs (unless `PROPTEST_CASES` asks for more or fewer), no regression files.
fn runner_config(cases: u32) -> ProptestConfig {
    let default = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            default.cases
        } else {
            cases
        },
        failure_persistence: None,
        ..default
    }
}

proptest! {
    #![proptest_config(runner_config(256))]

    #[test]
    fn workflow_invariants_hold(
        account in 0..PROP_ACCOUNTS.len(),
        self_approval in any::<bool>(),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let config: &'static Config = if self_approval { &SELF_APPROVAL } else { &CONFIG };
        let mut world = World::new(PROP_ACCOUNTS[account], config);
        for op in &ops {
            world.run(op);
        }
        // Let the dispatcher drain: every queued publication that is still wanted goes out once.
        for _ in 0..40 {
            world.run(&Op::Dispatch);
            world.run(&Op::Finish { ok: true });
        }
        for case in world.cases.values() {
            for d in &case.drafts {
                let out = world.network.get(&d.id).copied().unwrap_or(0);
                world.ensure(d.state != DraftState::Approved, || {
                    format!("draft {} still approved after the outbox drained", d.id)
                });
                world.ensure((d.state == DraftState::Published) == (out == 1), || {
                    format!("draft {} is {:?} but the network has it {out} times", d.id, d.state)
                });
            }
        }
    }

    /// Dedupe holds whatever the order and however often posts come in: each post lands in
    /// exactly one case, and the cases are exactly the conversations.
    #[test]
    fn dedupe_holds_under_any_order_of_duplicate_posts(
        order in prop::collection::vec(0..8usize, 1..40),
        store_dedupe in any::<bool>(),
    ) {
        let pool = dedupe_pool();
        let (cases, duplicates) = ingest_all(&pool, &order, store_dedupe);
        let mut want: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for &i in &order {
            want.entry(pool[i].conversation_key()).or_default().insert(pool[i].dedupe_key());
        }
        let want: BTreeSet<BTreeSet<String>> = want.into_values().collect();
        let got: BTreeSet<BTreeSet<String>> = cases
            .values()
            .map(|c| c.posts.iter().map(|p| format!("{}/{}/{}", c.platform, c.account, p.id)).collect())
            .collect();
        prop_assert_eq!(&got, &want);
        let total: usize = cases.values().map(|c| c.posts.len()).sum();
        let distinct: BTreeSet<usize> = order.iter().copied().collect();
        prop_assert_eq!(total, distinct.len());
        prop_assert_eq!(duplicates, order.len() - distinct.len());
        // The same multiset in another order gives the same cases.
        let mut reversed = order.clone();
        reversed.reverse();
        let (again, _) = ingest_all(&pool, &reversed, !store_dedupe);
        let again: BTreeSet<BTreeSet<String>> = again
            .values()
            .map(|c| c.posts.iter().map(|p| format!("{}/{}/{}", c.platform, c.account, p.id)).collect())
            .collect();
        prop_assert_eq!(got, again);
    }
}

/// Posts from two authors, two accounts, public conversations and DMs.
fn dedupe_pool() -> Vec<SocialPost> {
    let dave = |mut p: SocialPost| {
        p.author = Author {
            id: s("u-dave"),
            handle: s("dave"),
            name: None,
        };
        p
    };
    let conv = |mut p: SocialPost, c: &str| {
        p.conversation_id = s(c);
        p
    };
    vec![
        post("x", "p1", PostKind::Mention, "a"),
        post("x", "p2", PostKind::Comment, "b"),
        conv(post("x", "p3", PostKind::Mention, "c"), "conv-2"),
        dave(post("x", "p4", PostKind::Mention, "d")),
        conv(post("x", "d1", PostKind::DirectMessage, "e"), "t-1"),
        conv(post("x", "d2", PostKind::DirectMessage, "f"), "t-2"),
        post("masto", "p1", PostKind::Mention, "g"),
        conv(post("masto", "d1", PostKind::DirectMessage, "h"), "t-1"),
    ]
}

/// Ingests posts in `order` through a tiny store: dedupe key → case (when `store_dedupe`;
/// otherwise the engine's own duplicate check must do), conversation key → latest case.
/// Returns the cases and how many posts were found to be duplicates.
fn ingest_all(
    pool: &[SocialPost],
    order: &[usize],
    store_dedupe: bool,
) -> (BTreeMap<u64, Case>, usize) {
    let sent = Sent::default();
    let mut cases: BTreeMap<u64, Case> = BTreeMap::new();
    let mut by_post: HashMap<String, u64> = HashMap::new();
    let mut by_conversation: HashMap<String, u64> = HashMap::new();
    let mut duplicates = 0;
    for (step, &i) in order.iter().enumerate() {
        let post = &pool[i];
        if store_dedupe && by_post.contains_key(&post.dedupe_key()) {
            duplicates += 1;
            continue;
        }
        let now = t0() + TimeDelta::seconds(i64::try_from(step).unwrap_or(0));
        let candidate = by_conversation
            .get(&post.conversation_key())
            .and_then(|n| cases.get(n));
        let next = cases.len() as u64 + 1;
        let case = match ingest(post, candidate, next, &ctx(&CONFIG, &sent, now)) {
            Ingested::Duplicate => {
                duplicates += 1;
                continue;
            }
            Ingested::Opened(t) | Ingested::Joined(t) => t.case,
        };
        by_post.insert(post.dedupe_key(), case.number);
        by_conversation.insert(post.conversation_key(), case.number);
        cases.insert(case.number, case);
    }
    (cases, duplicates)
}
