//! The transition table: (state, input, actor) → (status, owner, drafts, effects, audit) or the
//! exact refusal. Every row is checked and all failures are reported together; further tests
//! check that the table produces every refusal and notice and covers every command.

use std::collections::BTreeSet;
use std::time::Duration;

use super::*;

use Command as C;
use DraftState::{Approved, Failed, Pending, Published, Recalled, Rejected};

/// One row: a case in some state, one input, what must come out.
pub(super) struct Row {
    pub name: String,
    pub fixture: Fixture,
    pub sent: Sent,
    pub input: Input,
    pub expect: Expect,
}

pub(super) enum Expect {
    Refused(Refusal),
    Accepted(Want),
}

type Check = Box<dyn Fn(&Case, &Transition) -> Result<(), String>>;

/// What an accepted input must produce. Status, owner and drafts default to "as before";
/// effects, audit actions and the answer default to none, and are compared exactly.
#[derive(Default)]
pub(super) struct Want {
    status: Option<Status>,
    assignee: Option<Option<String>>,
    drafts: Option<Vec<(String, DraftState)>>,
    effects: Vec<Effect>,
    audit: Vec<&'static str>,
    answer: Option<Answer>,
    noop: bool,
    checks: Vec<Check>,
}

impl Row {
    pub fn new(name: &str, fixture: Fixture, input: Input) -> Self {
        Row {
            name: name.to_owned(),
            fixture,
            sent: Sent::default(),
            input,
            expect: Expect::Accepted(Want::default()),
        }
    }

    fn want(&mut self) -> &mut Want {
        match &mut self.expect {
            Expect::Accepted(want) => want,
            Expect::Refused(_) => panic!("{}: a refused row has no outcome to describe", self.name),
        }
    }

    pub fn refused(mut self, refusal: Refusal) -> Self {
        self.expect = Expect::Refused(refusal);
        self
    }

    /// Published texts the [`Lookup`] knows about.
    pub fn sent(mut self, pairs: &[(&str, &str)]) -> Self {
        self.sent = Sent::with(pairs);
        self
    }

    pub fn status(mut self, status: Status) -> Self {
        self.want().status = Some(status);
        self
    }

    pub fn assignee(mut self, assignee: Option<&str>) -> Self {
        self.want().assignee = Some(assignee.map(str::to_owned));
        self
    }

    pub fn drafts<S: AsRef<str>>(mut self, drafts: &[(S, DraftState)]) -> Self {
        self.want().drafts = Some(
            drafts
                .iter()
                .map(|(id, state)| (id.as_ref().to_owned(), *state))
                .collect(),
        );
        self
    }

    pub fn effects(mut self, effects: Vec<Effect>) -> Self {
        self.want().effects = effects;
        self
    }

    pub fn audit(mut self, actions: &[&'static str]) -> Self {
        self.want().audit = actions.to_vec();
        self
    }

    pub fn answer(mut self, answer: Answer) -> Self {
        self.want().answer = Some(answer);
        self
    }

    /// Nothing at all happens: same case, no effects, no audit.
    pub fn noop(mut self) -> Self {
        self.want().noop = true;
        self
    }

    /// An extra check on the case before and the transition.
    pub fn check(
        mut self,
        check: impl Fn(&Case, &Transition) -> Result<(), String> + 'static,
    ) -> Self {
        self.want().checks.push(Box::new(check));
        self
    }

    /// An extra check on one draft of the resulting case.
    pub fn draft(self, id: &str, check: impl Fn(&Draft) -> Result<(), String> + 'static) -> Self {
        let id = id.to_owned();
        self.check(move |_, t| match t.case.draft(&id) {
            Some(d) => check(d),
            None => Err(format!("no draft {id}")),
        })
    }

    pub fn run(&self) -> Result<Transition, Refusal> {
        let f = &self.fixture;
        apply(
            &f.case,
            self.input.clone(),
            &ctx(f.config, &self.sent, f.now),
        )
    }

    /// Everything wrong with `got`, empty when the row holds.
    pub fn verify(&self, got: &Result<Transition, Refusal>) -> Vec<String> {
        let before = &self.fixture.case;
        match (&self.expect, got) {
            (Expect::Refused(want), Err(got)) if want == got => Vec::new(),
            (Expect::Refused(want), Err(got)) => {
                vec![format!("refused with {got:?}, want {want:?}")]
            }
            (Expect::Refused(want), Ok(t)) => vec![format!(
                "accepted (effects {:?}, audit {:?}), want refusal {want:?}",
                t.effects,
                actions(t)
            )],
            (Expect::Accepted(_), Err(got)) => vec![format!("refused with {got:?}")],
            (Expect::Accepted(want), Ok(t)) => {
                let mut errors = Vec::new();
                let after = &t.case;
                let mut diff = |what: &str, got: String, want: String| {
                    if got != want {
                        errors.push(format!("{what}: got {got}, want {want}"));
                    }
                };
                diff(
                    "status",
                    format!("{:?}", after.status),
                    format!("{:?}", want.status.unwrap_or(before.status)),
                );
                diff(
                    "assignee",
                    format!("{:?}", after.assignee),
                    format!(
                        "{:?}",
                        want.assignee.clone().unwrap_or(before.assignee.clone())
                    ),
                );
                diff(
                    "drafts",
                    format!("{:?}", draft_states(after)),
                    format!(
                        "{:?}",
                        want.drafts.clone().unwrap_or_else(|| draft_states(before))
                    ),
                );
                diff(
                    "effects",
                    format!("{:?}", t.effects),
                    format!("{:?}", want.effects),
                );
                diff(
                    "audit",
                    format!("{:?}", actions(t)),
                    format!("{:?}", want.audit),
                );
                diff(
                    "answer",
                    format!("{:?}", t.answer),
                    format!("{:?}", want.answer),
                );
                diff(
                    "number",
                    after.number.to_string(),
                    before.number.to_string(),
                );
                if t.audit.iter().any(|a| a.at != self.fixture.now) {
                    errors.push(format!("audit entries not stamped now: {:?}", t.audit));
                }
                if !t.audit.is_empty() && after.updated_at != self.fixture.now {
                    errors.push("updated_at not moved to now".to_owned());
                }
                if want.noop && !t.is_noop(before) {
                    errors.push(format!("not a no-op: {t:?}"));
                }
                for check in &want.checks {
                    if let Err(e) = check(before, t) {
                        errors.push(e);
                    }
                }
                errors
            }
        }
    }
}

fn actions(t: &Transition) -> Vec<&str> {
    t.audit.iter().map(|a| a.action.as_str()).collect()
}

fn show(draft: &str) -> Effect {
    Effect::ShowDraft { draft: s(draft) }
}

fn publish(draft: &str) -> Effect {
    Effect::Publish { draft: s(draft) }
}

fn in_thread(actor: Actor, command: Command, in_thread: bool) -> Input {
    Input::Command {
        required: required(&command),
        actor,
        command,
        in_thread,
    }
}

fn snooze(actor: Actor, secs: u64) -> Input {
    cmd(
        actor,
        C::Snooze {
            duration: Duration::from_secs(secs),
        },
    )
}

pub(super) fn close(actor: Actor) -> Input {
    cmd(actor, C::Close { note: None })
}

fn offline(actor: Actor, channel: OfflineChannel, address: Option<&str>) -> Input {
    cmd(
        actor,
        C::Offline {
            channel,
            address: address.map(str::to_owned),
        },
    )
}

/// A `close` whose closing-the-loop draft the network's rules refuse: the case closes
/// anyway, and the thread is told why there is no follow-up.
fn loop_skipped(name: &str, f: Fixture, sent: &[(&str, &str)], refusal: Refusal) -> Row {
    let why = crate::text::refusal(&refusal, &crate::text::at);
    let drafts = draft_states(&f.case);
    Row::new(name, f, close(ana()))
        .sent(sent)
        .status(Status::Closed)
        .drafts(&drafts)
        .effects(vec![
            thread(Notice::LoopSkipped { refusal }),
            thread(Notice::Closed {
                by: s("ana"),
                note: None,
            }),
            Effect::Card,
        ])
        .audit(&["close loop skipped", "closed"])
        .check(move |_, t| eq("details", t.audit[0].details.as_deref(), Some(why.as_str())))
}

/// Every row of the table.
pub(super) fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    rows.extend(claiming());
    rows.extend(drafting());
    rows.extend(case_commands());
    rows.extend(reactions());
    rows.extend(outcomes());
    rows.extend(sweeps());
    rows.extend(post_changes());
    rows.extend(super::reply_rules::rows());
    rows.extend(super::actions::rows());
    rows.extend(super::clocks::rows());
    rows
}

