//! Builds the running bot from a validated config and runs it until a
//! signal (or the console's input) ends it.
//!
//! Config, build and run are kept apart (as in vector): this module only
//! wires the store, service, chat surface, networks, dispatcher, sources and
//! scheduler together and shuts them down in order. No workflow here.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::BufReader;
use tokio::sync::watch;

use axum::Router;

use crate::chat::ChatSurface;
use crate::chat::console::{Console, ConsoleLoop};
use crate::chat::discord::{self, Discord};
use crate::chat::slack::{self, Inbound, Slack};
use crate::commands::Specs;
use crate::config::{ChatKind, Config, SlackMode};
use crate::dispatch::Dispatcher;
use crate::engine::Platform;
use crate::health::Health;
use crate::metrics;
use crate::scheduler;
use crate::server;
use crate::service::Service;
use crate::social::Networks;
use crate::social::demo::{self, DemoPublisher};
use crate::social::{bluesky, mastodon, meta, webhook, x};
use crate::store::Store;

/// The chat the bot runs on.
enum Chat {
    Console(Arc<Console>),
    Slack(Arc<Slack>),
    Discord(Arc<Discord>),
}

/// Resolves when SIGINT or SIGTERM arrives.
async fn signalled() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the bot until SIGINT/SIGTERM, or until the console input ends.
pub async fn run(mut config: Config, specs: Specs) -> anyhow::Result<()> {
    let data_dir = config.bot.data_dir.clone();
    let store = Store::open(&data_dir, config.bot.flush_interval)?;
    let metrics = metrics::install().context("installing the metrics recorder")?;
    let health = Health::new();
    // Mastodon's limits are the instance's: learnt before the engine starts to apply them.
    let mut mastodon_clients = HashMap::new();
    for account in &mut config.accounts {
        let Some(token) = account.mastodon.as_ref().map(|m| m.access_token.clone()) else {
            continue;
        };
        let client = Arc::new(
            mastodon::client::Client::new(account, token, Arc::clone(&health))
                .with_context(|| format!("accounts `{}`: Mastodon client", account.id))?,
        );
        let (limits, stream) = mastodon::source::instance(&store, &client).await;
        account.max_length.get_or_insert(limits.max_characters);
        if let Some(settings) = account.mastodon.as_mut() {
            settings.url_length = limits.characters_reserved_per_url;
        }
        mastodon_clients.insert(account.id.clone(), (client, stream));
    }
    let config = Arc::new(config);
    let service = Arc::new(Service::new(store, Arc::clone(&config)));
    let specs = Arc::new(specs);
    let (stop, stopped) = watch::channel(false);
    // A part the bot cannot run without reports here, and the bot stops.
    let (fatal_tx, mut fatal_rx) = tokio::sync::mpsc::channel::<anyhow::Error>(1);

    let mut networks = Networks::default();
    let mut demo_journal = None;
    let mut x_clients = Vec::new();
    let mut x_hooks = HashMap::new();
    let mut meta_hooks = Vec::new();
    let mut mastodon_sources = Vec::new();
    let mut bluesky_sources = Vec::new();
    let mut generic_hooks = HashMap::new();
    for account in &config.accounts {
        health.account(&account.id);
        match (account.network, account.demo()) {
            (Platform::X, _) => {
                let client = Arc::new(
                    x::Client::new(account, service.store().clone(), Arc::clone(&health))
                        .with_context(|| format!("accounts `{}`: X client", account.id))?,
                );
                networks.insert(
                    &account.id,
                    Arc::new(x::XPublisher::new(Arc::clone(&client))),
                );
                if let Some(webhook) = account.x().and_then(|x| x.webhook.as_ref()) {
                    x_hooks.insert(
                        account.id.clone(),
                        x::webhook::Hook {
                            secret: webhook.consumer_secret.clone(),
                            client: Arc::clone(&client),
                        },
                    );
                }
                x_clients.push((account.clone(), client));
            }
            (Platform::Demo, Some(demo)) => {
                let journal = match &demo_journal {
                    Some(j) => Arc::clone(j),
                    None => {
                        let j = DemoPublisher::open(&data_dir).with_context(|| {
                            format!("opening the demo journal in {}", data_dir.display())
                        })?;
                        demo_journal = Some(Arc::clone(&j));
                        j
                    }
                };
                networks.insert(&account.id, Arc::new(DemoPublisher::new(journal, demo)));
            }
            (Platform::Facebook | Platform::Instagram, _) => {
                let settings = account.meta.as_ref().with_context(|| {
                    format!("accounts `{}`: no facebook/instagram settings", account.id)
                })?;
                let graph = Arc::new(
                    meta::client::Graph::new(account, settings, Arc::clone(&health))
                        .with_context(|| format!("accounts `{}`: Graph client", account.id))?,
                );
                networks.insert(
                    &account.id,
                    Arc::new(meta::publish::MetaPublisher::new(
                        Arc::clone(&graph),
                        account.human_agent_tag,
                    )),
                );
                meta_hooks.push(meta::webhook::Hook {
                    graph,
                    app_secret: settings.webhook.app_secret.clone(),
                    verify_token: settings.webhook.verify_token.clone(),
                });
            }
            (Platform::Webhook, _) => {
                let settings = account
                    .webhook
                    .as_ref()
                    .with_context(|| format!("accounts `{}`: no webhook settings", account.id))?;
                networks.insert(
                    &account.id,
                    Arc::new(
                        webhook::publish::WebhookPublisher::new(
                            account,
                            settings,
                            Arc::clone(&health),
                        )
                        .with_context(|| format!("accounts `{}`: callback client", account.id))?,
                    ),
                );
                generic_hooks.insert(
                    account.id.clone(),
                    webhook::route::Hook {
                        secret: settings.secret.clone(),
                        replay_window: settings.replay_window,
                    },
                );
            }
            (Platform::Mastodon, _) => {
                let (client, stream) = mastodon_clients
                    .remove(&account.id)
                    .with_context(|| format!("accounts `{}`: no mastodon settings", account.id))?;
                let visibility = account
                    .mastodon
                    .as_ref()
                    .map_or(crate::config::Visibility::Unlisted, |m| m.visibility);
                networks.insert(
                    &account.id,
                    Arc::new(mastodon::publish::MastodonPublisher::new(
                        Arc::clone(&client),
                        visibility,
                    )),
                );
                mastodon_sources.push((account.clone(), client, stream));
            }
            (Platform::Bluesky, _) => {
                let settings = account
                    .bluesky
                    .as_ref()
                    .with_context(|| format!("accounts `{}`: no bluesky settings", account.id))?;
                let client = Arc::new(
                    bluesky::client::Client::new(
                        account,
                        &settings.identifier,
                        settings.password.clone(),
                        service.store().clone(),
                        Arc::clone(&health),
                    )
                    .with_context(|| format!("accounts `{}`: Bluesky client", account.id))?,
                );
                networks.insert(
                    &account.id,
                    Arc::new(bluesky::publish::BlueskyPublisher::new(Arc::clone(&client))),
                );
                bluesky_sources.push((account.clone(), client));
            }
            // Validation gives every demo account its settings.
            (Platform::Demo, None) => {
                anyhow::bail!("accounts `{}`: no demo settings", account.id)
            }
        }
    }

    let chat = match config.chat.kind {
        ChatKind::Console => Chat::Console(Arc::new(
            Console::new(Box::new(std::io::stdout()), &data_dir)
                .with_context(|| format!("opening the console journal in {}", data_dir.display()))?
                .with_on_call(config.chat.console.on_call.clone()),
        )),
        ChatKind::Slack => {
            let settings = config
                .chat
                .slack
                .as_ref()
                .context("chat.kind is slack but there is no [chat.slack]")?;
            Chat::Slack(Slack::connect(settings, Arc::clone(&health)).await?)
        }
        ChatKind::Discord => {
            let settings = config
                .chat
                .discord
                .as_ref()
                .context("chat.kind is discord but there is no [chat.discord]")?;
            Chat::Discord(Discord::connect(settings, &specs, Arc::clone(&health)).await?)
        }
    };
    let surface: Arc<dyn ChatSurface> = match &chat {
        Chat::Console(console) => console.clone(),
        Chat::Slack(slack) => slack.clone(),
        Chat::Discord(discord) => discord.clone(),
    };

    let dispatcher = Dispatcher::new(
        Arc::clone(&service),
        Arc::clone(&surface),
        Arc::new(networks),
    );
    let dispatcher = tokio::spawn(dispatcher.run(stopped.clone()));

    let sources_running = Arc::new(AtomicUsize::new(0));
    let mut sources = Vec::new();
    for account in config.accounts.iter().filter(|a| a.demo().is_some()) {
        sources_running.fetch_add(1, Ordering::SeqCst);
        let (service, account, stopped, running) = (
            Arc::clone(&service),
            account.clone(),
            stopped.clone(),
            Arc::clone(&sources_running),
        );
        sources.push(tokio::spawn(async move {
            demo::run_source(service, account, stopped).await;
            running.fetch_sub(1, Ordering::SeqCst);
        }));
    }
    for (account, client) in x_clients {
        sources.push(tokio::spawn(x::source::run(
            Arc::clone(&service),
            client,
            account,
            stopped.clone(),
        )));
    }
    for (account, client, stream) in mastodon_sources {
        sources.push(tokio::spawn(mastodon::source::run(
            Arc::clone(&service),
            client,
            account,
            stream,
            stopped.clone(),
        )));
    }
    for (account, client) in bluesky_sources {
        sources.push(tokio::spawn(bluesky::source::run(
            Arc::clone(&service),
            client,
            account,
            stopped.clone(),
        )));
    }
    let scheduler = tokio::spawn(scheduler::run(
        Arc::clone(&service),
        surface,
        scheduler::jobs(&config).map_err(|e| anyhow::anyhow!("default sweep schedule: {e}"))?,
        Arc::new(scheduler::SystemClock),
        stopped.clone(),
    ));

    let mut helpers = vec![tokio::spawn(metrics::upkeep(
        metrics.clone(),
        stopped.clone(),
    ))];
    let mut console_task = None;
    // The HTTP listener, and with it /healthz and /metrics, runs when something needs it: a
    // webhook, Slack, or `bot.monitor`. Otherwise a console or Discord bot binds no port, so
    // that demo runs and tests can start many at once with the default `bot.listen`.
    let mut routes = Router::new();
    let mut listen = config.bot.monitor
        || !x_hooks.is_empty()
        || !meta_hooks.is_empty()
        || !generic_hooks.is_empty();
    if !x_hooks.is_empty() {
        routes = routes.merge(x::webhook::routes(x_hooks, Arc::clone(&service)));
    }
    if !meta_hooks.is_empty() {
        routes = routes.merge(meta::webhook::routes(meta_hooks, Arc::clone(&service)));
    }
    if !generic_hooks.is_empty() {
        routes = routes.merge(webhook::route::routes(
            generic_hooks,
            Arc::clone(&service),
            Arc::clone(&health),
        ));
    }
    match chat {
        Chat::Console(console) => {
            health.chat("console", true, crate::text::health::CONSOLE);
            let idle = {
                let (service, running) = (Arc::clone(&service), Arc::clone(&sources_running));
                Arc::new(move || {
                    running.load(Ordering::SeqCst) == 0
                        && service.store().outbox().is_ok_and(|o| o.is_empty())
                })
            };
            let settled = {
                let service = Arc::clone(&service);
                Arc::new(move |case: Option<u64>| {
                    service
                        .store()
                        .outbox()
                        .is_ok_and(|o| o.iter().all(|e| case.is_some_and(|c| c != e.case)))
                })
            };
            let console_loop = ConsoleLoop {
                settled,
                console,
                service: Arc::clone(&service),
                specs,
                settings: config.chat.console.clone(),
                idle,
            };
            console_task = Some(tokio::spawn(
                console_loop.run(BufReader::new(tokio::io::stdin())),
            ));
        }
        Chat::Slack(slack) => {
            let (inbound, worker) = Inbound::start(
                Arc::clone(&slack),
                Arc::clone(&service),
                specs,
                stopped.clone(),
            );
            helpers.push(worker);
            let settings = slack.config().clone();
            listen = true;
            match settings.mode {
                SlackMode::Socket => {
                    let token = settings
                        .app_token
                        .clone()
                        .context("chat.slack.app_token is required in socket mode")?;
                    let client = slack.client();
                    let stopped = stopped.clone();
                    helpers.push(tokio::spawn(async move {
                        if let Err(error) =
                            slack::run_socket_mode(client, token, inbound, stopped).await
                        {
                            tracing::error!(error = %format!("{error:#}"), "Slack Socket Mode stopped.");
                        }
                    }));
                }
                SlackMode::Events => {
                    let secret = settings
                        .signing_secret
                        .clone()
                        .context("chat.slack.signing_secret is required in events mode")?;
                    routes = routes.merge(slack::routes(inbound, secret));
                }
            }
        }
        Chat::Discord(discord) => {
            let (inbound, worker) = discord::Inbound::start(
                Arc::clone(&discord),
                Arc::clone(&service),
                specs,
                stopped.clone(),
            );
            helpers.push(worker);
            let (stopped, fatal) = (stopped.clone(), fatal_tx.clone());
            helpers.push(tokio::spawn(async move {
                if let Err(error) = discord::run(discord, inbound, stopped).await {
                    // Nothing reaches the bot without the gateway: stop, loudly.
                    let _ = fatal
                        .send(error.context("the Discord gateway stopped"))
                        .await;
                }
            }));
        }
    }
    if listen {
        let monitor = server::Monitor {
            health: Arc::clone(&health),
            metrics,
            store: service.store().clone(),
            networks: config.accounts.iter().map(|a| a.network).collect(),
        };
        helpers.push(server::serve(config.bot.listen, routes, monitor, stopped.clone()).await?);
    }
    tracing::info!(data_dir = %data_dir.display(), accounts = config.accounts.len(), "carebridge is running.");

    let console_done = async {
        match console_task.as_mut() {
            Some(task) => {
                let _ = task.await;
            }
            None => std::future::pending().await,
        }
    };
    let mut fatal = None;
    tokio::select! {
        _ = signalled() => tracing::info!("Signal received; shutting down."),
        _ = console_done => tracing::info!("Console input ended; shutting down."),
        Some(error) = fatal_rx.recv() => {
            tracing::error!(error = %format!("{error:#}"), "Shutting down.");
            fatal = Some(error);
        }
    }
    let _ = stop.send(true);
    if let Some(task) = console_task {
        task.abort();
    }
    for task in helpers {
        let _ = task.await;
    }
    for task in sources {
        let _ = task.await;
    }
    let _ = scheduler.await;
    if tokio::time::timeout(Duration::from_secs(15), dispatcher)
        .await
        .is_err()
    {
        tracing::warn!("Dispatcher did not stop in time.");
    }
    service.store().flush()?;
    if let Some(error) = fatal {
        return Err(error);
    }
    tracing::info!("Stopped cleanly.");
    Ok(())
}
