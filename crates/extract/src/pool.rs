//! The extraction threads: a few long-lived threads with the deep extraction stack,
//! shared by every caller in the process (`postroom extract`, the ingest pipeline, the
//! Lambda handlers).
//!
//! A thread per document cost a thread start, fresh stack pages to fault in and a
//! cross-CPU TLB flush when its stack was unmapped, once per document. The pool keeps
//! one thread per core. Each serves [`JOBS_PER_THREAD`] documents and then hands over to
//! a fresh thread, so that stack pages a deep document touched are given back rather
//! than kept for the life of the process. A job that panics is reported to its caller
//! and the thread carries on.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Stack for extraction threads: deep but bounded recursion in parsers of hostile input
/// must not overflow the (small) stack of an async worker.
const EXTRACT_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Documents a thread extracts before a fresh thread takes over from it.
const JOBS_PER_THREAD: usize = 64;

type Job = Box<dyn FnOnce() + Send>;

/// Why a job gave no answer.
pub type Panic = Box<dyn Any + Send>;

/// Jobs waiting for a thread, and the threads waiting for a job, the one that went idle
/// last on top: the next job goes to it, so that documents that come one at a time are
/// all extracted on one thread, with one allocator arena's memory rather than one per
/// thread (measured: the Lambda's peak for ten 20 MB documents, 102 MB handed round
/// two threads, 62 MB on one).
#[derive(Default)]
struct Pool {
    queue: VecDeque<Job>,
    idle: Vec<Sender<Job>>,
}

fn pool() -> Option<MutexGuard<'static, Pool>> {
    static POOL: OnceLock<Option<Mutex<Pool>>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 8));
        let started = (0..threads).filter(|_| start().is_ok()).count();
        // Not one thread could start: callers fall back to a thread of their own.
        (started > 0).then(|| Mutex::new(Pool::default()))
    });
    pool.as_ref()
        .map(|p| p.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
}

/// An extraction thread: named, with the deep stack.
fn thread() -> std::thread::Builder {
    std::thread::Builder::new()
        .name("extract".into())
        .stack_size(EXTRACT_STACK_BYTES)
}

fn start() -> std::io::Result<()> {
    thread().spawn(serve).map(drop)
}

/// A pool thread: takes a waiting job, or waits on top of the idle stack for one; after
/// its share it starts its successor (or, if none can start, goes on serving itself, so
/// that the pool never shrinks to none).
fn serve() {
    let (me, jobs) = channel::<Job>();
    let mut served = 0;
    loop {
        let queued = match pool() {
            Some(mut pool) => pool.queue.pop_front().or_else(|| {
                pool.idle.push(me.clone());
                None
            }),
            None => return,
        };
        let job = match queued {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        job();
        served += 1;
        if served >= JOBS_PER_THREAD && start().is_ok() {
            return;
        }
    }
}

/// Runs `work` on an extraction thread and calls `done` there with its result (or the
/// panic that stopped it).
pub fn submit<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
    done: impl FnOnce(Result<T, Panic>) + Send + 'static,
) -> Result<(), String> {
    let job: Job = Box::new(move || done(catch_unwind(AssertUnwindSafe(work))));
    let Some(mut pool) = pool() else {
        return thread()
            .spawn(job)
            .map(drop)
            .map_err(|e| format!("could not start an extraction thread: {e}"));
    };
    match pool.idle.pop() {
        Some(thread) => {
            drop(pool);
            // An idle thread waits on its channel until it is sent a job.
            thread
                .send(job)
                .map_err(|_| "an extraction thread stopped".to_owned())
        }
        None => {
            pool.queue.push_back(job);
            Ok(())
        }
    }
}

/// Runs `work` on an extraction thread and waits for it (for callers that are not async).
pub fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let (tx, rx) = channel();
    submit(work, move |result| {
        let _ = tx.send(result);
    })?;
    answer(rx.recv().ok())
}

/// Runs `work` on an extraction thread and awaits it without holding an async worker or
/// a thread of the blocking pool.
pub async fn run_async<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    submit(work, move |result| {
        let _ = tx.send(result);
    })?;
    answer(rx.await.ok())
}

/// What a caller is told of its job: the value, or why there is none.
fn answer<T>(received: Option<Result<T, Panic>>) -> Result<T, String> {
    match received {
        Some(Ok(value)) => Ok(value),
        Some(Err(_)) => Err("the extraction panicked".to_owned()),
        None => Err("the extraction thread stopped without an answer".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_the_deep_stack_and_a_panic_is_reported_not_fatal() {
        let name = run(|| std::thread::current().name().map(str::to_owned)).expect("run");
        assert_eq!(name.as_deref(), Some("extract"));
        assert!(run(|| -> u8 { panic!("a parser bug") }).is_err());
        // The threads carry on, past the point where each hands over to a fresh one.
        for i in 0..3 * JOBS_PER_THREAD {
            assert_eq!(run(move || i * 2).expect("run"), i * 2);
        }
    }

    #[tokio::test]
    async fn async_callers_await_without_blocking() {
        let answers = futures::future::join_all((0..32).map(|i| run_async(move || i + 1))).await;
        let sum: usize = answers.into_iter().map(|a| a.expect("answer")).sum();
        assert_eq!(sum, (1..=32).sum::<usize>());
    }
}
