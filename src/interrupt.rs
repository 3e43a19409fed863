//! Ctrl-C for the whole process, in one place. The first Ctrl-C stops `apply` from starting
//! anything new, waits a few seconds for the AWS calls in flight to land, says what they were,
//! that the env is safe and which command finishes the job, and exits 130. A second Ctrl-C
//! exits at once. Code that has its own answer to Ctrl-C (stop the one-off task it started, end
//! `logs --follow`) claims it with `ctrl_c()`; `exec` ignores it while the session plugin, which
//! gets the same signal from the terminal, runs.
//!
//! Signals are process-wide, so this state is too: one registry, filled by `apply` with the
//! steps it runs, read by the one task that watches SIGINT.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{mpsc, watch, Notify};

use crate::error::{exit, Error};

/// How long the first Ctrl-C waits for the calls in flight to answer. AWS answers a create or
/// update in well under a second; an answer that takes longer is reported as unknown.
pub const GRACE: Duration = Duration::from_secs(5);

/// What the watcher knows: which steps are running, who claims Ctrl-C, what finishes the job.
pub struct Interrupts {
    requested: watch::Sender<bool>,
    /// The watcher took the first Ctrl-C itself and will exit the process: the command's own
    /// result must not be printed meanwhile.
    handling: AtomicBool,
    claims: AtomicUsize,
    ignores: AtomicUsize,
    steps: Mutex<Steps>,
    changed: Notify,
    resume: Mutex<Option<String>>,
}

#[derive(Default)]
struct Steps {
    next: u64,
    running: BTreeMap<u64, String>,
    /// The steps running when Ctrl-C came, and how each ended (`None`: no answer yet).
    at_interrupt: BTreeMap<u64, (String, Option<bool>)>,
}

static GLOBAL: LazyLock<Interrupts> = LazyLock::new(Interrupts::new);

/// The process's registry.
pub fn global() -> &'static Interrupts {
    &GLOBAL
}

/// True once Ctrl-C was pressed: start nothing new.
pub fn requested() -> bool {
    global().is_requested()
}

/// Registers a step that is about to call AWS (`create service shop-x-web`).
pub fn step(what: String) -> Step<'static> {
    global().step(what)
}

/// The command that finishes what this run started, for the message after Ctrl-C
/// (`envctl up feature-x`).
pub fn resume_with(command: String) {
    *lock(&global().resume) = Some(command);
}

/// Resolves on the first Ctrl-C, which it claims: the watcher then leaves the reaction to the
/// caller (a second Ctrl-C still exits at once). Never resolves when no watcher runs.
pub async fn ctrl_c() {
    let state = global();
    let _claim = Claim::new(&state.claims);
    let mut rx = state.requested.subscribe();
    if rx.wait_for(|r| *r).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// While the returned guard lives, Ctrl-C is ignored (a terminal program envctl runs gets it).
pub fn ignore() -> Claim<'static> {
    Claim::new(&global().ignores)
}

/// Counts itself in while it lives.
pub struct Claim<'a>(&'a AtomicUsize);

impl<'a> Claim<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Claim(counter)
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running step; `finish` records how it ended.
pub struct Step<'a> {
    state: &'a Interrupts,
    id: u64,
}

impl Step<'_> {
    pub fn finish(self, ok: bool) {
        self.state.end(self.id, Some(ok));
    }
}

impl Drop for Step<'_> {
    fn drop(&mut self) {
        // Dropped without `finish`: cancelled. Already ended steps are no longer registered.
        self.state.end(self.id, None);
    }
}

impl Default for Interrupts {
    fn default() -> Self {
        Self::new()
    }
}

impl Interrupts {
    pub fn new() -> Self {
        Interrupts {
            requested: watch::Sender::new(false),
            handling: AtomicBool::new(false),
            claims: AtomicUsize::new(0),
            ignores: AtomicUsize::new(0),
            steps: Mutex::new(Steps::default()),
            changed: Notify::new(),
            resume: Mutex::new(None),
        }
    }

    pub fn is_requested(&self) -> bool {
        *self.requested.borrow()
    }

    /// The watcher took the first Ctrl-C and will end the process itself.
    pub fn is_handling(&self) -> bool {
        self.handling.load(Ordering::SeqCst)
    }