fn claiming() -> Vec<Row> {
    use Fixture as F;
    let waiting_unowned = || F::waiting().then(cmd(ana(), C::Unclaim));
    vec![
        Row::new(
            "claim: a new case becomes open and the claimer's",
            F::new_case(),
            cmd(ana(), C::Claim),
        )
        .status(Status::Open)
        .assignee(Some("ana"))
        .effects(vec![thread(Notice::Claimed { by: s("ana") }), Effect::Card])
        .audit(&["claimed"]),
        Row::new(
            "claim: approvers may work cases",
            F::new_case(),
            cmd(lee(), C::Claim),
        )
        .status(Status::Open)
        .assignee(Some("lee"))
        .effects(vec![thread(Notice::Claimed { by: s("lee") }), Effect::Card])
        .audit(&["claimed"]),
        Row::new(
            "claim: an approver not listed as agent may still work cases",
            F::new_case(),
            cmd(actor("root", false, true), C::Claim),
        )
        .status(Status::Open)
        .assignee(Some("root"))
        .effects(vec![
            thread(Notice::Claimed { by: s("root") }),
            Effect::Card,
        ])
        .audit(&["claimed"]),
        Row::new(
            "claim: an unowned waiting case stays waiting",
            waiting_unowned(),
            cmd(bo(), C::Claim),
        )
        .assignee(Some("bo"))
        .effects(vec![thread(Notice::Claimed { by: s("bo") }), Effect::Card])
        .audit(&["claimed"]),
        Row::new("claim: one's own case", F::open(), cmd(ana(), C::Claim))
            .refused(Refusal::AlreadyYours { case: NUMBER }),
        Row::new("claim: someone else's case", F::open(), cmd(bo(), C::Claim)).refused(
            Refusal::ClaimedBy {
                case: NUMBER,
                owner: s("ana"),
            },
        ),
        Row::new("claim: a closed case", F::closed(), cmd(bo(), C::Claim))
            .refused(Refusal::Closed { case: NUMBER }),
        Row::new(
            "claim: by an outsider",
            F::new_case(),
            cmd(olga(), C::Claim),
        )
        .refused(Refusal::NotAllowed {
            command: s("claim"),
            needs: Permission::Agent,
        }),
        // unclaim
        Row::new(
            "unclaim: one's own open case goes back to new",
            F::open(),
            cmd(ana(), C::Unclaim),
        )
        .status(Status::New)
        .assignee(None)
        .effects(vec![
            thread(Notice::Unclaimed {
                by: s("ana"),
                previous: s("ana"),
            }),
            Effect::Card,
        ])
        .audit(&["unclaimed"]),
        Row::new(
            "unclaim: an approver may unclaim anyone's case",
            F::open(),
            cmd(lee(), C::Unclaim),
        )
        .status(Status::New)
        .assignee(None)
        .effects(vec![
            thread(Notice::Unclaimed {
                by: s("lee"),
                previous: s("ana"),
            }),
            Effect::Card,
        ])
        .audit(&["unclaimed"]),
        Row::new(
            "unclaim: a waiting case keeps waiting, unowned",
            F::waiting(),
            cmd(ana(), C::Unclaim),
        )
        .assignee(None)
        .effects(vec![
            thread(Notice::Unclaimed {
                by: s("ana"),
                previous: s("ana"),
            }),
            Effect::Card,
        ])
        .audit(&["unclaimed"]),
        Row::new(
            "unclaim: nobody owns the case",
            F::new_case(),
            cmd(ana(), C::Unclaim),
        )
        .refused(Refusal::NotClaimed { case: NUMBER }),
        Row::new(
            "unclaim: another agent's case",
            F::open(),
            cmd(bo(), C::Unclaim),
        )
        .refused(Refusal::NotYours {
            case: NUMBER,
            owner: s("ana"),
        }),
        Row::new(
            "unclaim: a closed case",
            F::closed(),
            cmd(ana(), C::Unclaim),
        )
        .refused(Refusal::Closed { case: NUMBER }),
        // assign
        Row::new(
            "assign: a new case to a teammate",
            F::new_case(),
            cmd(ana(), C::Assign { user: s("bo") }),
        )
        .status(Status::Open)
        .assignee(Some("bo"))
        .effects(vec![
            thread(Notice::Assigned {
                by: s("ana"),
                to: s("bo"),
            }),
            Effect::Card,
        ])
        .audit(&["assigned"]),
        Row::new(
            "assign: taking over someone else's case",
            F::open(),
            cmd(bo(), C::Assign { user: s("bo") }),
        )
        .assignee(Some("bo"))
        .effects(vec![
            thread(Notice::Assigned {
                by: s("bo"),
                to: s("bo"),
            }),
            Effect::Card,
        ])
        .audit(&["assigned"]),
        Row::new(
            "assign: a waiting case keeps waiting",
            F::waiting(),
            cmd(lee(), C::Assign { user: s("bo") }),
        )
        .assignee(Some("bo"))
        .effects(vec![
            thread(Notice::Assigned {
                by: s("lee"),
                to: s("bo"),
            }),
            Effect::Card,
        ])
        .audit(&["assigned"]),
        Row::new(
            "assign: to oneself, already the owner",
            F::open(),
            cmd(ana(), C::Assign { user: s("ana") }),
        )
        .refused(Refusal::AlreadyYours { case: NUMBER }),
        Row::new(
            "assign: to the current owner, by another",
            F::open(),
            cmd(bo(), C::Assign { user: s("ana") }),
        )
        .refused(Refusal::AlreadyAssigned {
            case: NUMBER,
            owner: s("ana"),
        }),
        Row::new(
            "assign: a closed case",
            F::closed(),
            cmd(ana(), C::Assign { user: s("bo") }),
        )
        .refused(Refusal::Closed { case: NUMBER }),
        Row::new(
            "assign: by an outsider",
            F::new_case(),
            cmd(olga(), C::Assign { user: s("olga") }),
        )
        .refused(Refusal::NotAllowed {
            command: s("assign"),
            needs: Permission::Agent,
        }),
    ]
}

