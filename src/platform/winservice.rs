//! The decisions of the Windows service (`serve --windows-service`) as pure functions and a small state machine,
//! compiled on every platform so their unit tests run anywhere: which status the Service Control Manager is told
//! at each step (StartPending → Running → StopPending → Stopped, with checkpoints and wait hints while pending),
//! which controls the service takes in each state, what a control asks for, and the exit code the SCM records.
//! `windows/service.rs` turns these into `SetServiceStatus` calls through the `windows-service` crate.

use std::time::Duration;

/// The SCM's service states this service goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    StartPending,
    Running,
    StopPending,
    Stopped,
}

/// A control the SCM sends, as far as the service tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Stop,
    /// The machine shuts down (SERVICE_CONTROL_SHUTDOWN).
    Shutdown,
    /// The SCM asks for the current status again.
    Interrogate,
    /// Pause, parameter change, device events, …: not taken.
    Other,
}

/// What the control handler does with a control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Report StopPending and trigger the service's graceful shutdown (in-flight requests finish).
    BeginStop,
    /// Answer NO_ERROR and do nothing else (Interrogate; a second Stop while stopping).
    Acknowledge,
    /// Answer ERROR_CALL_NOT_IMPLEMENTED.
    NotImplemented,
}

/// The exit code the SCM records when the service stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// NO_ERROR.
    Ok,
    /// ERROR_SERVICE_SPECIFIC_ERROR with this code: the exit code `serve` would have ended with
    /// (docs/EXIT-CODES.md), so `sc query` shows why it stopped.
    ServiceSpecific(u32),
}

/// One status report, ready for `SetServiceStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    pub state: State,
    /// Stop and Shutdown are taken only while running: a start still loading keys or a stop under way cannot be
    /// stopped again (the SCM then answers "cannot accept control" itself).
    pub accepts_stop: bool,
    /// Increases with every report of a pending state; 0 otherwise.
    pub checkpoint: u32,
    /// How long the SCM waits for the next report of a pending state; zero otherwise.
    pub wait_hint: Duration,
    pub exit: Exit,
}

/// How long a start may take before the next report: keys, templates and the store are loaded (PostgreSQL may be
/// slow to answer).
pub const START_WAIT: Duration = Duration::from_secs(60);
/// How long a stop may take: the in-flight requests' drain time of the HTTP server and a margin.
pub const STOP_WAIT: Duration = Duration::from_secs(40);

/// What a control asks for in `state`.
pub fn action(control: Control, state: State) -> Action {
    match control {
        Control::Stop | Control::Shutdown => match state {
            State::Running | State::StartPending => Action::BeginStop,
            State::StopPending | State::Stopped => Action::Acknowledge,
        },
        Control::Interrogate => Action::Acknowledge,
        Control::Other => Action::NotImplemented,
    }
}

/// The exit code for `serve`'s own exit code (0: success).
pub fn exit_for(code: u8) -> Exit {
    if code == 0 { Exit::Ok } else { Exit::ServiceSpecific(u32::from(code)) }
}

/// The status the SCM has been told, moved on by the service's events. States only go forward: a "ready" that
/// arrives after a stop began is not reported (the SCM would think the service started again).
#[derive(Debug)]
pub struct Status {
    state: State,
    checkpoint: u32,
}

impl Default for Status {
    fn default() -> Self {
        Self::new()
    }
}