    pub fn step(&self, what: String) -> Step<'_> {
        let mut steps = lock(&self.steps);
        steps.next += 1;
        let id = steps.next;
        steps.running.insert(id, what);
        Step { state: self, id }
    }

    fn end(&self, id: u64, ok: Option<bool>) {
        let mut steps = lock(&self.steps);
        if steps.running.remove(&id).is_none() {
            return;
        }
        if let Some((_, outcome)) = steps.at_interrupt.get_mut(&id) {
            *outcome = ok;
        }
        drop(steps);
        self.changed.notify_waiters();
    }

    /// Marks Ctrl-C as pressed and remembers what was running; returns those steps.
    fn request(&self, handle_here: bool) -> Vec<String> {
        let running: Vec<String> = {
            let mut steps = lock(&self.steps);
            steps.at_interrupt = steps
                .running
                .iter()
                .map(|(id, what)| (*id, (what.clone(), None)))
                .collect();
            steps.running.values().cloned().collect()
        };
        // Before `requested`: whoever sees the request also sees that the watcher handles it.
        self.handling.store(handle_here, Ordering::SeqCst);
        self.requested.send_replace(true);
        running
    }

    /// Waits until no step that was running at Ctrl-C is still running, or `grace` passed.
    async fn settle(&self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let settled = {
                let steps = lock(&self.steps);
                steps
                    .at_interrupt
                    .keys()
                    .all(|id| !steps.running.contains_key(id))
            };
            if settled {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }

    /// The error `envctl` ends with after a Ctrl-C it handled itself.
    fn report(&self, grace: Duration) -> Error {
        let steps = lock(&self.steps);
        let mut done = Vec::new();
        let mut failed = Vec::new();
        let mut unknown = Vec::new();
        for (what, outcome) in steps.at_interrupt.values() {
            match outcome {
                Some(true) => done.push(what.clone()),
                Some(false) => failed.push(what.clone()),
                // Still waiting for its answer, or cancelled without one.
                None => unknown.push(what.clone()),
            }
        }
        drop(steps);
        let resume = lock(&self.resume).clone();
        interrupted_error(&done, &failed, &unknown, grace, resume.as_deref())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The message after a handled Ctrl-C: what was in flight and how it ended, that the env is
/// safe, and the command that finishes the job.
pub fn interrupted_error(
    done: &[String],
    failed: &[String],
    unknown: &[String],
    grace: Duration,
    resume: Option<&str>,
) -> Error {
    let mut message = String::from("interrupted (Ctrl-C)");
    if done.is_empty() && failed.is_empty() && unknown.is_empty() {
        // Only `apply`'s steps are tracked; elsewhere envctl reads, waits or runs a claimed task.
        if resume.is_some() {
            message.push_str(" while no step of the plan was running");
        }
    } else {
        message.push_str("; what was in flight when you pressed it:");
        for d in done {
            message.push_str(&format!("\n  ✓ {d} (finished)"));
        }
        for f in failed {
            message.push_str(&format!("\n  ✗ {f} (failed, see above)"));
        }
        for u in unknown {
            message.push_str(&format!(
                "\n  ? {u} (no answer within {}s: it may or may not have happened)",
                grace.as_secs()
            ));
        }
    }
    let (safe, hint) = match resume {
        Some(cmd) => (
            "The env is safe to leave like this",
            format!("run `{cmd}` to finish the job"),
        ),
        None => (
            "Nothing is left that running the command again cannot finish",
            "run the same command again to finish the job".to_string(),
        ),
    };
    message.push_str(&format!(
        "\n{safe}: envctl keeps no state of its own, every step can be repeated, and the next \
         run starts by reading what exists."
    ));
    Error::Interrupted { message, hint }
}

/// Watches SIGINT for the process (call once, inside the runtime). Never fails: when the signal
/// cannot be watched, Ctrl-C keeps its default (envctl dies at once).
pub fn install() {
    let Some(mut signals) = os_signals() else {
        return;
    };
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while signals.recv().await.is_some() {
            if tx.send(()).is_err() {
                break;
            }
        }
    });
    tokio::spawn(watch(
        global(),
        rx,
        GRACE,
        &|line| eprintln!("{line}"),
        &|code| std::process::exit(code),
    ));
}

#[cfg(unix)]
fn os_signals() -> Option<tokio::signal::unix::Signal> {
    use tokio::signal::unix::{signal, SignalKind};
    signal(SignalKind::interrupt()).ok()
}