fn drafting() -> Vec<Row> {
    use Fixture as F;
    vec![
        Row::new(
            "reply: a public draft that waits for approval",
            F::open(),
            reply(ana(), "Sorry! Looking into it."),
        )
        .drafts(&[("7.1", Pending)])
        .effects(vec![show("7.1")])
        .audit(&["drafted"])
        .draft("7.1", |d| {
            eq("kind", d.kind, DraftKind::Public)?;
            eq("purpose", &d.purpose, &Purpose::Reply)?;
            eq("text", d.text.as_str(), "Sorry! Looking into it.")?;
            eq("in reply to", d.in_reply_to.as_str(), "p1")?;
            eq("author", d.author.as_str(), "ana")?;
            eq("needs approval", d.needs_approval, true)?;
            eq("decided by", &d.decided_by, &None)
        }),
        Row::new(
            "reply: on a new case, without claiming it",
            F::new_case(),
            reply(bo(), "On it"),
        )
        .drafts(&[("7.1", Pending)])
        .effects(vec![show("7.1")])
        .audit(&["drafted"]),
        Row::new(
            "reply: a second draft gets the next id",
            F::pending(),
            reply(bo(), "Another thought"),
        )
        .drafts(&[("7.1", Pending), ("7.2", Pending)])
        .effects(vec![show("7.2")])
        .audit(&["drafted"]),
        Row::new(
            "reply: by a trusted agent, approved and queued at once",
            F::open(),
            reply(tia(), "Fixed!"),
        )
        .drafts(&[("7.1", Approved)])
        .effects(vec![show("7.1"), publish("7.1")])
        .audit(&["drafted"])
        .draft("7.1", |d| {
            eq("needs approval", d.needs_approval, false)?;
            eq("decided by", d.decided_by.as_deref(), Some(BOT))
        }),
        Row::new(
            "reply: answers a direct message by direct message",
            F::on("x", PostKind::DirectMessage),
            reply(ana(), "Hi"),
        )
        .drafts(&[("7.1", Pending)])
        .effects(vec![show("7.1")])
        .audit(&["drafted"])
        .draft("7.1", |d| eq("kind", d.kind, DraftKind::Direct)),
        Row::new(
            "reply: a closed case",
            F::closed(),
            reply(ana(), "Hello again"),
        )
        .refused(Refusal::Closed { case: NUMBER }),
        Row::new("reply: by an outsider", F::open(), reply(olga(), "hi")).refused(
            Refusal::NotAllowed {
                command: s("reply"),
                needs: Permission::Agent,
            },
        ),
        Row::new(
            "reply: a case without any customer post",
            F::open().edit(|c| c.posts.clear()),
            reply(ana(), "Hello?"),
        )
        .refused(Refusal::NothingToAnswer { case: NUMBER }),
        // dm
        Row::new(
            "dm: a private draft answering a public mention",
            F::open(),
            dm(ana(), "Could you DM us your order number?"),
        )
        .drafts(&[("7.1", Pending)])
        .effects(vec![show("7.1")])
        .audit(&["drafted"])
        .draft("7.1", |d| {
            eq("kind", d.kind, DraftKind::Direct)?;
            eq("in reply to", d.in_reply_to.as_str(), "p1")
        }),
        Row::new("dm: a closed case", F::closed(), dm(ana(), "psst"))
            .refused(Refusal::Closed { case: NUMBER }),
        Row::new("dm: by an outsider", F::open(), dm(olga(), "psst")).refused(
            Refusal::NotAllowed {
                command: s("dm"),
                needs: Permission::Agent,
            },
        ),
        // canned
        Row::new(
            "canned: a draft from a saved reply, placeholders filled",
            F::open(),
            cmd(ana(), C::Canned { name: s("sorry") }),
        )
        .drafts(&[("7.1", Pending)])
        .effects(vec![show("7.1")])
        .audit(&["drafted"])
        .draft("7.1", |d| {
            eq(
                "text",
                d.text.as_str(),
                "Hi Carol (@carol), sorry about that. ana, case #7",
            )?;
            eq("purpose", &d.purpose, &Purpose::Canned(s("sorry")))?;
            eq("kind", d.kind, DraftKind::Public)
        }),
        Row::new(
            "canned: greets by handle when there is no display name",
            F::from_post(&tweak(post("x", "p1", PostKind::Mention, "hi"), |p| {
                p.author.name = None
            })),
            cmd(bo(), C::Canned { name: s("sorry") }),
        )
        .drafts(&[("7.1", Pending)])
        .effects(vec![show("7.1")])
        .audit(&["drafted"])
        .draft("7.1", |d| {
            eq(
                "text",
                d.text.as_str(),
                "Hi carol (@carol), sorry about that. bo, case #7",
            )
        }),
        Row::new(
            "canned: answers a direct message by direct message",
            F::on("ig", PostKind::DirectMessage),
            cmd(ana(), C::Canned { name: s("thanks") }),
        )
        .drafts(&[("7.1", Approved)])
        .effects(vec![show("7.1"), publish("7.1")])
        .audit(&["drafted"])
        .draft("7.1", |d| {
            eq("kind", d.kind, DraftKind::Direct)?;
            eq("text", d.text.as_str(), "Thanks for your patience!")
        }),
        Row::new(
            "canned: an unknown name lists the known ones",
            F::open(),
            cmd(ana(), C::Canned { name: s("nope") }),
        )
        .refused(Refusal::UnknownCanned {
            name: s("nope"),
            available: vec![s("sorry"), s("thanks")],
        }),
        Row::new(
            "canned: a closed case",
            F::closed(),
            cmd(ana(), C::Canned { name: s("sorry") }),
        )
        .refused(Refusal::Closed { case: NUMBER }),
        Row::new(
            "canned: the rules apply to the filled text",
            F::open(),
            cmd(ana(), C::Canned { name: s("thanks") }),
        )
        .sent(&[("x", "Thanks for your patience!")])
        .refused(Refusal::DuplicateText {
            platform: Platform::X,
        }),
    ]
}