impl Status {
    /// Before the first report.
    pub fn new() -> Status {
        Status { state: State::StartPending, checkpoint: 0 }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// The report for moving to `next` (or for staying in a pending state: a new checkpoint); `None` when `next`
    /// would go backwards or the service has stopped already.
    pub fn advance(&mut self, next: State, exit: Exit) -> Option<Report> {
        let rank = |s: State| match s {
            State::StartPending => 0,
            State::Running => 1,
            State::StopPending => 2,
            State::Stopped => 3,
        };
        let repeated_running = next == State::Running && self.state == State::Running;
        if self.state == State::Stopped || rank(next) < rank(self.state) || repeated_running {
            return None;
        }
        self.state = next;
        let pending = matches!(next, State::StartPending | State::StopPending);
        self.checkpoint = if pending { self.checkpoint + 1 } else { 0 };
        let wait_hint = match next {
            State::StartPending => START_WAIT,
            State::StopPending => STOP_WAIT,
            _ => Duration::ZERO,
        };
        Some(Report {
            state: next,
            accepts_stop: next == State::Running,
            checkpoint: self.checkpoint,
            wait_hint,
            exit: if next == State::Stopped { exit } else { Exit::Ok },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_normal_life_start_pending_running_stop_pending_stopped() {
        let mut s = Status::new();
        let start = s.advance(State::StartPending, Exit::Ok).unwrap();
        assert_eq!((start.state, start.accepts_stop, start.checkpoint), (State::StartPending, false, 1));
        assert_eq!(start.wait_hint, START_WAIT);
        let running = s.advance(State::Running, Exit::Ok).unwrap();
        assert_eq!((running.accepts_stop, running.checkpoint, running.wait_hint), (true, 0, Duration::ZERO));
        assert_eq!(action(Control::Stop, s.state()), Action::BeginStop);
        let stopping = s.advance(State::StopPending, Exit::Ok).unwrap();
        assert_eq!((stopping.accepts_stop, stopping.checkpoint, stopping.wait_hint), (false, 1, STOP_WAIT));
        let stopped = s.advance(State::Stopped, exit_for(0)).unwrap();
        assert_eq!((stopped.state, stopped.exit, stopped.checkpoint), (State::Stopped, Exit::Ok, 0));
        // Nothing after Stopped.
        assert_eq!(s.advance(State::Running, Exit::Ok), None);
        assert_eq!(s.advance(State::Stopped, Exit::Ok), None);
    }

    #[test]
    fn pending_reports_count_checkpoints_and_states_never_go_back() {
        let mut s = Status::new();
        assert_eq!(s.advance(State::StartPending, Exit::Ok).unwrap().checkpoint, 1);
        assert_eq!(s.advance(State::StartPending, Exit::Ok).unwrap().checkpoint, 2);
        // A stop while starting: the service reports StopPending, and its "ready" that arrives later is dropped.
        assert_eq!(action(Control::Shutdown, s.state()), Action::BeginStop);
        assert_eq!(s.advance(State::StopPending, Exit::Ok).unwrap().checkpoint, 3);
        assert_eq!(s.advance(State::Running, Exit::Ok), None);
        assert_eq!(s.state(), State::StopPending);
        // A second Stop while stopping is acknowledged, not acted on again.
        assert_eq!(action(Control::Stop, s.state()), Action::Acknowledge);
        let stopped = s.advance(State::Stopped, exit_for(6)).unwrap();
        assert_eq!(stopped.exit, Exit::ServiceSpecific(6));
        assert!(!stopped.accepts_stop);
    }

    #[test]
    fn a_failed_start_goes_straight_to_stopped_with_serves_exit_code() {
        let mut s = Status::new();
        s.advance(State::StartPending, Exit::Ok).unwrap();
        let stopped = s.advance(State::Stopped, exit_for(6)).unwrap();
        assert_eq!((stopped.state, stopped.exit), (State::Stopped, Exit::ServiceSpecific(6)));
        // Running twice is one report.
        let mut s = Status::new();
        s.advance(State::Running, Exit::Ok).unwrap();
        assert_eq!(s.advance(State::Running, Exit::Ok), None);
    }

    #[test]
    fn controls() {
        assert_eq!(action(Control::Interrogate, State::Running), Action::Acknowledge);
        assert_eq!(action(Control::Other, State::Running), Action::NotImplemented);
        assert_eq!(action(Control::Stop, State::Stopped), Action::Acknowledge);
        assert_eq!(exit_for(0), Exit::Ok);
        assert_eq!(exit_for(20), Exit::ServiceSpecific(20));
    }
}