/// Elsewhere, `ctrl_c()` one press at a time behind the same interface.
#[cfg(not(unix))]
fn os_signals() -> Option<CtrlC> {
    Some(CtrlC)
}

#[cfg(not(unix))]
struct CtrlC;

#[cfg(not(unix))]
impl CtrlC {
    async fn recv(&mut self) -> Option<()> {
        tokio::signal::ctrl_c().await.ok()
    }
}

/// The watcher: reacts to each press received on `presses`. `exit` ends the process (a
/// recorder in tests, after which the watcher returns).
pub async fn watch(
    state: &Interrupts,
    mut presses: mpsc::UnboundedReceiver<()>,
    grace: Duration,
    say: &(dyn Fn(&str) + Sync),
    exit: &(dyn Fn(i32) + Sync),
) {
    while presses.recv().await.is_some() {
        if state.ignores.load(Ordering::SeqCst) > 0 {
            continue;
        }
        if state.is_requested() {
            say("interrupted again: exiting without waiting");
            exit(exit::INTERRUPTED);
            return;
        }
        let claimed = state.claims.load(Ordering::SeqCst) > 0;
        let running = state.request(!claimed);
        if claimed {
            // The claimer stops what it started and returns its own error.
            continue;
        }
        if !running.is_empty() {
            let mut intro = format!(
                "interrupted: waiting up to {}s for {} step(s) in flight (Ctrl-C again to quit at once):",
                grace.as_secs(),
                running.len()
            );
            for r in &running {
                intro.push_str(&format!("\n  … {r}"));
            }
            say(&intro);
            tokio::select! {
                _ = state.settle(grace) => {}
                again = presses.recv() => {
                    if again.is_some() {
                        say("interrupted again: exiting without waiting");
                        exit(exit::INTERRUPTED);
                        return;
                    }
                    state.settle(grace).await;
                }
            }
        }
        let err = state.report(grace);
        say(&format!("error: {err}"));
        if let Some(hint) = err.hint() {
            say(&format!("hint: {hint}"));
        }
        exit(err.exit_code());
        return;
    }
}

