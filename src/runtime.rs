//! Builds the running bot from a validated config and runs it until a
//! signal (or the console's input) ends it.
//!
//! Config, build and run are kept apart (as in vector): this module only
//! wires the store, service, chat surface, networks, dispatcher, sources and
//! scheduler together and shuts them down in order. No workflow here.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::BufReader;
use tokio::sync::watch;

use crate::chat::console::{Console, ConsoleLoop};
use crate::commands::Specs;
use crate::config::{ChatKind, Config};
use crate::dispatch::Dispatcher;
use crate::engine::Platform;
use crate::scheduler;
use crate::service::Service;
use crate::social::Networks;
use crate::social::demo::{self, DemoPublisher};
use crate::store::Store;

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
pub async fn run(config: Config, specs: Specs) -> anyhow::Result<()> {
    let data_dir = config.bot.data_dir.clone();
    let store = Store::open(&data_dir, config.bot.flush_interval)?;
    let config = Arc::new(config);
    let service = Arc::new(Service::new(store, Arc::clone(&config)));
    let specs = Arc::new(specs);
    let (stop, stopped) = watch::channel(false);

    let mut networks = Networks::default();
    let mut demo_journal = None;
    for account in &config.accounts {
        match (account.network, account.demo()) {
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
            (other, _) => anyhow::bail!(
                "accounts `{}`: network {other} has no connector in this build",
                account.id
            ),
        }
    }

    let console = match config.chat.kind {
        ChatKind::Console => Arc::new(
            Console::new(Box::new(std::io::stdout()), &data_dir).with_context(|| {
                format!("opening the console journal in {}", data_dir.display())
            })?,
        ),
        // check-config refuses these until their adapters exist.
        kind @ (ChatKind::Slack | ChatKind::Discord) => {
            anyhow::bail!("chat.kind {kind:?} is not available in this build yet")
        }
    };

    let dispatcher = Dispatcher::new(Arc::clone(&service), console.clone(), Arc::new(networks));
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
    let scheduler = tokio::spawn(scheduler::run(
        Arc::clone(&service),
        scheduler::jobs(&config).map_err(|e| anyhow::anyhow!("default sweep schedule: {e}"))?,
        stopped.clone(),
    ));

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
    let mut console_task = tokio::spawn(console_loop.run(BufReader::new(tokio::io::stdin())));
    tracing::info!(data_dir = %data_dir.display(), accounts = config.accounts.len(), "carebridge is running.");

    tokio::select! {
        _ = signalled() => tracing::info!("Signal received; shutting down."),
        _ = &mut console_task => tracing::info!("Console input ended; shutting down."),
    }
    let _ = stop.send(true);
    console_task.abort();
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
    tracing::info!("Stopped cleanly.");
    Ok(())
}