fn case_commands() -> Vec<Row> {
    use Fixture as F;
    let escalated = || {
        F::open().then(cmd(
            ana(),
            C::Escalate {
                team: s("billing"),
                reason: None,
            },
        ))
    };
    let invitation = "Hi Carol, we'd like to sort this out with you directly. Could you email us at care@acme.example with your case number #7? Thanks, ana";
    let closing_the_loop = "Hi Carol, following up here: we've sorted this out with you privately. Thanks for your patience! ana";
    let open_then = |f: F| f.then(cmd(ana(), C::Claim));
    let snoozed = F::open().then(snooze(ana(), 3600));
    let snoozed_until = snoozed.case.snoozed_until;
    let open = F::open();
    let in_30m = open.now + TimeDelta::minutes(30);
    let unowned_closed = || F::waiting().then(cmd(ana(), C::Unclaim)).then(close(ana()));
    vec![
        // note
        Row::new("note: in the thread, only the audit keeps it", F::open(), cmd(ana(), C::Note { text: s("called the depot") }))
            .audit(&["note"])
            .check(|_, t| eq("details", t.audit[0].details.as_deref(), Some("called the depot"))),
        Row::new(
            "note: from outside the thread, the thread is told",
            F::open(),
            in_thread(ana(), C::Note { text: s("called the depot") }, false),
        )
        .effects(vec![thread(Notice::Note {
            by: s("ana"),
            text: s("called the depot"),
        })])
        .audit(&["note"]),
        Row::new("note: on a closed case", F::closed(), cmd(bo(), C::Note { text: s("for the record") })).audit(&["note"]),
        Row::new("note: by an outsider", F::open(), cmd(olga(), C::Note { text: s("hi") })).refused(Refusal::NotAllowed {
            command: s("note"),
            needs: Permission::Agent,
        }),
        Row::new(
            "thread message: plain talk is an internal note",
            F::open(),
            Input::ThreadMessage {
                actor: bo(),
                text: s("I know this customer"),
            },
        )
        .audit(&["note"]),
        // escalate
        Row::new(
            "escalate: with a reason",
            F::open(),
            cmd(
                ana(),
                C::Escalate {
                    team: s("billing"),
                    reason: Some(s("double charge")),
                },
            ),
        )
        .effects(vec![
            thread(Notice::Escalated {
                by: s("ana"),
                team: s("billing"),
                reason: Some(s("double charge")),
            }),
            Effect::Card,
        ])
        .audit(&["escalated"])
        .check(|_, t| {
            let e = t.case.escalation.as_ref().ok_or("no escalation")?;
            eq("team", e.team.as_str(), "billing")?;
            eq("reason", e.reason.as_deref(), Some("double charge"))?;
            eq("by", e.by.as_str(), "ana")?;
            eq("at", e.at, t.case.updated_at)
        }),
        Row::new("escalate: without a reason", F::new_case(), cmd(bo(), C::Escalate { team: s("legal"), reason: None }))
            .effects(vec![
                thread(Notice::Escalated {
                    by: s("bo"),
                    team: s("legal"),
                    reason: None,
                }),
                Effect::Card,
            ])
            .audit(&["escalated"]),
        Row::new("escalate: to another team refreshes the card", escalated(), cmd(bo(), C::Escalate { team: s("legal"), reason: None }))
            .effects(vec![
                thread(Notice::Escalated {
                    by: s("bo"),
                    team: s("legal"),
                    reason: None,
                }),
                Effect::Card,
            ])
            .audit(&["escalated"]),
        Row::new(
            "escalate: to the same team again leaves the card as it is",
            escalated(),
            cmd(
                bo(),
                C::Escalate {
                    team: s("billing"),
                    reason: Some(s("still broken")),
                },
            ),
        )
        .effects(vec![thread(Notice::Escalated {
            by: s("bo"),
            team: s("billing"),
            reason: Some(s("still broken")),
        })])
        .audit(&["escalated"]),
        Row::new("escalate: a closed case", F::closed(), cmd(ana(), C::Escalate { team: s("legal"), reason: None }))
            .refused(Refusal::Closed { case: NUMBER }),
        // offline
        Row::new(
            "offline email: the invitation is drafted and the case goes offline",
            F::open(),
            offline(ana(), OfflineChannel::Email, Some("care@acme.example")),
        )
        .status(Status::Offline)
        .drafts(&[("7.1", Pending)])
        .effects(vec![
            show("7.1"),
            thread(Notice::MovedOffline {
                by: s("ana"),
                channel: OfflineChannel::Email,
                address: Some(s("care@acme.example")),
            }),
            Effect::Card,
        ])
        .audit(&["drafted", "offline"])
        .draft("7.1", move |d| {
            eq("text", d.text.as_str(), invitation)?;
            eq("purpose", &d.purpose, &Purpose::OfflineInvite)?;
            eq("kind", d.kind, DraftKind::Public)
        })
        .check(|_, t| {
            let o = t.case.offline.as_ref().ok_or("no offline record")?;
            eq("channel", o.channel, OfflineChannel::Email)?;
            eq("address", o.address.as_deref(), Some("care@acme.example"))?;
            eq("by", o.by.as_str(), "ana")?;
            eq("at", o.at, t.case.updated_at)
        }),
        Row::new("offline email: without an address", F::open(), offline(ana(), OfflineChannel::Email, None))
            .status(Status::Offline)
            .drafts(&[("7.1", Pending)])
            .effects(vec![
                show("7.1"),
                thread(Notice::MovedOffline {
                    by: s("ana"),
                    channel: OfflineChannel::Email,
                    address: None,
                }),
                Effect::Card,
            ])
            .audit(&["drafted", "offline"])
            .draft("7.1", |d| {
                eq(
                    "text",
                    d.text.as_str(),
                    "Hi Carol, we'd like to sort this out with you directly. Could you email us at the address in our profile with your case number #7? Thanks, ana",
                )
            }),
        Row::new(
            "offline sms: the account's own template, no approval needed there",
            open_then(F::on("ig", PostKind::Comment)),
            offline(ana(), OfflineChannel::Sms, Some("+44 7700 900123")),
        )
        .status(Status::Offline)
        .drafts(&[("7.1", Approved)])
        .effects(vec![
            show("7.1"),
            publish("7.1"),
            thread(Notice::MovedOffline {
                by: s("ana"),
                channel: OfflineChannel::Sms,
                address: Some(s("+44 7700 900123")),
            }),
            Effect::Card,
        ])
        .audit(&["drafted", "offline"])
        .draft("7.1", |d| eq("text", d.text.as_str(), "Text us on +44 7700 900123, Carol (case #7)")),
        Row::new("offline dm: the dm template", F::open(), offline(bo(), OfflineChannel::Dm, None))
            .status(Status::Offline)
            .drafts(&[("7.1", Pending)])
            .effects(vec![
                show("7.1"),
                thread(Notice::MovedOffline {
                    by: s("bo"),
                    channel: OfflineChannel::Dm,
                    address: None,
                }),
                Effect::Card,
            ])
            .audit(&["drafted", "offline"])
            .draft("7.1", |d| {
                eq(
                    "text",
                    d.text.as_str(),
                    "Hi Carol, we'd like to sort this out with you privately. Could you send us a direct message quoting case #7? Thanks, bo",
                )
            }),
        Row::new("offline: a new case goes offline without an owner", F::new_case(), offline(bo(), OfflineChannel::Dm, None))
            .status(Status::Offline)
            .drafts(&[("7.1", Pending)])
            .effects(vec![
                show("7.1"),
                thread(Notice::MovedOffline {
                    by: s("bo"),
                    channel: OfflineChannel::Dm,
                    address: None,
                }),
                Effect::Card,
            ])
            .audit(&["drafted", "offline"]),
        Row::new("offline: a case already offline", F::offline(), offline(ana(), OfflineChannel::Sms, None))
            .refused(Refusal::AlreadyOffline {
                case: NUMBER,
                channel: OfflineChannel::Email,
            }),
        Row::new("offline: a closed case", F::closed(), offline(ana(), OfflineChannel::Sms, None))
            .refused(Refusal::Closed { case: NUMBER }),
        Row::new(
            "offline: the case's account is gone from the config",
            F::open().edit(|c| c.account = s("gone")),
            offline(ana(), OfflineChannel::Email, None),
        )
        .refused(Refusal::UnknownAccount { account: s("gone") }),
        Row::new(
            "offline: an invitation the network would refuse stops the move",
            F::open(),
            offline(ana(), OfflineChannel::Email, Some("care@acme.example")),
        )
        .sent(&[("x", invitation)])
        .refused(Refusal::DuplicateText { platform: Platform::X }),
        // close
        Row::new("close: an answered case", F::waiting(), close(ana()))
            .status(Status::Closed)
            .effects(vec![thread(Notice::Closed { by: s("ana"), note: None }), Effect::Card])
            .audit(&["closed"])
            .check(|_, t| eq("closed at", t.case.closed_at, Some(t.case.updated_at))),
        Row::new("close: with a note", F::waiting(), cmd(bo(), C::Close { note: Some(s("refunded")) }))
            .status(Status::Closed)
            .effects(vec![
                thread(Notice::Closed {
                    by: s("bo"),
                    note: Some(s("refunded")),
                }),
                Effect::Card,
            ])
            .audit(&["closed"]),
        Row::new("close: an unanswered new case", F::new_case(), close(bo()))
            .status(Status::Closed)
            .effects(vec![thread(Notice::Closed { by: s("bo"), note: None }), Effect::Card])
            .audit(&["closed"]),
        Row::new("close: refused while a draft waits for approval", F::pending(), close(ana())).refused(
            Refusal::DraftsPending {
                case: NUMBER,
                drafts: vec![s("7.1")],
            },
        ),
        Row::new(
            "close: lists every draft waiting for approval",
            F::pending().then(reply(bo(), "Or this?")),
            close(ana()),
        )
        .refused(Refusal::DraftsPending {
            case: NUMBER,
            drafts: vec![s("7.1"), s("7.2")],
        }),
        Row::new("close: an approved draft on its way does not hold it up", F::approved(), close(ana()))
            .status(Status::Closed)
            .effects(vec![thread(Notice::Closed { by: s("ana"), note: None }), Effect::Card])
            .audit(&["closed"]),
        Row::new("close: clears a snooze", F::waiting().then(snooze(ana(), 3600)), close(ana()))
            .status(Status::Closed)
            .effects(vec![thread(Notice::Closed { by: s("ana"), note: None }), Effect::Card])
            .audit(&["closed"])
            .check(|_, t| eq("snoozed until", t.case.snoozed_until, None)),
        Row::new(
            "close: close_loop=offline, an offline case gets the closing-the-loop draft",
            F::offline(),
            close(ana()),
        )
        .status(Status::Closed)
        .drafts(&[("7.1", Published), ("7.2", Pending)])
        .effects(vec![show("7.2"), thread(Notice::Closed { by: s("ana"), note: None }), Effect::Card])
        .audit(&["drafted", "closed"])
        .draft("7.2", move |d| {
            eq("text", d.text.as_str(), closing_the_loop)?;
            eq("purpose", &d.purpose, &Purpose::CloseLoop)?;
            eq("kind", d.kind, DraftKind::Public)?;
            eq("in reply to", d.in_reply_to.as_str(), "p1")
        }),
        Row::new(
            "close: close_loop=always drafts it even if the case never went offline",
            open_then(F::on("fb", PostKind::Comment)),
            close(ana()),
        )
        .status(Status::Closed)
        .drafts(&[("7.1", Pending)])
        .effects(vec![show("7.1"), thread(Notice::Closed { by: s("ana"), note: None }), Effect::Card])
        .audit(&["drafted", "closed"])
        .draft("7.1", move |d| {
            eq("text", d.text.as_str(), closing_the_loop)?;
            eq("purpose", &d.purpose, &Purpose::CloseLoop)
        }),
        Row::new(
            "close: close_loop=never drafts nothing even for an offline case",
            open_then(F::on("ig", PostKind::Comment))
                .then(offline(ana(), OfflineChannel::Sms, Some("+44 7700 900123")))
                .then(published("7.1")),
            close(ana()),
        )
        .status(Status::Closed)
        .effects(vec![thread(Notice::Closed { by: s("ana"), note: None }), Effect::Card])
        .audit(&["closed"]),
        Row::new(
            "close: close_loop=always on a DM-only case drafts no loop (it was private all along)",
            F::on("fb", PostKind::DirectMessage).at(hours(1)),
            close(ana()),
        )
        .status(Status::Closed)
        .effects(vec![thread(Notice::Closed { by: s("ana"), note: None }), Effect::Card])
        .audit(&["closed"]),
        {
            let reopened = F::offline()
                .then(close(ana()))
                .then(approve(lee(), "7.2"))
                .then(published("7.2"))
                .posts(&post("x", "p2", PostKind::Mention, "One more thing"));
            let drafts = draft_states(&reopened.case);
            Row::new(
                "close: a case reopened after going offline closes without a second loop",
                reopened,
                close(ana()),
            )
            .status(Status::Closed)
            .drafts(&drafts)
            .effects(vec![thread(Notice::Closed { by: s("ana"), note: None }), Effect::Card])
            .audit(&["closed"])
        },
        loop_skipped(
            "close: a loop X would refuse as a duplicate (another case's loop) does not keep the case open",
            F::offline(),
            &[("x", closing_the_loop)],
            Refusal::DuplicateText { platform: Platform::X },
        ),
        Row::new("close: a closed case", F::closed(), close(ana())).refused(Refusal::Closed { case: NUMBER }),
        Row::new("close: by an outsider", F::open(), close(olga())).refused(Refusal::NotAllowed {
            command: s("close"),
            needs: Permission::Agent,
        }),
        // reopen
        Row::new("reopen: an owned case is open again", F::closed(), cmd(bo(), C::Reopen))
            .status(Status::Open)
            .effects(vec![thread(Notice::Reopened { by: s("bo") }), Effect::Card])
            .audit(&["reopened"])
            .check(|_, t| eq("closed at", t.case.closed_at, None)),
        Row::new("reopen: an unowned case is new again", unowned_closed(), cmd(bo(), C::Reopen))
            .status(Status::New)
            .effects(vec![thread(Notice::Reopened { by: s("bo") }), Effect::Card])
            .audit(&["reopened"]),
        Row::new("reopen: works however long ago the case closed", F::closed_long_ago(), cmd(ana(), C::Reopen))
            .status(Status::Open)
            .effects(vec![thread(Notice::Reopened { by: s("ana") }), Effect::Card])
            .audit(&["reopened"]),
        Row::new("reopen: a case that is not closed", F::open(), cmd(ana(), C::Reopen))
            .refused(Refusal::NotClosed { case: NUMBER }),
        // recall
        Row::new("recall: one's own pending draft", F::pending(), cmd(ana(), C::Recall))
            .drafts(&[("7.1", Recalled)])
            .effects(vec![thread(Notice::Recalled {
                draft: s("7.1"),
                by: s("ana"),
            })])
            .audit(&["recalled"]),
        Row::new("recall: the latest of one's pending drafts", F::pending().then(reply(ana(), "Second")), cmd(ana(), C::Recall))
            .drafts(&[("7.1", Pending), ("7.2", Recalled)])
            .effects(vec![thread(Notice::Recalled {
                draft: s("7.2"),
                by: s("ana"),
            })])
            .audit(&["recalled"]),
        Row::new(
            "recall: the closing-the-loop draft of a closed case",
            F::offline().then(close(ana())),
            cmd(ana(), C::Recall),
        )
        .drafts(&[("7.1", Published), ("7.2", Recalled)])
        .effects(vec![thread(Notice::Recalled {
            draft: s("7.2"),
            by: s("ana"),
        })])
        .audit(&["recalled"]),
        Row::new("recall: nothing pending", F::open(), cmd(ana(), C::Recall)).refused(Refusal::NoPendingDraft { case: NUMBER }),
        Row::new("recall: another agent's draft", F::pending(), cmd(bo(), C::Recall))
            .refused(Refusal::NoPendingDraft { case: NUMBER }),
        Row::new("recall: once approved it is too late", F::approved(), cmd(ana(), C::Recall))
            .refused(Refusal::NoPendingDraft { case: NUMBER }),
        // retry
        Row::new("retry: a failed draft is approved again and queued", F::failed(), cmd(ana(), C::Retry))
            .drafts(&[("7.1", Approved)])
            .effects(vec![publish("7.1")])
            .audit(&["retried"])
            .draft("7.1", |d| {
                eq("error", &d.error, &None)?;
                eq("decided by", d.decided_by.as_deref(), Some("lee"))
            }),
        Row::new("retry: nothing failed", F::waiting(), cmd(ana(), C::Retry)).refused(Refusal::NoFailedDraft { case: NUMBER }),
        Row::new("retry: the rules are checked again (text now a duplicate)", F::failed(), cmd(ana(), C::Retry))
            .sent(&[("x", "We're on it")])
            .refused(Refusal::DuplicateText { platform: Platform::X }),
        Row::new(
            "retry: the rules are checked again (messaging window now closed)",
            F::on("fb", PostKind::DirectMessage)
                .then(reply(ana(), "Sorry!"))
                .then(approve(lee(), "7.1"))
                .then(failed("7.1", "timeout"))
                .at(hours(30)),
            cmd(ana(), C::Retry),
        )
        .refused(Refusal::WindowClosed {
            platform: Platform::Facebook,
            hours: 24,
            last: t0(),
        }),
        // tag
        Row::new("tag: adds a label", F::open(), cmd(ana(), C::Tag { label: s("vip") }))
            .effects(vec![
                thread(Notice::Tagged {
                    by: s("ana"),
                    label: s("vip"),
                }),
                Effect::Card,
            ])
            .audit(&["tagged"])
            .check(|_, t| eq("tags", t.case.tags.iter().map(String::as_str).collect::<Vec<_>>(), vec!["vip"])),
        Row::new("tag: the same label twice", F::open().then(cmd(ana(), C::Tag { label: s("vip") })), cmd(bo(), C::Tag { label: s("vip") }))
            .refused(Refusal::AlreadyTagged { label: s("vip") }),
        Row::new("tag: a label routing already gave", F::on("fb", PostKind::Comment), cmd(bo(), C::Tag { label: s("facebook") }))
            .refused(Refusal::AlreadyTagged { label: s("facebook") }),
        // snooze
        Row::new("snooze: until now plus the duration", open, snooze(ana(), 1800))
            .effects(vec![
                thread(Notice::Snoozed {
                    by: s("ana"),
                    until: in_30m,
                }),
                Effect::Card,
            ])
            .audit(&["snoozed"])
            .check(move |_, t| eq("snoozed until", t.case.snoozed_until, Some(in_30m))),
        Row::new("snooze: again, to another time", snoozed.clone(), snooze(bo(), 7200))
            .effects(vec![
                thread(Notice::Snoozed {
                    by: s("bo"),
                    until: snoozed.now + TimeDelta::hours(2),
                }),
                Effect::Card,
            ])
            .audit(&["snoozed"])
            .check(move |_, t| {
                if t.case.snoozed_until == snoozed_until {
                    Err("snooze time not moved".to_owned())
                } else {
                    Ok(())
                }
            }),
        Row::new("snooze: a minute is the least", F::open(), snooze(ana(), 60))
            .effects(vec![
                thread(Notice::Snoozed {
                    by: s("ana"),
                    until: F::open().now + TimeDelta::minutes(1),
                }),
                Effect::Card,
            ])
            .audit(&["snoozed"]),
        Row::new("snooze: under a minute", F::open(), snooze(ana(), 59)).refused(Refusal::SnoozeOutOfRange),
        Row::new("snooze: over 90 days", F::open(), snooze(ana(), 91 * 24 * 3600)).refused(Refusal::SnoozeOutOfRange),
        Row::new("snooze: so long no date could hold it", F::open(), snooze(ana(), u64::MAX))
            .refused(Refusal::SnoozeOutOfRange),
        Row::new("snooze: a closed case", F::closed(), snooze(ana(), 3600)).refused(Refusal::Closed { case: NUMBER }),
        // status, help, permissions
        Row::new("status: an answer for the asker only, for anyone", F::open(), cmd(olga(), C::Status))
            .answer(Answer::Status)
            .noop(),
        Row::new("status: on a closed case", F::closed(), cmd(ana(), C::Status))
            .answer(Answer::Status)
            .noop(),
        Row::new("help: about one command", F::new_case(), cmd(olga(), C::Help { command: Some(s("escalate")) }))
            .answer(Answer::Help {
                command: Some(s("escalate")),
            })
            .noop(),
        Row::new("help: about everything", F::closed(), cmd(ana(), C::Help { command: None }))
            .answer(Answer::Help { command: None })
            .noop(),
        Row::new(
            "permission: a command that needs an agent, by an outsider",
            F::open(),
            Input::Command {
                actor: olga(),
                command: C::Status,
                required: Permission::Agent,
                in_thread: true,
            },
        )
        .refused(Refusal::NotAllowed {
            command: s("status"),
            needs: Permission::Agent,
        }),
        Row::new(
            "permission: a command that needs an approver, by an agent",
            F::open(),
            Input::Command {
                actor: ana(),
                command: C::Tag { label: s("legal") },
                required: Permission::Approver,
                in_thread: true,
            },
        )
        .refused(Refusal::NotAllowed {
            command: s("tag"),
            needs: Permission::Approver,
        }),
        Row::new(
            "permission: a command that needs an approver, by an approver",
            F::open(),
            Input::Command {
                actor: lee(),
                command: C::Tag { label: s("legal") },
                required: Permission::Approver,
                in_thread: true,
            },
        )
        .effects(vec![
            thread(Notice::Tagged {
                by: s("lee"),
                label: s("legal"),
            }),
            Effect::Card,
        ])
        .audit(&["tagged"]),
    ]
}

