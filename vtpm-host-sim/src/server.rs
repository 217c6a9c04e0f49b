//! The two listeners, their threads, and the orderly exit.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::conn::{Conn, Listener};
use crate::device::{Device, Event, Shared};
use crate::mssim::{self, Outcome};
use crate::swtpm;

/// Which dialect the two listeners speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// Microsoft/IBM simulator (`tpm_server`): TPM command port + platform port.
    Mssim,
    /// `swtpm socket`: data channel + control channel.
    Swtpm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Data,
    Ctrl,
}

impl Protocol {
    fn role_name(self, role: Role) -> &'static str {
        match (self, role) {
            (Protocol::Mssim, Role::Data) => "mssim TPM",
            (Protocol::Mssim, Role::Ctrl) => "mssim platform",
            (Protocol::Swtpm, Role::Data) => "swtpm data",
            (Protocol::Swtpm, Role::Ctrl) => "swtpm ctrl",
        }
    }
}

/// A simulator whose sockets are bound; [`Simulator::run`] serves them.
#[derive(Debug)]
pub struct Simulator {
    shared: Arc<Shared>,
    protocol: Protocol,
    data: Arc<Listener>,
    ctrl: Arc<Listener>,
    events_tx: Sender<Event>,
    events: Receiver<Event>,
}

impl Simulator {
    /// Put a device behind two bound listeners. The TPM is powered on;
    /// for swtpm it is "running" only with `not-need-init`.
    pub fn new(mut device: Device, protocol: Protocol, data: Listener, ctrl: Listener) -> Self {
        device.tpm.power_on();
        match protocol {
            Protocol::Mssim => device.running = true,
            Protocol::Swtpm => {
                device.running = device.options.not_need_init;
                if device.running {
                    device.auto_startup();
                }
            }
        }
        let (events_tx, events) = mpsc::channel();
        let cancel = device.tpm.platform().cancel_flag();
        let shared = Arc::new(Shared::new(device, cancel, events_tx.clone()));
        Simulator {
            shared,
            protocol,
            data: Arc::new(data),
            ctrl: Arc::new(ctrl),
            events_tx,
            events,
        }
    }

    /// A handle that stops the simulator (for signal handlers and tests).
    pub fn stopper(&self) -> Sender<Event> {
        self.events_tx.clone()
    }

    /// The shared state (tests look at it).
    #[cfg(test)]
    pub fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Serve both listeners until something asks to stop; then shut the
    /// TPM down in order, save its state and return.
    pub fn run(self) -> Event {
        tracing::info!(
            "listening on {} ({}) and {} ({})",
            self.data,
            self.protocol.role_name(Role::Data),
            self.ctrl,
            self.protocol.role_name(Role::Ctrl)
        );
        let listeners = [
            (Arc::clone(&self.data), Role::Data),
            (Arc::clone(&self.ctrl), Role::Ctrl),
        ];
        for (listener, role) in listeners {
            let shared = Arc::clone(&self.shared);
            let protocol = self.protocol;
            let spawned = thread::Builder::new()
                .name(protocol.role_name(role).to_string())
                .spawn(move || accept_loop(&shared, &listener, protocol, role));
            if let Err(e) = spawned {
                tracing::error!("cannot start a listener thread: {e}");
                return self.finish(Event::Stop("no listener thread"));
            }
        }
        // `self.events_tx` stays alive, so recv() only returns with an event.
        let ev = self
            .events
            .recv()
            .unwrap_or(Event::Stop("event channel closed"));
        self.finish(ev)
    }

    fn finish(self, ev: Event) -> Event {
        match &ev {
            Event::Stop(why) => tracing::info!("stopping: {why}"),
            Event::Signal(sig) => tracing::info!("stopping on signal {sig}"),
        }
        {
            let mut d = self.shared.lock();
            // From here on no command reaches the engine.
            self.shared
                .stopping
                .store(true, std::sync::atomic::Ordering::SeqCst);
            d.auto_shutdown();
            d.save();
        }
        self.shared.close_all();
        for l in [&self.data, &self.ctrl] {
            l.wake();
            l.cleanup();
        }
        ev
    }
}

/// Concurrent mssim client connections (both ports together).
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// Most mssim clients served at once.
const MAX_MSSIM_CLIENTS: usize = 64;

fn accept_loop(shared: &Arc<Shared>, listener: &Listener, protocol: Protocol, role: Role) {
    let name = protocol.role_name(role);
    loop {
        let conn = listener.accept();
        if shared.is_stopping() {
            return;
        }
        let mut conn: Conn = match conn {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("{name}: accept failed: {e}");
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        tracing::debug!("{name}: client connected");
        if protocol == Protocol::Mssim {
            // mssim clients each hold their own connection for their whole
            // life (tcti-mssim), and tools are run in pipelines
            // (`tpm2 a | tpm2 b`), so serve connections side by side;
            // commands stay atomic under the device lock. Bounded.
            if ACTIVE.fetch_add(1, Ordering::SeqCst) >= MAX_MSSIM_CLIENTS {
                ACTIVE.fetch_sub(1, Ordering::SeqCst);
                tracing::warn!("{name}: too many clients, closing a new connection");
                drop(conn);
                continue;
            }
            let shared = Arc::clone(shared);
            let spawned = thread::Builder::new()
                .name(format!("{name} client"))
                .spawn(move || {
                    let id = shared.register(&conn);
                    let outcome = match role {
                        Role::Data => mssim::serve_tpm(&shared, &mut conn),
                        Role::Ctrl => mssim::serve_platform(&shared, &mut conn),
                    };
                    shared.unregister(id);
                    drop(conn);
                    ACTIVE.fetch_sub(1, Ordering::SeqCst);
                    tracing::debug!("{name}: client disconnected");
                    if outcome == Outcome::Stop {
                        shared.request_stop(Event::Stop("TPM_STOP received"));
                    }
                });
            if let Err(e) = spawned {
                ACTIVE.fetch_sub(1, Ordering::SeqCst);
                tracing::warn!("{name}: cannot start a client thread: {e}");
            }
            continue;
        }
        let id = shared.register(&conn);
        let outcome = match (protocol, role) {
            (Protocol::Mssim, Role::Data) => mssim::serve_tpm(shared, &mut conn),
            (Protocol::Mssim, Role::Ctrl) => mssim::serve_platform(shared, &mut conn),
            (Protocol::Swtpm, Role::Data) => swtpm::serve_data(shared, &mut conn),
            (Protocol::Swtpm, Role::Ctrl) => swtpm::serve_ctrl(shared, &mut conn),
        };
        shared.unregister(id);
        drop(conn);
        tracing::debug!("{name}: client disconnected");
        if outcome == Outcome::Stop {
            let why = match protocol {
                Protocol::Mssim => "TPM_STOP received",
                Protocol::Swtpm => "CMD_SHUTDOWN received",
            };
            shared.request_stop(Event::Stop(why));
            return;
        }
        if shared.is_stopping() {
            return;
        }
    }
}
