//! The Windows service: the service control dispatcher, the control handler and the status reports, through the
//! `windows-service` crate; the decisions (which status when, which control does what) are
//! [`super::super::winservice`]'s, unit-tested everywhere.
//!
//! `run_service` hands the process's main thread to the SCM (`StartServiceCtrlDispatcherW`); the SCM calls
//! `service_main` on a thread of its own, which registers the control handler, reports StartPending, runs the body
//! (the licensing service) and reports Stopped with the body's exit code. The body reports Running through
//! [`service_ready`] once it listens. Stop and Shutdown report StopPending and trigger the same graceful shutdown
//! as Ctrl+C ([`super::super::request_stop`]).

use std::ffi::OsString;
use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

use windows_service::service::{
    ServiceControl, ServiceControlAccept, ServiceExitCode, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult, ServiceStatusHandle};
use windows_service::{define_windows_service, service_dispatcher};

use super::super::winservice::{Action, Control, Exit, Report, State, Status, action, exit_for};

/// The body the SCM's thread runs: returns `serve`'s exit code.
pub type Body = Box<dyn FnOnce() -> u8 + Send>;

static BODY: Mutex<Option<Body>> = Mutex::new(None);
/// The name given to [`run_service`], for an SCM that passes none to `service_main`.
static NAME: Mutex<String> = Mutex::new(String::new());
/// The status handle and what the SCM has been told, once `service_main` registered.
static STATUS: Mutex<Option<(ServiceStatusHandle, Status)>> = Mutex::new(None);
static EXIT_CODE: AtomicU8 = AtomicU8::new(0);

/// ERROR_FAILED_SERVICE_CONTROLLER_CONNECT: the process was not started by the SCM.
const NOT_STARTED_BY_SCM: i32 = 1063;

define_windows_service!(ffi_service_main, service_main);

/// Run `body` as the Windows service `name`; blocks until it has stopped and returns its exit code. An error of
/// kind `NotConnected` when the process was not started by the Service Control Manager.
pub fn run_service(name: &str, body: Body) -> io::Result<u8> {
    *BODY.lock().unwrap_or_else(|p| p.into_inner()) = Some(body);
    *NAME.lock().unwrap_or_else(|p| p.into_inner()) = name.to_string();
    match service_dispatcher::start(name, ffi_service_main) {
        Ok(()) => Ok(EXIT_CODE.load(Ordering::SeqCst)),
        Err(windows_service::Error::Winapi(e)) if e.raw_os_error() == Some(NOT_STARTED_BY_SCM) => {
            Err(io::Error::new(io::ErrorKind::NotConnected, e))
        }
        Err(windows_service::Error::Winapi(e)) => Err(e),
        Err(e) => Err(io::Error::other(e.to_string())),
    }
}

/// Tell the SCM the service is running (it listens). Nothing when not running as a service, or when a stop has
/// begun already.
pub fn service_ready() {
    report(State::Running, Exit::Ok);
}

fn report(state: State, exit: Exit) {
    let mut held = STATUS.lock().unwrap_or_else(|p| p.into_inner());
    let Some((handle, status)) = held.as_mut() else { return };
    if let Some(r) = status.advance(state, exit) {
        // A failed report leaves the SCM with the previous state; nothing better can be done from here.
        let _ = handle.set_service_status(to_raw(r));
    }
}

fn to_raw(r: Report) -> ServiceStatus {
    ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: match r.state {
            State::StartPending => ServiceState::StartPending,
            State::Running => ServiceState::Running,
            State::StopPending => ServiceState::StopPending,
            State::Stopped => ServiceState::Stopped,
        },
        controls_accepted: if r.accepts_stop {
            ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN
        } else {
            ServiceControlAccept::empty()
        },
        exit_code: match r.exit {
            Exit::Ok => ServiceExitCode::Win32(0),
            Exit::ServiceSpecific(code) => ServiceExitCode::ServiceSpecific(code),
        },
        checkpoint: r.checkpoint,
        wait_hint: r.wait_hint,
        process_id: None,
    }
}

fn current_state() -> State {
    STATUS.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|(_, s)| s.state()).unwrap_or(State::StartPending)
}

fn on_control(control: ServiceControl) -> ServiceControlHandlerResult {
    let control = match control {
        ServiceControl::Stop => Control::Stop,
        ServiceControl::Shutdown => Control::Shutdown,
        ServiceControl::Interrogate => Control::Interrogate,
        _ => Control::Other,
    };
    match action(control, current_state()) {
        Action::BeginStop => {
            report(State::StopPending, Exit::Ok);
            super::super::request_stop();
            ServiceControlHandlerResult::NoError
        }
        Action::Acknowledge => ServiceControlHandlerResult::NoError,
        Action::NotImplemented => ServiceControlHandlerResult::NotImplemented,
    }
}

fn service_main(arguments: Vec<OsString>) {
    // The SCM passes the name the service was installed under first (Install-FciLicensingService.ps1 -ServiceName).
    let name = match arguments.first() {
        Some(given) if !given.is_empty() => given.to_string_lossy().into_owned(),
        _ => NAME.lock().unwrap_or_else(|p| p.into_inner()).clone(),
    };
    let handle = match service_control_handler::register(&name, on_control) {
        Ok(handle) => handle,
        Err(e) => {
            super::report_failure_event(&format!("service {name}: cannot register the control handler: {e}"));
            EXIT_CODE.store(1, Ordering::SeqCst);
            return;
        }
    };
    *STATUS.lock().unwrap_or_else(|p| p.into_inner()) = Some((handle, Status::new()));
    report(State::StartPending, Exit::Ok);
    let body = BODY.lock().unwrap_or_else(|p| p.into_inner()).take();
    let code = body.map(|run| run()).unwrap_or(1);
    EXIT_CODE.store(code, Ordering::SeqCst);
    if code == 0 {
        // A body that returns on its own has finished its shutdown: StopPending first if no stop control said it.
        report(State::StopPending, Exit::Ok);
    }
    report(State::Stopped, exit_for(code));
}