fn reactions() -> Vec<Row> {
    use Fixture as F;
    let rejected = || F::pending().then(react(lee(), "7.1", "❌", true));
    let approved_row = |name: &str, f: F, input: Input, by: &'static str| {
        Row::new(name, f, input)
            .drafts(&[("7.1", Approved)])
            .effects(vec![
                thread(Notice::Approved {
                    draft: s("7.1"),
                    by: s(by),
                }),
                publish("7.1"),
            ])
            .audit(&["approved"])
            .draft("7.1", move |d| {
                eq("decided by", d.decided_by.as_deref(), Some(by))
            })
    };
    vec![
        approved_row(
            "✅ by an approver approves and queues the publication",
            F::pending(),
            approve(lee(), "7.1"),
            "lee",
        ),
        approved_row(
            "a configured name for ✅ approves too",
            F::pending(),
            react(max(), "7.1", "white_check_mark", true),
            "max",
        ),
        Row::new(
            "❌ by an approver rejects",
            F::pending(),
            react(lee(), "7.1", "❌", true),
        )
        .drafts(&[("7.1", Rejected)])
        .effects(vec![thread(Notice::Rejected {
            draft: s("7.1"),
            by: s("lee"),
        })])
        .audit(&["rejected"]),
        Row::new(
            "a configured name for ❌ rejects too",
            F::pending(),
            react(max(), "7.1", "x", true),
        )
        .drafts(&[("7.1", Rejected)])
        .effects(vec![thread(Notice::Rejected {
            draft: s("7.1"),
            by: s("max"),
        })])
        .audit(&["rejected"]),
        Row::new(
            "the author's own ✅ is refused",
            F::pending(),
            approve(ana(), "7.1"),
        )
        .refused(Refusal::SelfApproval { draft: s("7.1") }),
        Row::new(
            "an approver's ✅ on their own draft is refused",
            F::open().then(reply(lee(), "Sorry!")),
            approve(lee(), "7.1"),
        )
        .refused(Refusal::SelfApproval { draft: s("7.1") }),
        approved_row(
            "with allow_self_approval the author may approve",
            F::open()
                .config(&SELF_APPROVAL)
                .then(reply(lee(), "Sorry!")),
            approve(lee(), "7.1"),
            "lee",
        ),
        Row::new(
            "an approver may reject their own draft",
            F::open().then(reply(lee(), "Sorry!")),
            react(lee(), "7.1", "❌", true),
        )
        .drafts(&[("7.1", Rejected)])
        .effects(vec![thread(Notice::Rejected {
            draft: s("7.1"),
            by: s("lee"),
        })])
        .audit(&["rejected"]),
        Row::new(
            "an agent's ✅ is just a reaction",
            F::pending(),
            approve(bo(), "7.1"),
        )
        .noop(),
        Row::new(
            "an agent's ❌ is just a reaction",
            F::pending(),
            react(bo(), "7.1", "❌", true),
        )
        .noop(),
        Row::new(
            "an outsider's ✅ is just a reaction",
            F::pending(),
            approve(olga(), "7.1"),
        )
        .noop(),
        Row::new(
            "an unrelated emoji is just a reaction",
            F::pending(),
            react(lee(), "7.1", "👍", true),
        )
        .noop(),
        Row::new(
            "✅ on an approved draft changes nothing",
            F::approved(),
            approve(max(), "7.1"),
        )
        .noop(),
        Row::new(
            "❌ on an approved draft changes nothing",
            F::approved(),
            react(max(), "7.1", "❌", true),
        )
        .noop(),
        Row::new(
            "✅ on a rejected draft changes nothing",
            rejected(),
            approve(max(), "7.1"),
        )
        .noop(),
        Row::new(
            "✅ on a published draft changes nothing",
            F::waiting(),
            approve(max(), "7.1"),
        )
        .noop(),
        Row::new(
            "✅ on a recalled draft changes nothing",
            F::pending().then(cmd(ana(), C::Recall)),
            approve(lee(), "7.1"),
        )
        .noop(),
        Row::new(
            "the author's ✅ on a decided draft changes nothing",
            F::approved(),
            approve(ana(), "7.1"),
        )
        .noop(),
        Row::new(
            "removing one's ✅ before publication withdraws the approval",
            F::approved(),
            react(lee(), "7.1", "✅", false),
        )
        .drafts(&[("7.1", Pending)])
        .effects(vec![thread(Notice::Withdrawn {
            draft: s("7.1"),
            by: s("lee"),
        })])
        .audit(&["withdrew decision"])
        .draft("7.1", |d| {
            eq("decided by", &d.decided_by, &None)?;
            eq("decided at", &d.decided_at, &None)
        }),
        Row::new(
            "removing one's ❌ withdraws the rejection",
            rejected(),
            react(lee(), "7.1", "❌", false),
        )
        .drafts(&[("7.1", Pending)])
        .effects(vec![thread(Notice::Withdrawn {
            draft: s("7.1"),
            by: s("lee"),
        })])
        .audit(&["withdrew decision"]),
        Row::new(
            "removing someone else's ✅ changes nothing",
            F::approved(),
            react(max(), "7.1", "✅", false),
        )
        .noop(),
        Row::new(
            "removing ✅ after publication changes nothing",
            F::waiting(),
            react(lee(), "7.1", "✅", false),
        )
        .noop(),
        Row::new(
            "removing ✅ after a failed publication changes nothing",
            F::failed(),
            react(lee(), "7.1", "✅", false),
        )
        .noop(),
        Row::new(
            "removing ❌ from an approved draft changes nothing",
            F::approved(),
            react(lee(), "7.1", "❌", false),
        )
        .noop(),
        Row::new(
            "removing an unrelated emoji changes nothing",
            F::approved(),
            react(lee(), "7.1", "👍", false),
        )
        .noop(),
        Row::new(
            "removing ✅ from a draft that needed no approval changes nothing",
            F::open().then(reply(tia(), "Fixed")),
            react(lee(), "7.1", "✅", false),
        )
        .noop(),
        Row::new(
            "a reaction on an unknown draft",
            F::pending(),
            approve(lee(), "7.9"),
        )
        .refused(Refusal::UnknownDraft { draft: s("7.9") }),
        Row::new(
            "approving the closing-the-loop draft of a closed case",
            F::offline().then(close(ana())),
            approve(lee(), "7.2"),
        )
        .drafts(&[("7.1", Published), ("7.2", Approved)])
        .effects(vec![
            thread(Notice::Approved {
                draft: s("7.2"),
                by: s("lee"),
            }),
            publish("7.2"),
        ])
        .audit(&["approved"]),
    ]
}

