//! The virtual clock in the linker: shadows wasmtime-wasi's
//! `monotonic-clock` functions and its `poll` / `pollable.block` with ones
//! that read and advance each store's [`super::clock::VirtualClock`] and keep
//! waits within the time budget (the clock's model and rules are in
//! [`super::clock`]; this module is only the wiring into the linker).

use super::clock::{self, RESOLUTION_NS, VirtualTimeout, WASI_VERSION};
use super::sandbox::SandboxState;
use super::ticker::deadline_ticks;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::sync::io::poll::{Host as _, HostPollable as _};

/// Replaces wasmtime-wasi's monotonic clock and clock waits in `linker`
/// (which must already hold `wasmtime_wasi::p2::add_to_linker_sync`) with
/// the virtual clock of each store's [`SandboxState`].
pub(crate) fn shadow_wasi(linker: &mut Linker<SandboxState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let result = define(linker);
    linker.allow_shadowing(false);
    result
}

fn define(linker: &mut Linker<SandboxState>) -> wasmtime::Result<()> {
    let mut clock = linker.instance(&format!("wasi:clocks/monotonic-clock@{WASI_VERSION}"))?;
    clock.func_wrap("now", |store: StoreContextMut<'_, SandboxState>, (): ()| {
        Ok((store.data().clock().now(),))
    })?;
    clock.func_wrap(
        "resolution",
        |_: StoreContextMut<'_, SandboxState>, (): ()| Ok((RESOLUTION_NS,)),
    )?;
    clock.func_wrap(
        "subscribe-duration",
        |mut store: StoreContextMut<'_, SandboxState>, (duration,): (u64,)| {
            let at = store.data().clock().now().saturating_add(duration);
            Ok((subscribe_at(store.data_mut(), at)?,))
        },
    )?;
    clock.func_wrap(
        "subscribe-instant",
        |mut store: StoreContextMut<'_, SandboxState>, (at,): (u64,)| {
            Ok((subscribe_at(store.data_mut(), at)?,))
        },
    )?;

    let mut poll = linker.instance(&format!("wasi:io/poll@{WASI_VERSION}"))?;
    poll.func_wrap(
        "poll",
        |mut store: StoreContextMut<'_, SandboxState>,
         (pollables,): (Vec<Resource<DynPollable>>,)| {
            let ready = store.data_mut().table().poll(pollables)?;
            after_wait(&mut store)?;
            Ok((ready,))
        },
    )?;
    poll.func_wrap(
        "[method]pollable.block",
        |mut store: StoreContextMut<'_, SandboxState>, (pollable,): (Resource<DynPollable>,)| {
            store.data_mut().table().block(pollable)?;
            after_wait(&mut store)?;
            Ok(())
        },
    )?;
    Ok(())
}

/// A pollable for the virtual instant `at`.
fn subscribe_at(state: &mut SandboxState, at: u64) -> wasmtime::Result<Resource<DynPollable>> {
    let clock = Arc::clone(state.clock());
    clock::subscribe_at(&clock, state.table(), at)
}

/// After a wait: a wait past the budget ends the call; otherwise the epoch
/// deadline is what remains of the budget, so real time and virtual time
/// together stay within it.
fn after_wait(store: &mut StoreContextMut<'_, SandboxState>) -> wasmtime::Result<()> {
    let (overrun, waited, remaining) = {
        let clock = store.data().clock();
        (clock.overrun(), clock.waited(), clock.remaining())
    };
    if overrun {
        return Err(wasmtime::Error::new(VirtualTimeout));
    }
    if waited > Duration::ZERO {
        let remaining_ms = u64::try_from(remaining.as_millis()).unwrap_or(u64::MAX);
        store.set_epoch_deadline(deadline_ticks(remaining_ms));
    }
    Ok(())
}