/// The error `apply` returns for a step it did not start because Ctrl-C was pressed.
pub fn not_started(what: &str) -> Error {
    Error::Interrupted {
        message: format!("interrupted (Ctrl-C) before `{what}` started"),
        hint: lock(&global().resume)
            .as_deref()
            .map(|c| format!("run `{c}` to finish the job"))
            .unwrap_or_else(|| "run the same command again to finish the job".into()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    struct Seen {
        lines: Mutex<Vec<String>>,
        codes: Mutex<Vec<i32>>,
    }

    impl Seen {
        fn new() -> Arc<Seen> {
            Arc::new(Seen {
                lines: Mutex::new(vec![]),
                codes: Mutex::new(vec![]),
            })
        }
        fn text(&self) -> String {
            lock(&self.lines).join("\n")
        }
        fn codes(&self) -> Vec<i32> {
            lock(&self.codes).clone()
        }
    }

    /// Runs the watcher on `state` in the background; returns its press sender and what it
    /// printed and exited with.
    fn watcher(
        state: &'static Interrupts,
        grace: Duration,
    ) -> (
        mpsc::UnboundedSender<()>,
        Arc<Seen>,
        tokio::task::JoinHandle<()>,
    ) {
        let (tx, rx) = mpsc::unbounded_channel();
        let seen = Seen::new();
        let s = seen.clone();
        let handle = tokio::spawn(async move {
            let say = |l: &str| lock(&s.lines).push(l.to_string());
            let exit = |c: i32| lock(&s.codes).push(c);
            watch(state, rx, grace, &say, &exit).await
        });
        (tx, seen, handle)
    }

    fn leaked() -> &'static Interrupts {
        Box::leak(Box::new(Interrupts::new()))
    }

    /// Yields until the watcher has taken a press.
    async fn until_requested(state: &Interrupts) {
        let mut rx = state.requested.subscribe();
        tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|r| *r))
            .await
            .expect("the watcher took the press")
            .expect("sender alive");
    }

    #[tokio::test]
    async fn first_ctrl_c_waits_for_the_step_in_flight_then_exits_130() {
        let state = leaked();
        *lock(&state.resume) = Some("envctl up feature-x".into());
        let service = state.step("create service shop-feature-x-web".into());
        let (tx, seen, handle) = watcher(state, Duration::from_secs(30));
        tx.send(()).unwrap();
        until_requested(state).await;
        assert!(state.is_handling());
        assert!(
            seen.codes().is_empty(),
            "waits for the step: {}",
            seen.text()
        );
        assert!(seen.text().contains("… create service shop-feature-x-web"));
        service.finish(true);
        handle.await.unwrap();
        assert_eq!(seen.codes(), [130]);
        let text = seen.text();
        assert!(
            text.contains("✓ create service shop-feature-x-web (finished)"),
            "{text}"
        );
        assert!(text.contains("The env is safe"), "{text}");
        assert!(
            text.contains("hint: run `envctl up feature-x` to finish the job"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_step_without_an_answer_in_time_is_reported_as_unknown() {
        let state = leaked();
        let _stuck = state.step("create log group /envctl/shop/x".into());
        let (tx, seen, handle) = watcher(state, Duration::from_millis(50));
        tx.send(()).unwrap();
        handle.await.unwrap();
        assert_eq!(seen.codes(), [130]);
        let text = seen.text();
        assert!(
            text.contains("? create log group /envctl/shop/x (no answer within 0s"),
            "{text}"
        );
        assert!(
            text.contains("run the same command again to finish the job"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn second_ctrl_c_exits_without_waiting() {
        let state = leaked();
        let _stuck = state.step("create service shop-x-web".into());
        let (tx, seen, handle) = watcher(state, Duration::from_secs(600));
        tx.send(()).unwrap();
        tx.send(()).unwrap();
        handle.await.unwrap();
        assert_eq!(seen.codes(), [130]);
        assert!(
            seen.text()
                .contains("interrupted again: exiting without waiting"),
            "{}",
            seen.text()
        );
        assert!(!seen.text().contains("The env is safe"));
    }

    #[tokio::test]
    async fn nothing_in_flight_exits_at_once_with_the_resume_hint() {
        let state = leaked();
        *lock(&state.resume) = Some("envctl down feature-x".into());
        let (tx, seen, handle) = watcher(state, Duration::from_secs(600));
        tx.send(()).unwrap();
        handle.await.unwrap();
        assert_eq!(seen.codes(), [130]);
        let text = seen.text();
        assert!(
            text.contains("interrupted (Ctrl-C) while no step of the plan was running"),
            "{text}"
        );
        assert!(text.contains("The env is safe"), "{text}");
        assert!(text.contains("run `envctl down feature-x`"), "{text}");
    }

    #[tokio::test]
    async fn a_claimed_ctrl_c_is_left_to_the_claimer_and_a_second_one_exits() {
        let state = leaked();
        let claim = Claim::new(&state.claims);
        let (tx, seen, handle) = watcher(state, Duration::from_secs(600));
        tx.send(()).unwrap();
        until_requested(state).await;
        assert!(!state.is_handling(), "the claimer answers");
        assert!(seen.codes().is_empty() && seen.text().is_empty());
        drop(claim);
        tx.send(()).unwrap();
        handle.await.unwrap();
        assert_eq!(seen.codes(), [130]);
    }

    #[tokio::test]
    async fn ignored_presses_change_nothing() {
        let state = leaked();
        let ignore = Claim::new(&state.ignores);
        let (tx, seen, handle) = watcher(state, Duration::from_secs(600));
        tx.send(()).unwrap();
        tx.send(()).unwrap();
        // The test runtime has one thread: yielding lets the watcher take both presses now.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!state.is_requested());
        drop(ignore);
        // Presses are taken in order: this one comes after the ignored ones, and the watcher
        // answers it as the first.
        tx.send(()).unwrap();
        handle.await.unwrap();
        assert_eq!(seen.codes(), [130]);
        let text = seen.text();
        assert!(!text.contains("interrupted again"), "{text}");
        assert!(text.contains("error: interrupted (Ctrl-C)"), "{text}");
        assert!(
            text.contains("Nothing is left that running the command again cannot finish"),
            "{text}"
        );
    }

    #[test]
    fn steps_that_end_leave_the_registry() {
        let state = Interrupts::new();
        let a = state.step("a".into());
        let b = state.step("b".into());
        a.finish(false);
        drop(b);
        assert!(lock(&state.steps).running.is_empty());
    }
}