fn outcomes() -> Vec<Row> {
    use Fixture as F;
    let offline_invited = || {
        F::open()
            .then(offline(ana(), OfflineChannel::Email, None))
            .then(approve(lee(), "7.1"))
    };
    let second_reply = || {
        F::waiting()
            .then(reply(ana(), "Anything else?"))
            .then(approve(lee(), "7.2"))
    };
    let withdrawn = || F::approved().then(react(lee(), "7.1", "✅", false));
    vec![
        Row::new(
            "card posted: the case knows its thread",
            F::new_case(),
            Input::Outcome(Outcome::CardPosted {
                thread: s("T-1"),
                card: s("M-1"),
            }),
        )
        .check(|_, t| {
            eq(
                "chat",
                t.case.chat.clone(),
                Some(ChatThread {
                    thread: s("T-1"),
                    card: s("M-1"),
                }),
            )
        }),
        Row::new(
            "draft shown: the draft knows its chat message",
            F::pending(),
            Input::Outcome(Outcome::DraftShown {
                draft: s("7.1"),
                message: s("M-2"),
            }),
        )
        .draft("7.1", |d| {
            eq("chat message", d.chat_message.as_deref(), Some("M-2"))
        }),
        Row::new(
            "draft shown for an unknown draft changes nothing",
            F::pending(),
            Input::Outcome(Outcome::DraftShown {
                draft: s("7.9"),
                message: s("M-2"),
            }),
        )
        .noop(),
        Row::new(
            "published: the draft is out and the case waits on the customer",
            F::approved(),
            published("7.1"),
        )
        .status(Status::Waiting)
        .drafts(&[("7.1", Published)])
        .effects(vec![
            thread(Notice::Published { draft: s("7.1") }),
            Effect::Card,
        ])
        .audit(&["published"])
        .check(|_, t| {
            let now = t.case.updated_at;
            eq("first response", t.case.sla.first_response_at, Some(now))?;
            let d = t.case.draft("7.1").ok_or("no draft")?;
            eq("published id", d.published_id.as_deref(), Some("net-7.1"))?;
            eq("published at", d.published_at, Some(now))
        }),
        Row::new(
            "published: a new, unowned case waits too",
            F::new_case().then(reply(tia(), "Fixed!")),
            published("7.1"),
        )
        .status(Status::Waiting)
        .drafts(&[("7.1", Published)])
        .effects(vec![
            thread(Notice::Published { draft: s("7.1") }),
            Effect::Card,
        ])
        .audit(&["published"]),
        Row::new(
            "published: a later reply keeps the first response time",
            second_reply(),
            published("7.2"),
        )
        .drafts(&[("7.1", Published), ("7.2", Published)])
        .effects(vec![thread(Notice::Published { draft: s("7.2") })])
        .audit(&["published"])
        .check(|before, t| {
            eq(
                "first response",
                t.case.sla.first_response_at,
                before.sla.first_response_at,
            )
        }),
        Row::new(
            "published: the offline invitation keeps the case offline",
            offline_invited(),
            published("7.1"),
        )
        .drafts(&[("7.1", Published)])
        .effects(vec![
            thread(Notice::Published { draft: s("7.1") }),
            Effect::Card,
        ])
        .audit(&["published"])
        .check(|_, t| eq("answered", t.case.sla.first_response_at.is_some(), true)),
        Row::new(
            "published: the closing-the-loop draft keeps the case closed",
            F::offline().then(close(ana())).then(approve(lee(), "7.2")),
            published("7.2"),
        )
        .drafts(&[("7.1", Published), ("7.2", Published)])
        .effects(vec![thread(Notice::Published { draft: s("7.2") })])
        .audit(&["published"]),
        Row::new(
            "published twice: the second report changes nothing",
            F::waiting(),
            published("7.1"),
        )
        .noop(),
        Row::new(
            "published twice with another id: still nothing",
            F::waiting(),
            Input::Outcome(Outcome::Published {
                draft: s("7.1"),
                id: s("net-other"),
            }),
        )
        .noop(),
        Row::new(
            "published: an unknown draft changes nothing",
            F::open(),
            published("7.9"),
        )
        .noop(),
        Row::new(
            "publish failed: the draft fails with the network's reason",
            F::approved(),
            failed("7.1", "rate limited"),
        )
        .drafts(&[("7.1", Failed)])
        .effects(vec![thread(Notice::PublishFailed { draft: s("7.1") })])
        .audit(&["publish failed"])
        .draft("7.1", |d| {
            eq("error", d.error.as_deref(), Some("rate limited"))
        }),
        Row::new(
            "publish delayed: the owner is told why, the draft stays approved",
            F::approved(),
            Input::Outcome(Outcome::PublishDelayed {
                draft: s("7.1"),
                reason: s("rate limited until 14:05"),
            }),
        )
        .drafts(&[("7.1", Approved)])
        .effects(vec![thread(Notice::PublishDelayed {
            draft: s("7.1"),
            reason: s("rate limited until 14:05"),
        })])
        .audit(&["publish delayed"]),
        Row::new(
            "publish delayed after publication: changes nothing",
            F::waiting(),
            Input::Outcome(Outcome::PublishDelayed {
                draft: s("7.1"),
                reason: s("late"),
            }),
        )
        .noop(),
        Row::new(
            "publish failed twice: the second report changes nothing",
            F::failed(),
            failed("7.1", "rate limited"),
        )
        .noop(),
        Row::new(
            "published after a failure: the network had it after all",
            F::failed(),
            published("7.1"),
        )
        .status(Status::Waiting)
        .drafts(&[("7.1", Published)])
        .effects(vec![
            thread(Notice::Published { draft: s("7.1") }),
            Effect::Card,
        ])
        .audit(&["published"])
        .draft("7.1", |d| eq("error", &d.error, &None)),
        Row::new(
            "publish failed after publication changes nothing",
            F::waiting(),
            failed("7.1", "timeout"),
        )
        .noop(),
        Row::new(
            "publish failed: an unknown draft changes nothing",
            F::open(),
            failed("7.9", "timeout"),
        )
        .noop(),
        Row::new(
            "publish failed after the approval was withdrawn: the draft still waits for a decision",
            withdrawn(),
            failed("7.1", "timeout"),
        )
        .noop(),
        Row::new(
            "published after the approval was withdrawn: the network has it, so it is published",
            withdrawn(),
            published("7.1"),
        )
        .status(Status::Waiting)
        .drafts(&[("7.1", Published)])
        .effects(vec![
            thread(Notice::Published { draft: s("7.1") }),
            Effect::Card,
        ])
        .audit(&["published"]),
    ]
}

fn post_changes() -> Vec<Row> {
    use Fixture as F;
    let edit = |post: &str, text: &str| Input::PostChanged {
        post: s(post),
        change: PostChange::Edited { text: s(text) },
    };
    let removed = |post: &str| Input::PostChanged {
        post: s(post),
        change: PostChange::Removed,
    };
    let hidden = |hidden: bool| Input::PostChanged {
        post: s("p1"),
        change: PostChange::Hidden { hidden },
    };
    let fb = || F::on("fb", PostKind::Comment);
    vec![
        Row::new(
            "post changed: an edit replaces the text, the old one kept in the audit",
            F::open(),
            edit("p1", "My order arrived broken"),
        )
        .effects(vec![thread(Notice::PostEdited { post: s("p1") })])
        .audit(&["edited"])
        .check(|_, t| {
            eq(
                "text",
                t.case.posts[0].text.as_str(),
                "My order arrived broken",
            )
        }),
        Row::new(
            "post changed: the same text again changes nothing",
            F::open(),
            edit("p1", "My order never arrived"),
        )
        .noop(),
        Row::new(
            "post changed: a removal is noted once",
            F::open(),
            removed("p1"),
        )
        .effects(vec![thread(Notice::PostRemoved { post: s("p1") })])
        .audit(&["removed"])
        .check(|_, t| eq("removed", t.case.posts[0].removed, true)),
        Row::new(
            "post changed: a removal said twice",
            F::open().then(removed("p1")),
            removed("p1"),
        )
        .noop(),
        Row::new(
            "post changed: a post the case does not hold",
            F::open(),
            removed("elsewhere"),
        )
        .noop(),
        Row::new(
            "post changed: a comment hidden by a moderator on the network",
            fb(),
            hidden(true),
        )
        .effects(vec![thread(Notice::PostHidden {
            post: s("p1"),
            hidden: true,
        })])
        .audit(&["hidden on the network"])
        .check(|_, t| eq("hidden", t.case.hidden.clone(), [s("p1")].into())),
        Row::new(
            "post changed: the network's report of a hide we did",
            fb().then(Input::Outcome(Outcome::Acted {
                action: NetworkAction::Hide { post: s("p1") },
                by: s("ana"),
            })),
            hidden(true),
        )
        .noop(),
        Row::new(
            "post changed: a hidden comment shown again on the network",
            fb().then(hidden(true)),
            hidden(false),
        )
        .effects(vec![thread(Notice::PostHidden {
            post: s("p1"),
            hidden: false,
        })])
        .audit(&["shown on the network"])
        .check(|_, t| eq("hidden", t.case.hidden.is_empty(), true)),
        Row::new(
            "post changed: shown again when it was never hidden",
            fb(),
            hidden(false),
        )
        .noop(),
    ]
}

fn sweeps() -> Vec<Row> {
    use Fixture as F;
    let snoozed = || F::open().then(snooze(ana(), 3600));
    vec![
        Row::new(
            "sweep: a snooze that is over wakes the case",
            snoozed().at(hours(2)),
            Input::Sweep,
        )
        .effects(vec![thread(Notice::SnoozeOver), Effect::Card])
        .audit(&["snooze over"])
        .check(|_, t| eq("snoozed until", t.case.snoozed_until, None)),
        Row::new(
            "sweep: a snooze still running",
            snoozed().at(mins(30)),
            Input::Sweep,
        )
        .noop(),
        Row::new(
            "sweep: an unanswered case past its due time is breached",
            F::open().at(hours(5)),
            Input::Sweep,
        )
        .effects(vec![
            thread(Notice::SlaBreached {
                target: SlaTarget::FirstResponse,
            }),
            Effect::Card,
        ])
        .audit(&["sla breached"])
        .check(|_, t| eq("breached", t.case.sla.breached, true)),
        Row::new(
            "sweep: due exactly now is breached (and, unclaimed, listed to its queue)",
            F::new_case().at(hours(4)),
            Input::Sweep,
        )
        .effects(vec![
            thread(Notice::SlaBreached {
                target: SlaTarget::FirstResponse,
            }),
            Effect::Card,
        ])
        .audit(&["listed as unclaimed", "sla breached"])
        .check(|_, t| eq("nudged", t.case.nudged, true)),
        Row::new(
            "sweep: snooze over and breach in one sweep",
            snoozed().at(hours(5)),
            Input::Sweep,
        )
        .effects(vec![
            thread(Notice::SnoozeOver),
            thread(Notice::SlaBreached {
                target: SlaTarget::FirstResponse,
            }),
            Effect::Card,
        ])
        .audit(&["snooze over", "sla breached"]),
        Row::new(
            "sweep: a breach is reported once",
            F::open().at(hours(5)).then(Input::Sweep),
            Input::Sweep,
        )
        .noop(),
        Row::new(
            "sweep: before the due time",
            F::open().at(hours(3)),
            Input::Sweep,
        )
        .noop(),
        Row::new(
            "sweep: an answered case is never breached",
            F::waiting().at(hours(5)),
            Input::Sweep,
        )
        .noop(),
        Row::new(
            "sweep: a closed case is never breached",
            F::open().then(close(ana())).at(hours(5)),
            Input::Sweep,
        )
        .noop(),
    ]
}

// ---------------------------------------------------------------------------------------------
// The tests

#[test]
fn table() {
    let rows = rows();
    let mut failures = Vec::new();
    let mut names = BTreeSet::new();
    for row in &rows {
        if !names.insert(row.name.clone()) {
            failures.push(format!("duplicate row name: {}", row.name));
        }
        let errors = row.verify(&row.run());
        if !errors.is_empty() {
            failures.push(format!("✗ {}\n    {}", row.name, errors.join("\n    ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[test]
fn table_produces_every_refusal() {
    let produced: BTreeSet<&str> = rows()
        .iter()
        .filter_map(|row| row.run().err())
        .map(|r| refusal_name(&r))
        .collect();
    let missing: Vec<&&str> = ALL_REFUSALS
        .iter()
        .filter(|n| !produced.contains(**n))
        .collect();
    assert!(
        missing.is_empty(),
        "no row produces these refusals: {missing:?}"
    );
}

#[test]
fn table_produces_every_notice() {
    let produced: BTreeSet<&str> = rows()
        .iter()
        .filter_map(|row| row.run().ok())
        .flat_map(|t| t.effects)
        .filter_map(|e| match e {
            Effect::Thread { notice } => Some(notice_name(&notice)),
            _ => None,
        })
        .collect();
    // A customer post only comes in through ingest (tested in `ingest`).
    let missing: Vec<&&str> = ALL_NOTICES
        .iter()
        .filter(|n| **n != "CustomerPost" && !produced.contains(**n))
        .collect();
    assert!(
        missing.is_empty(),
        "no row produces these notices: {missing:?}"
    );
}

#[test]
fn table_covers_every_command_accepted_and_refused() {
    let mut accepted = BTreeSet::new();
    let mut refused = BTreeSet::new();
    for row in rows() {
        if let Input::Command { command, .. } = &row.input {
            match row.run() {
                Ok(_) => accepted.insert(command.name()),
                Err(_) => refused.insert(command.name()),
            };
        }
    }
    let never_accepted: Vec<&str> = Command::NAMES
        .iter()
        .copied()
        .filter(|n| !accepted.contains(n))
        .collect();
    assert!(
        never_accepted.is_empty(),
        "commands never accepted by a row: {never_accepted:?}"
    );
    // status and help are never refused for who runs them unless a spec says so.
    let never_refused: Vec<&str> = Command::NAMES
        .iter()
        .copied()
        .filter(|n| !refused.contains(n) && !["help"].contains(n))
        .collect();
    assert!(
        never_refused.is_empty(),
        "commands never refused by a row: {never_refused:?}"
    );
}

#[test]
fn table_covers_every_kind_of_input_and_outcome() {
    let mut seen = BTreeSet::new();
    for row in rows() {
        seen.insert(match &row.input {
            Input::Command { .. } => "command",
            Input::ThreadMessage { .. } => "thread message",
            Input::Reaction { added: true, .. } => "reaction added",
            Input::Reaction { added: false, .. } => "reaction removed",
            Input::Outcome(Outcome::CardPosted { .. }) => "card posted",
            Input::Outcome(Outcome::DraftShown { .. }) => "draft shown",
            Input::Outcome(Outcome::Published { .. }) => "published",
            Input::Outcome(Outcome::PublishFailed { .. }) => "publish failed",
            Input::Outcome(Outcome::PublishDelayed { .. }) => "publish delayed",
            Input::Outcome(Outcome::Acted { .. }) => "acted",
            Input::Outcome(Outcome::ActFailed { .. }) => "act failed",
            Input::Sweep => "sweep",
            Input::PostChanged {
                change: PostChange::Edited { .. },
                ..
            } => "post edited",
            Input::PostChanged {
                change: PostChange::Removed,
                ..
            } => "post removed",
            Input::PostChanged {
                change: PostChange::Hidden { .. },
                ..
            } => "post hidden",
        });
    }
    assert_eq!(seen.len(), 15, "{seen:?}");
}
